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

    private fun fromAna(title: String?) = title == "Ana"

    private companion object {
        const val CARRIER = "carrier"

        /** A carrier nobody runs: the apps open no link. */
        const val NOBODY = "nobody"
    }
}
