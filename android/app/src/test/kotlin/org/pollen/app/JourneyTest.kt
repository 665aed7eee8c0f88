package org.pollen.app

import android.app.Activity
import android.app.AlertDialog
import android.app.NotificationManager
import android.content.Intent
import android.graphics.drawable.BitmapDrawable
import android.os.Looper
import android.provider.MediaStore
import android.provider.Settings
import android.view.WindowManager
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.ImageView
import android.widget.ListView
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.pollen.android.LoopbackMesh
import org.pollen.android.MeshPermissions
import org.pollen.android.MessageNotifier
import org.pollen.android.Pollen
import uniffi.pollen.DeliveryReceipts
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowAlertDialog

/**
 * Two people's apps in one JVM, each with its own core and data directory,
 * joined by loopback links through a third node that only carries. Every
 * step goes through the activities' views.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE, application = JourneyApp::class)
class JourneyTest {
    private lateinit var root: File
    private val mesh = LoopbackMesh()
    private lateinit var carrier: Pollen
    private val connections = mutableListOf<LoopbackConnection>()
    private val activities = mutableListOf<ActivityController<MainActivity>>()
    private val app: JourneyApp get() = RuntimeEnvironment.getApplication() as JourneyApp

    @Before
    fun mesh() {
        root = Files.createTempDirectory("pollen-journey").toFile()
        carrier = runBlocking { Pollen.create(File(root, "carrier").path, "Carrier") }
        mesh.join(CARRIER, carrier)
        runBlocking { carrier.start(LoopbackConnection.OFFLINE) }
        shadowOf(app).grantPermissions(*MeshPermissions.runtime(35).toTypedArray())
    }

    @After
    fun close() {
        // The activities first: their coroutines must not outlive the nodes.
        activities.forEach { it.pause().stop().destroy() }
        connections.forEach { it.close() }
        carrier.close()
        mesh.close()
        root.deleteRecursively()
    }

    /** [who]'s app: a connection to a node of their own (linked to [carrier] when it is in the mesh), and the activity showing it. */
    private fun launch(who: String, carrier: String = CARRIER): ActivityController<MainActivity> {
        val open = Intent(app, MainActivity::class.java).putExtra(JourneyApp.WHO, who)
        val notifier = MessageNotifier(app) { Intent(open) }
        val dir = File(root, who).apply { mkdirs() }
        connections += LoopbackConnection(dir, who, mesh, carrier, notifier).also { app.connections[who] = it }
        return Robolectric.buildActivity(MainActivity::class.java, Intent(open)).setup().also { activities += it }
    }

    private fun Activity.timeline(): List<String> =
        findViewById<ListView>(ChatScreen.TIMELINE_ID)?.lines().orEmpty()

    private fun Activity.scan(photo: android.graphics.Bitmap) {
        window.decorView.button("Scan a QR code (camera)").performClick()
        val camera = shadowOf(this).nextStartedActivityForResult
        assertEquals(MediaStore.ACTION_IMAGE_CAPTURE, camera.intent.action)
        shadowOf(this).receiveResult(camera.intent, Activity.RESULT_OK, Intent().putExtra("data", photo))
    }

    /** Taps [name], once the contact list shows them alone, and waits for the chat. */
    private fun Activity.openChatWithTheOnlyContact(name: String) {
        val contacts = findViewById<ListView>(ContactsScreen.CONTACT_LIST_ID)
        until("$name is the contact") { contacts.lines() == listOf(name) }
        contacts.performItemClick(contacts, 0, 0)
        until("the chat with $name opens") { findViewById<ListView>(ChatScreen.TIMELINE_ID) != null }
    }

    private fun Activity.send(text: String) {
        findViewById<EditText>(ChatScreen.DRAFT_ID).setText(text)
        findViewById<Button>(ChatScreen.SEND_ID).performClick()
    }

    @Test
    fun anaAddsChenFromHisQrCodeTheyTalkAndHerMessageIsDelivered() {
        // Chen has used Pollen before; his app shows his card as a QR code.
        // He chose receipts at once (by default they wait for their batch).
        runBlocking {
            Pollen.create(File(root, "chen").apply { mkdirs() }.path, "Chen").apply {
                setDeliveryReceipts(DeliveryReceipts.IMMEDIATE)
            }.close()
        }
        val chenApp = launch("chen")
        val chen = chenApp.get()
        chen.window.decorView.button("Contacts").performClick()
        val qr = chen.findViewById<ImageView>(ContactsScreen.QR_ID)
        until("Chen's QR code is drawn") { qr.drawable is BitmapDrawable }
        val photo = (qr.drawable as BitmapDrawable).bitmap

        // Ana's first run: her name makes her identity.
        val anaApp = launch("ana")
        val ana = anaApp.get()
        assertTrue("first run asks for a name", ana.findViewById<EditText>(FirstRunScreen.NAME_ID).isShown)
        ana.findViewById<EditText>(FirstRunScreen.NAME_ID).setText("Ana")
        ana.findViewById<Button>(FirstRunScreen.CREATE_ID).performClick()
        // Asked, with the reason, to be let run in the background.
        val battery = ShadowAlertDialog.getLatestAlertDialog()
        assertEquals(BatteryExemption.REASON, shadowOf(battery).message.toString())
        battery.getButton(AlertDialog.BUTTON_POSITIVE).performClick()
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(Settings.ACTION_REQUEST_IGNORE_BATTERY_OPTIMIZATIONS, shadowOf(ana).nextStartedActivity.action)
        ana.window.decorView.button("Contacts").performClick()
        val anaQr = ana.findViewById<ImageView>(ContactsScreen.QR_ID)
        until("Ana's identity exists (her own QR code is drawn)") { anaQr.drawable is BitmapDrawable }

        // They meet and photograph each other's screen: the camera hands
        // each app the picture, which it decodes (ZXing) and adds.
        chen.scan((anaQr.drawable as BitmapDrawable).bitmap)
        ana.scan(photo)
        val contacts = ana.findViewById<ListView>(ContactsScreen.CONTACT_LIST_ID)
        until("Chen is in Ana's contacts") { contacts.lines() == listOf("Chen") }
        val chenContacts = chen.findViewById<ListView>(ContactsScreen.CONTACT_LIST_ID)
        until("Ana is in Chen's contacts") { chenContacts.lines() == listOf("Ana") }

        // Chen's app goes to the background.
        chenApp.pause().stop()

        contacts.performItemClick(contacts, 0, 0)
        until("Ana's chat with Chen opens") { ana.findViewById<ListView>(ChatScreen.TIMELINE_ID) != null }
        val notifications = shadowOf(app.getSystemService(NotificationManager::class.java))
        val sentAt = System.nanoTime()
        ana.send("hello Chen, it's Ana")
        until("Chen's app posts a notification", timeoutMs = 30_000) {
            notifications.allNotifications.any { fromAna(it.extras.getString("android.title")) }
        }
        val notifiedMs = (System.nanoTime() - sentAt) / 1_000_000
        println("     journey: Ana tapped send -> Chen's notification after $notifiedMs ms (loopback, via a carrier)")
        val posted = notifications.allNotifications.single { fromAna(it.extras.getString("android.title")) }
        assertEquals("hello Chen, it's Ana", posted.extras.getCharSequence("android.text").toString())

        // Chen taps it: his app comes back with the chat open.
        val tap = shadowOf(posted.contentIntent).savedIntent
        assertEquals("chen", tap.getStringExtra(JourneyApp.WHO))
        chenApp.newIntent(tap).restart().resume()
        until("Chen's chat shows Ana's message") {
            chen.timeline().contains("Ana: hello Chen, it's Ana")
        }

        chen.send("hi Ana! see you at the station")
        until("Ana's timeline shows Chen's reply", timeoutMs = 30_000) {
            ana.timeline().contains("Chen: hi Ana! see you at the station")
        }
        until("Ana's message is delivered", timeoutMs = 30_000) {
            ana.timeline().any { it.matches(Regex("me · (delivered|read): hello Chen, it's Ana")) }
        }
        println("     journey: Ana's timeline ${ana.timeline()}")
    }

    @Test
    fun whileChenIsAwayAnaSeesHowManyCarriedHerMessage() {
        // Chen is not in range: only his card reaches Ana (pasted).
        val chenCard = runBlocking {
            Pollen.create(File(root, "chen").apply { mkdirs() }.path, "Chen").use { it.card() }
        }
        val anaApp = launch("ana")
        val ana = anaApp.get()
        until("first run asks for a name") { ana.findViewById<android.view.View>(FirstRunScreen.NAME_ID) is EditText }
        ana.findViewById<EditText>(FirstRunScreen.NAME_ID).setText("Ana")
        ana.findViewById<Button>(FirstRunScreen.CREATE_ID).performClick()
        ShadowAlertDialog.getLatestAlertDialog()?.getButton(AlertDialog.BUTTON_NEGATIVE)?.performClick()
        shadowOf(Looper.getMainLooper()).idle()
        ana.window.decorView.button("Contacts").performClick()
        val anaQr = ana.findViewById<ImageView>(ContactsScreen.QR_ID)
        until("Ana's node is up (her own QR code is drawn)") { anaQr.drawable is BitmapDrawable }
        ana.findViewById<EditText>(ContactsScreen.PASTE_ID).setText(chenCard)
        ana.window.decorView.button("Add").performClick()
        ana.openChatWithTheOnlyContact("Chen")

        ana.send("I left water at the school")
        // The carrier node in range takes a copy and acknowledges it.
        try {
            until("Ana sees her message carried", timeoutMs = 30_000) {
                ana.timeline().contains("me · carried by 1: I left water at the school")
            }
        } catch (e: AssertionError) {
            throw AssertionError("${e.message}; Ana's timeline: ${ana.timeline()}", e)
        }
        println("     journey: Ana's timeline while Chen is away ${ana.timeline()}")

        // The Nearby screen: the carrier in reach, her message waiting.
        ana.window.decorView.button("Nearby").performClick()
        val nearby = { ana.findViewById<ListView>(NearbyScreen.LINES_ID)?.lines().orEmpty() }
        until("Nearby shows the carrier and the waiting message") {
            nearby().containsAll(listOf("In reach: 1 over phone link", "1 of your messages is waiting for its recipient"))
        }
        println("     journey: Ana's Nearby screen ${nearby()}")
    }

    /** Clicks Settings' [button], and answers the file picker it opens (of [action]) with [file]. */
    private fun Activity.bundle(button: String, action: String, file: File) {
        window.decorView.button("Settings").performClick()
        window.decorView.button(button).performClick()
        val picker = shadowOf(this).nextStartedActivityForResult
        assertEquals(action, picker.intent.action)
        shadowOf(this).receiveResult(picker.intent, Activity.RESULT_OK, Intent().setData(android.net.Uri.fromFile(file)))
    }

    private fun Activity.bundleLine(): String =
        findViewById<android.widget.TextView>(SettingsScreen.BUNDLE_ID)?.text?.toString().orEmpty()

    @Test
    fun withNoLinkAtAllABundleFromSettingsCarriesAnasMessageAndChensReceiptBack() {
        // Two phones that know each other but never meet: a USB stick goes between them.
        runBlocking {
            val ana = Pollen.create(File(root, "ana").apply { mkdirs() }.path, "Ana")
            val chen = Pollen.create(File(root, "chen").apply { mkdirs() }.path, "Chen")
            ana.addContactFromInput(chen.card())
            chen.addContactFromInput(ana.card())
            // His receipt goes at once (by default it waits for its batch).
            chen.setDeliveryReceipts(DeliveryReceipts.IMMEDIATE)
            ana.close()
            chen.close()
        }
        val ana = launch("ana", carrier = NOBODY).get()
        val chen = launch("chen", carrier = NOBODY).get()
        ana.window.decorView.button("Contacts").performClick()
        ana.openChatWithTheOnlyContact("Chen")
        ana.send("the bridge is out, take the ferry")
        until("Ana's message waits") { ana.timeline().contains("me · queued: the bridge is out, take the ferry") }

        val stick = File(root, "stick.pollen")
        ana.bundle(SettingsScreen.EXPORT, Intent.ACTION_CREATE_DOCUMENT, stick)
        until("Ana's export says what it wrote") { ana.bundleLine().startsWith("1 message and 0 receipts written") }
        assertTrue("the file is on the stick", stick.length() > 0)

        chen.bundle(SettingsScreen.IMPORT, Intent.ACTION_OPEN_DOCUMENT, stick)
        until("Chen's import says what it brought") { chen.bundleLine().startsWith("1 new for you") }
        chen.window.decorView.button("Chats").performClick()
        val chats = chen.findViewById<ListView>(ConversationsScreen.CHAT_LIST_ID)
        until("Ana's message is in Chen's chat list") { chats.lines().any { it.contains("the bridge is out") } }

        // Chen's receipt goes back the same way: Ana's message is delivered.
        chen.bundle(SettingsScreen.EXPORT, Intent.ACTION_CREATE_DOCUMENT, stick)
        until("Chen's export wrote his receipt") { Regex("\\d+ messages? and 1 receipt written.*").matches(chen.bundleLine()) }
        ana.bundle(SettingsScreen.IMPORT, Intent.ACTION_OPEN_DOCUMENT, stick)
        until("Ana's import delivered her message") { ana.bundleLine().contains("1 of your messages delivered") }
        assertEquals("no links were ever opened", 0, mesh.linksOpened.get())
        println("     journey: by bundle only: Ana '${ana.bundleLine()}', Chen '${chen.bundleLine()}'")
    }

    @Test
    fun erasingEverythingFromSettingsLeavesNoTraceAndStartsAgainAtTheFirstRun() {
        val oldCard = runBlocking {
            Pollen.create(File(root, "ana").apply { mkdirs() }.path, "Ana").use {
                it.addContactFromInput(carrier.card(), "Carrier")
                it.card()
            }
        }
        val ana = launch("ana").get()
        ana.window.decorView.button("Contacts").performClick()
        ana.openChatWithTheOnlyContact("Carrier")
        ana.send("meet at the water tower")
        until("the message is written") { ana.timeline().any { it.endsWith("meet at the water tower") } }

        ana.window.decorView.button("Settings").performClick()
        ana.window.decorView.button(SettingsScreen.ERASE).performClick()
        val ask = ShadowAlertDialog.getLatestAlertDialog()
        assertEquals(uniffi.pollen.eraseWarning(), shadowOf(ask).message.toString())
        ask.getButton(AlertDialog.BUTTON_POSITIVE).performClick()
        until("the first run is shown again") { ana.findViewById<android.view.View>(FirstRunScreen.NAME_ID)?.isShown == true }
        val dir = File(root, "ana")
        assertTrue("nothing of Ana's node is left: ${dir.list()?.toList()}", !dir.exists() || dir.list().isNullOrEmpty())
        val left = if (dir.exists()) dir.walkTopDown().filter { it.isFile }.toList() else emptyList()
        assertTrue("the text is nowhere on disk", left.none { it.readBytes().toString(Charsets.ISO_8859_1).contains("water tower") })

        // Starting again makes a new identity.
        ana.findViewById<EditText>(FirstRunScreen.NAME_ID).setText("Ana")
        ana.findViewById<Button>(FirstRunScreen.CREATE_ID).performClick()
        ShadowAlertDialog.getLatestAlertDialog()?.getButton(AlertDialog.BUTTON_NEGATIVE)?.performClick()
        val node = { (app.connections["ana"] as LoopbackConnection).pollen?.takeIf { !it.isClosed } }
        until("a new identity runs") { node()?.let { runBlocking { it.card() } != oldCard } == true }
        ana.window.decorView.button("Contacts").performClick()
        val contacts = ana.findViewById<ListView>(ContactsScreen.CONTACT_LIST_ID)
        until("the contacts screen shows the new node's (none)") { contacts.lines().isEmpty() }
        assertEquals("no contact survived in the core", emptyList<String>(), runBlocking { node()!!.contacts() }.map { it.alias })
    }

    @Test
    fun theScreensStayOutOfScreenshotsUntilSwitchedOffInSettingsAndTheChoiceIsKept() {
        runBlocking { Pollen.create(File(root, "ana").apply { mkdirs() }.path, "Ana").close() }
        val app1 = launch("ana")
        val ana = app1.get()
        val secure = { ana.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0 }
        assertTrue("private from the first frame", secure())
        ana.window.decorView.button("Settings").performClick()
        val box = ana.findViewById<CheckBox>(SettingsScreen.PRIVATE_ID)
        until("the box shows the core's choice (on)") { box.isChecked }

        box.performClick()
        until("the window lets screenshots in, and the core keeps it") {
            !secure() && (app.connections["ana"] as LoopbackConnection).pollen?.let { runBlocking { it.screenPrivate() } } == false
        }
        box.performClick()
        until("private again") { secure() && box.isChecked }
        box.performClick()
        until("off again") { !secure() && !box.isChecked }

        // The app opened again: private until the node answers, then as the user chose.
        app1.pause().stop().destroy()
        activities.remove(app1)
        (app.connections.remove("ana") as LoopbackConnection).close()
        val again = launch("ana").get()
        val secureAgain = { again.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0 }
        until("the kept choice is applied") { !secureAgain() }
    }

    /** Ana and Chen, contacts of each other from before, each on a node of their own; [chenSets] runs on Chen's node first. */
    private fun anaAndChenKnowEachOther(chenSets: suspend (Pollen) -> Unit = {}) = runBlocking {
        val ana = Pollen.create(File(root, "ana").apply { mkdirs() }.path, "Ana")
        val chen = Pollen.create(File(root, "chen").apply { mkdirs() }.path, "Chen")
        ana.addContactFromInput(chen.card())
        chen.addContactFromInput(ana.card())
        chenSets(chen)
        ana.close()
        chen.close()
    }

    /** Both apps launched, each showing its chat with the other. */
    private fun bothChatsOpen(): Pair<MainActivity, MainActivity> {
        val ana = launch("ana").get()
        val chen = launch("chen").get()
        for ((app, other) in listOf(ana to "Chen", chen to "Ana")) {
            app.window.decorView.button("Contacts").performClick()
            app.openChatWithTheOnlyContact(other)
        }
        return ana to chen
    }

    /** The timeline's row whose line is [line], with its attachment as the core described it. */
    private fun Activity.row(line: String): Pair<ChatScreen.Row, android.view.View>? {
        val list = findViewById<ListView>(ChatScreen.TIMELINE_ID) ?: return null
        val i = list.lines().indexOf(line).takeIf { it >= 0 } ?: return null
        return (list.adapter.getItem(i) as ChatScreen.Row) to list.adapter.getView(i, null, list)
    }

    private fun android.view.View.attachmentLabel() = findViewById<android.widget.TextView>(ChatScreen.ATTACHMENT_LABEL_ID).text.toString()

    private fun android.view.View.ring() = findViewById<android.widget.ProgressBar>(ChatScreen.ATTACHMENT_RING_ID)

    /** Answers the document picker [activity] opened with [uri]. */
    private fun Activity.pick(uri: android.net.Uri) {
        findViewById<Button>(ChatScreen.ATTACH_ID).performClick()
        val picker = shadowOf(this).nextStartedActivityForResult
        assertEquals(Intent.ACTION_OPEN_DOCUMENT, picker.intent.action)
        assertTrue(picker.intent.categories.contains(Intent.CATEGORY_OPENABLE))
        shadowOf(this).receiveResult(picker.intent, Activity.RESULT_OK, Intent().setData(uri))
    }

    /** What another app reads through the URI a tap on [row]'s attachment opened in [activity] (the type it was told too). */
    private fun Activity.opened(row: android.view.View): Pair<String?, ByteArray> {
        shadowOf(app).clearNextStartedActivities()
        row.findViewById<android.view.View>(ChatScreen.ATTACHMENT_ID).performClick()
        var view: Intent? = null
        until("the attachment is opened in another app") { view = shadowOf(this).nextStartedActivity; view != null }
        assertEquals(Intent.ACTION_VIEW, view!!.action)
        assertEquals(AttachmentProvider.AUTHORITY, view!!.data?.authority)
        assertTrue("a read grant goes with it", view!!.flags and Intent.FLAG_GRANT_READ_URI_PERMISSION != 0)
        val bytes = contentResolver.openInputStream(view!!.data!!)!!.use { it.readBytes() }
        return view!!.type to bytes
    }

    // Legacy graphics here, never @GraphicsMode(NATIVE): a sandbox of another
    // mode loads its own copy of the bindings, which registers the callback
    // tables in the one Rust library again, and the links of the tests after
    // it (back in this sandbox) would call into the other copy and be lost.
    @Test
    fun anaSendsAPhotoWithTextAndChensChatShowsItInlineOnceItCameAndOpensIt() {
        Robolectric.setupContentProvider(TestDocuments::class.java, TestDocuments.AUTHORITY)
        Robolectric.setupContentProvider(AttachmentProvider::class.java, AttachmentProvider.AUTHORITY)
        anaAndChenKnowEachOther()
        val (ana, chen) = bothChatsOpen()
        val photo = File(root, "harbour.png").apply { writeBytes(png(1200, 900)) }

        // Ana writes a line, picks the photo in the system picker: both go.
        ana.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("the ferry leaves from here")
        ana.pick(TestDocuments.offer(photo, "image/png"))
        val line = Regex("me · [a-z ]+\\d*: the ferry leaves from here")
        until("Ana's message with the photo is in her chat") { ana.timeline().any(line::matches) }
        assertEquals("the draft went with it", "", ana.findViewById<EditText>(ChatScreen.DRAFT_ID).text.toString())
        val (mine, mineView) = ana.row(ana.timeline().first(line::matches))!!
        val sent = mine.attachment!!
        assertEquals("harbour.png", sent.name)
        assertEquals("image/png", sent.mime)
        assertEquals(photo.length().toULong(), sent.size)
        assertEquals(uniffi.pollen.AttachmentKind.IMAGE, sent.kind)
        assertEquals("her own is whole", uniffi.pollen.AttachmentState.WHOLE, sent.state)
        assertEquals(sent.label, mineView.attachmentLabel())
        // The thumbnail the app made: a JPEG the core took, at most 160 px and 8 KiB.
        assertTrue("a thumbnail was made (${sent.thumbnail.size} bytes)", sent.thumbnail.size in 1..uniffi.pollen.attachmentLimits().maxThumbnailBytes.toInt())
        val thumb = android.graphics.BitmapFactory.decodeByteArray(sent.thumbnail, 0, sent.thumbnail.size)
        assertEquals(listOf(160, 120), listOf(thumb.width, thumb.height))

        // Small, from a contact: it comes to Chen without asking, and shows inline.
        // Usually about 0.2 s. No event says a chunk came: when the message's
        // refresh reads the store before the chunks are in, only the open
        // chat's poll every second shows the photo, and that poll runs on
        // the test's clock, which is moved on here. (Once, on a loaded CI
        // machine, this wait did not move it and ran out at 30 s.)
        val photoMs = until("Chen's chat shows the photo whole", timeoutMs = 90_000) {
            shadowOf(Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(250))
            chen.row("Ana: the ferry leaves from here")?.first?.attachment?.state == uniffi.pollen.AttachmentState.WHOLE
        }
        println("     journey: Ana picked the photo -> whole in Chen's chat after $photoMs ms")
        val (row, view) = chen.row("Ana: the ferry leaves from here")!!
        val got = row.attachment!!
        assertEquals("harbour.png · ${photo.length() / 1000} KB", got.label)
        assertEquals(got.label, view.attachmentLabel())
        assertEquals(android.view.View.GONE, view.ring().visibility)
        val image = view.findViewById<ImageView>(ChatScreen.ATTACHMENT_IMAGE_ID)
        assertEquals(android.view.View.VISIBLE, image.visibility)
        val shown = (image.drawable as BitmapDrawable).bitmap
        // The photo itself, downsampled (1200 → 600), not the 160 px thumbnail.
        assertEquals(listOf(600, 450), listOf(shown.width, shown.height))
        assertEquals("the sky at the top", android.graphics.Color.rgb(0x87, 0xCE, 0xEB), shown.getPixel(5, 5))

        // A tap opens it in the phone's viewer, which reads the very bytes Ana picked.
        val (type, bytes) = chen.opened(view)
        assertEquals("image/png", type)
        assertTrue("the viewer reads the photo", bytes.contentEquals(photo.readBytes()))
    }

    @Test
    fun aFileOverChensLimitWaitsForHisTapThenComesWithItsProgressShown() {
        Robolectric.setupContentProvider(TestDocuments::class.java, TestDocuments.AUTHORITY)
        Robolectric.setupContentProvider(AttachmentProvider::class.java, AttachmentProvider.AUTHORITY)
        // Chen lets only tiny files come on their own.
        anaAndChenKnowEachOther { it.setAutoFetchLimits(uniffi.pollen.AutoFetchLimits(bluetoothBytes = 1_000UL, wifiBytes = 1_000UL)) }
        // Ana is near the carrier; Chen is far from everyone.
        val ana = launch("ana").get()
        val chen = launch("chen", carrier = NOBODY).get()
        ana.window.decorView.button("Contacts").performClick()
        ana.openChatWithTheOnlyContact("Chen")
        val survey = File(root, "survey.pdf").apply { writeBytes(ByteArray(200_000) { (it * 7 % 253).toByte() }) }
        ana.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("the survey of the east bank")
        ana.pick(TestDocuments.offer(survey, "application/pdf"))
        until("Ana's message with the file is in her chat") { ana.timeline().any { it.endsWith(": the survey of the east bank") } }

        // The message reaches Chen on a stick (a bundle holds messages, never file chunks).
        val stick = File(root, "stick.pollen")
        ana.bundle(SettingsScreen.EXPORT, Intent.ACTION_CREATE_DOCUMENT, stick)
        until("Ana's export is written") { ana.bundleLine().startsWith("1 message") }
        chen.bundle(SettingsScreen.IMPORT, Intent.ACTION_OPEN_DOCUMENT, stick)
        until("Chen's import brought it") { chen.bundleLine().startsWith("1 new for you") }
        chen.window.decorView.button("Contacts").performClick()
        chen.openChatWithTheOnlyContact("Ana")

        val line = "Ana: the survey of the east bank"
        until("Chen's chat shows the file, waiting for him") { chen.row(line) != null }
        val (asking, askingView) = chen.row(line)!!
        assertEquals(uniffi.pollen.AttachmentState.ASK, asking.attachment!!.state)
        assertEquals(uniffi.pollen.AttachmentKind.FILE, asking.attachment!!.kind)
        assertEquals("200 KB · tap to download", askingView.attachmentLabel())
        assertEquals("no ring while nothing is asked for", android.view.View.GONE, askingView.ring().visibility)

        // Chen taps it: asked for, nothing here yet, the ring at 0 %.
        askingView.findViewById<android.view.View>(ChatScreen.ATTACHMENT_ID).performClick()
        until("the file is asked for") { chen.row(line)!!.first.attachment!!.state == uniffi.pollen.AttachmentState.COMING }
        val (coming, comingView) = chen.row(line)!!
        assertEquals(0, coming.attachment!!.percent.toInt())
        assertEquals("0 % of 200 KB", comingView.attachmentLabel())
        val ring = comingView.ring()
        assertEquals(android.view.View.VISIBLE, ring.visibility)
        assertFalse(ring.isIndeterminate)
        assertEquals(0, ring.progress)

        // Chen comes near the carrier, which holds Ana's chunks: it comes, and is whole.
        mesh.allow("chen", CARRIER)
        mesh.connect("chen", CARRIER)
        val seen = mutableSetOf<Int>()
        // No event says a chunk came: the open chat looks again every second (the test's clock is moved on).
        until("the file is whole in Chen's chat", timeoutMs = 60_000) {
            shadowOf(Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(250))
            val (now, nowView) = chen.row(line)!!
            if (now.attachment!!.state == uniffi.pollen.AttachmentState.COMING) seen += nowView.ring().progress
            now.attachment!!.state == uniffi.pollen.AttachmentState.WHOLE
        }
        println("     journey: Chen's ring showed ${seen.sorted()} % before the survey was whole")
        val (whole, wholeView) = chen.row(line)!!
        assertEquals("survey.pdf · 200 KB", whole.attachment!!.label)
        assertEquals(whole.attachment!!.label, wholeView.attachmentLabel())
        assertEquals(android.view.View.GONE, wholeView.ring().visibility)
        val (type, bytes) = chen.opened(wholeView)
        assertEquals("application/pdf", type)
        assertTrue("the viewer reads the survey", bytes.contentEquals(survey.readBytes()))
    }

    @Test
    fun aVoiceNoteIsRecordedOnceTheMicrophoneIsAllowedAndChenPlaysIt() {
        anaAndChenKnowEachOther()
        val (ana, chen) = bothChatsOpen()
        val microphone = app.microphone
        val record = ana.findViewById<Button>(ChatScreen.RECORD_ID)

        // No microphone permission yet: the tap asks for it and records nothing.
        shadowOf(app).denyPermissions(android.Manifest.permission.RECORD_AUDIO)
        record.performClick()
        val asked = shadowOf(ana).lastRequestedPermission
        assertEquals(listOf(android.Manifest.permission.RECORD_AUDIO), asked.requestedPermissions.toList())
        assertEquals(0, microphone.started)
        // Allowed: recording starts at once.
        shadowOf(app).grantPermissions(android.Manifest.permission.RECORD_AUDIO)
        ana.onRequestPermissionsResult(asked.requestCode, asked.requestedPermissions, intArrayOf(android.content.pm.PackageManager.PERMISSION_GRANTED))
        assertEquals(1, microphone.started)
        assertEquals(ChatScreen.STOP, record.text.toString())
        val recorded = microphone.recording!!
        record.performClick()
        assertEquals(ChatScreen.RECORD, record.text.toString())

        // No words with it: the core says what it is.
        val line = "Ana: Voice note 0:03"
        // The open chat's poll shows the chunks that came (see the photo above).
        val voiceMs = until("the voice note is whole in Chen's chat", timeoutMs = 90_000) {
            shadowOf(Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(250))
            chen.row(line)?.first?.attachment?.state == uniffi.pollen.AttachmentState.WHOLE
        }
        println("     journey: the voice note -> whole in Chen's chat after $voiceMs ms")
        until("the recording's scratch file is gone") { !recorded.exists() }
        val (row, view) = chen.row(line)!!
        val note = row.attachment!!
        assertEquals(uniffi.pollen.AttachmentKind.AUDIO, note.kind)
        assertEquals(VoiceRecorder.MIME, note.mime)
        assertEquals(3_200u, note.durationMs)
        assertEquals("voice-note.m4a · 3 KB · 0:03", note.label)
        assertTrue(view.attachmentLabel().endsWith(note.label))

        // A tap plays it here, from the whole file the core wrote.
        val played = mutableListOf<org.robolectric.shadows.util.DataSource>()
        org.robolectric.shadows.ShadowMediaPlayer.setMediaInfoProvider { source ->
            played += source
            org.robolectric.shadows.ShadowMediaPlayer.MediaInfo(3_200, 0)
        }
        shadowOf(app).clearNextStartedActivities()
        view.findViewById<android.view.View>(ChatScreen.ATTACHMENT_ID).performClick()
        until("the note plays") { played.isNotEmpty() }
        val file = AttachmentProvider.dir(chen).listFiles()!!.single { it.name.endsWith("-voice-note.m4a") }
        assertEquals(org.robolectric.shadows.util.DataSource.toDataSource(file.path), played.single())
        assertTrue("the file is the recording", file.readBytes().contentEquals(microphone.bytes))
        assertEquals("nothing else was opened", null, shadowOf(chen).nextStartedActivity)
    }

    private fun fromAna(title: String?) = title == "Ana"

    private companion object {
        const val CARRIER = "carrier"

        /** A carrier nobody runs: the apps open no link. */
        const val NOBODY = "nobody"
    }
}
