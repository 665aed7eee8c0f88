package org.pollen.app

import android.app.NotificationManager
import android.content.Context
import android.content.Intent
import android.os.Looper
import android.widget.Button
import android.widget.EditText
import android.widget.ListView
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.pollen.android.MessageNotifier
import org.pollen.android.Pollen
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import uniffi.pollen.DeliveryReceipts

/** The app's screens driven through their views, over real nodes. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class AppUiTest {
    private lateinit var nodes: TwoNodes
    private val ana: Pollen get() = nodes.ana
    private val chen: Pollen get() = nodes.chen
    private val scope = CoroutineScope(SupervisorJob() + MainLooper)
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private val errors = mutableListOf<Throwable>()

    @Before
    fun nodes() {
        nodes = TwoNodes("pollen-ui")
    }

    @After
    fun close() {
        scope.cancel()
        nodes.close()
    }

    /** Runs the main looper until [done] holds (the node answers on its own thread). */
    private fun until(what: String, done: () -> Boolean) {
        val deadline = System.currentTimeMillis() + 20_000
        while (!done()) {
            assertTrue("errors: $errors", errors.isEmpty())
            assertTrue("timed out waiting for $what", System.currentTimeMillis() < deadline)
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
    }

    @Test
    fun aGroupIsMadeFromContactsAndItsChatOpens() {
        runBlocking { ana.addContactFromInput(chen.card()) }
        var opened: Pair<String, String>? = null
        var asked = false
        val contacts = ContactsScreen(context, scope, { ana }, {}, { errors += it }, { asked = true }) { id, title ->
            opened = id to title
        }
        contacts.view.button("New group").performClick()
        assertTrue("the contacts screen asks for the new-group screen", asked)

        val group = NewGroupScreen(context, scope, { ana }, { errors += it }) { id, title -> opened = id to title }
        runBlocking { group.refresh(ana) }
        val members = group.view.findViewById<ListView>(NewGroupScreen.MEMBERS_ID)
        assertEquals(listOf("Chen"), members.lines())
        group.view.findViewById<EditText>(NewGroupScreen.NAME_ID).setText("Stage crew")
        members.performItemClick(members, 0, 0)
        group.view.button("Create").performClick()
        until("the group's chat opens") { opened != null }
        val (id, title) = opened!!
        assertEquals("Stage crew", title)

        val chat = ChatScreen(context, id, title, scope, { ana }, { errors += it })
        chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("doors at eight")
        chat.view.findViewById<Button>(ChatScreen.SEND_ID).performClick()
        val timeline = chat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID)
        until("the message is in the group's timeline") { timeline.lines().contains("me · sent: doors at eight") }
        val chats = runBlocking { ana.chatList() }
        assertEquals("the group is in the chat list", listOf("Stage crew"), chats.map { it.title })
    }

    @Test
    fun aGroupWithoutANameIsRefusedWithTheCoresReason() {
        runBlocking { ana.addContactFromInput(chen.card()) }
        val group = NewGroupScreen(context, scope, { ana }, { errors += it }) { _, _ -> }
        runBlocking { group.refresh(ana) }
        val members = group.view.findViewById<ListView>(NewGroupScreen.MEMBERS_ID)
        members.performItemClick(members, 0, 0)
        group.view.button("Create").performClick()
        val deadline = System.currentTimeMillis() + 20_000
        while (errors.isEmpty() && System.currentTimeMillis() < deadline) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
        assertEquals("one clear error", 1, errors.size)
        assertTrue("no group was made", runBlocking { ana.chatList() }.none { it.kind.name == "GROUP" })
    }

    @Test
    fun aRelayIsSavedFromSettingsAndABadOneIsRefusedWithItsReason() {
        val settings = SettingsScreen(context, scope, { ana }, { errors += it }, {}, {})
        runBlocking { settings.refresh(ana) }
        val saved = settings.view.findViewById<android.widget.TextView>(SettingsScreen.RELAYS_ID)
        assertTrue(saved.text.startsWith("No relay"))
        val field = settings.view.findViewById<EditText>(SettingsScreen.RELAY_ID)

        field.setText("relay.example:7000")
        settings.view.button("Add relay").performClick()
        val deadline = System.currentTimeMillis() + 20_000
        while (errors.isEmpty() && System.currentTimeMillis() < deadline) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
        val refused = errors.single()
        assertTrue("the core's reason: $refused", refused.message.orEmpty().contains("pollen-relay://"))
        errors.clear()
        assertEquals("nothing saved", emptyList<String>(), runBlocking { ana.relays() })

        val good = "pollen-relay://relay.example:7000/" + "ab".repeat(32)
        field.setText(good)
        settings.view.button("Add relay").performClick()
        until("the relay is listed") { saved.text.contains(good) }
        assertEquals(listOf(good), runBlocking { ana.relays() })
        assertEquals("the field is cleared", "", field.text.toString())
    }

    @Test
    fun nothingOfPollenLeavesThePhoneInABackupOrADeviceTransfer() {
        // android/pollen/src/main/AndroidManifest.xml → android/app/src/main
        val main = File(System.getProperty("pollen.manifest")).absoluteFile.parentFile.parentFile.parentFile.parentFile
            .resolve("app/src/main")
        val factory = javax.xml.parsers.DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
        val android = "http://schemas.android.com/apk/res/android"
        val application = factory.newDocumentBuilder().parse(main.resolve("AndroidManifest.xml"))
            .getElementsByTagName("application").item(0) as org.w3c.dom.Element
        assertEquals("false", application.getAttributeNS(android, "allowBackup"))
        val rules = application.getAttributeNS(android, "dataExtractionRules")
        assertEquals("@xml/data_extraction_rules", rules)
        val doc = factory.newDocumentBuilder().parse(main.resolve("res/xml/data_extraction_rules.xml"))
        for (section in listOf("cloud-backup", "device-transfer")) {
            val element = doc.getElementsByTagName(section).item(0) as org.w3c.dom.Element?
            assertNotNull("$section has rules", element)
            assertEquals("$section includes nothing", 0, element!!.getElementsByTagName("include").length)
            val excludes = element.getElementsByTagName("exclude")
            val domains = (0 until excludes.length).map { (excludes.item(it) as org.w3c.dom.Element).getAttribute("domain") }.toSet()
            assertEquals("$section excludes every domain", setOf("root", "file", "database", "sharedpref", "external"), domains)
        }
    }

    @Test
    fun encounterRoutingIsSwitchedOffAndOnFromSettings() {
        val settings = SettingsScreen(context, scope, { ana }, { errors += it }, {}, {})
        runBlocking { settings.refresh(ana) }
        val box = settings.view.findViewById<android.widget.CheckBox>(SettingsScreen.ENCOUNTERS_ID)
        assertTrue("on by default", box.isChecked)
        box.performClick()
        until("the core turned it off, and the box shows it") { !runBlocking { ana.encounterRouting() } && !box.isChecked }
        box.performClick()
        until("the core turned it on, and the box shows it") { runBlocking { ana.encounterRouting() } && box.isChecked }
        // Tapped twice quickly: both taps are kept, in order.
        box.performClick()
        box.performClick()
        until("off then on again") { runBlocking { ana.encounterRouting() } && box.isChecked }
        assertTrue("no error: $errors", errors.isEmpty())
    }

    @Test
    fun deliveryAndReadReceiptsAreChosenInSettingsAndKeptByTheCore() {
        val settings = SettingsScreen(context, scope, { ana }, { errors += it }, {}, {})
        runBlocking { settings.refresh(ana) }
        val group = settings.view.findViewById<android.widget.RadioGroup>(SettingsScreen.RECEIPTS_ID)
        fun button(mode: DeliveryReceipts) =
            settings.view.findViewById<android.widget.RadioButton>(SettingsScreen.receiptsId(mode))
        assertEquals("batched by default", SettingsScreen.receiptsId(DeliveryReceipts.BATCHED), group.checkedRadioButtonId)
        for (mode in listOf(DeliveryReceipts.OFF, DeliveryReceipts.IMMEDIATE, DeliveryReceipts.BATCHED)) {
            button(mode).performClick()
            until("the core keeps $mode, and its button shows it") {
                runBlocking { ana.deliveryReceipts() } == mode && group.checkedRadioButtonId == SettingsScreen.receiptsId(mode)
            }
        }
        button(DeliveryReceipts.OFF).performClick()
        until("off again") { runBlocking { ana.deliveryReceipts() } == DeliveryReceipts.OFF }
        // Kept across a new screen (the core holds it, not the view).
        val again = SettingsScreen(context, scope, { ana }, { errors += it }, {}, {})
        runBlocking { again.refresh(ana) }
        assertTrue(
            "a new screen shows off",
            again.view.findViewById<android.widget.RadioButton>(SettingsScreen.receiptsId(DeliveryReceipts.OFF)).isChecked,
        )

        val read = settings.view.findViewById<android.widget.CheckBox>(SettingsScreen.READ_RECEIPTS_ID)
        assertTrue("read receipts on by default", read.isChecked)
        read.performClick()
        until("the core stops read receipts, and the box shows it") { !runBlocking { ana.readReceipts() } && !read.isChecked }
        read.performClick()
        until("on again") { runBlocking { ana.readReceipts() } && read.isChecked }
        assertTrue("no error: $errors", errors.isEmpty())
    }

    @Test
    fun bluetoothAndWifiAreSwitchedFromSettingsKeptByTheCoreAndTheMeshIsTold() {
        var told = 0
        val settings = SettingsScreen(context, scope, { ana }, { errors += it }, { told++ }, {})
        runBlocking { settings.refresh(ana) }
        val bluetooth = settings.view.findViewById<android.widget.CheckBox>(SettingsScreen.BLUETOOTH_ID)
        val wifi = settings.view.findViewById<android.widget.CheckBox>(SettingsScreen.WIFI_ID)
        assertTrue("both on at first", bluetooth.isChecked && wifi.isChecked)

        wifi.performClick()
        until("the core keeps Wi-Fi off, the mesh is told, the boxes show it") {
            !runBlocking { ana.transports() }.wifi && told == 1 && !wifi.isChecked && bluetooth.isChecked
        }
        assertTrue("Bluetooth untouched", runBlocking { ana.transports() }.bluetooth)
        bluetooth.performClick()
        until("the core keeps Bluetooth off, and the box shows it") {
            !runBlocking { ana.transports() }.bluetooth && told == 2 && !bluetooth.isChecked
        }

        // A fresh screen shows what the core holds.
        val again = SettingsScreen(context, scope, { ana }, { errors += it }, {}, {})
        runBlocking { again.refresh(ana) }
        assertFalse(again.view.findViewById<android.widget.CheckBox>(SettingsScreen.BLUETOOTH_ID).isChecked)
        assertFalse(again.view.findViewById<android.widget.CheckBox>(SettingsScreen.WIFI_ID).isChecked)
        // Both tapped at once: neither tap is lost.
        bluetooth.performClick()
        wifi.performClick()
        until("both on again, and shown") {
            runBlocking { ana.transports() }.let { it.bluetooth && it.wifi } && bluetooth.isChecked && wifi.isChecked
        }
        assertTrue("no error: $errors", errors.isEmpty())
    }

    @Test
    fun aGroupsAdminAddsAndRemovesMembersFromTheMembersScreen() {
        val bo = runBlocking { Pollen.create(File(nodes.dir, "bo").path, "Bo") }
        try {
            runBlocking {
                ana.addContactFromInput(chen.card())
                ana.addContactFromInput(bo.card())
            }
            val group = runBlocking { ana.createGroup("Stage crew", listOf("Chen")) }
            var members: Pair<String, String>? = null
            val chat = ChatScreen(context, group.id, group.name, scope, { ana }, { errors += it }) { id, title -> members = id to title }
            runBlocking { chat.refresh(ana) }
            val button = chat.view.findViewById<Button>(ChatScreen.MEMBERS_ID)
            assertEquals("a group's chat offers its members", android.view.View.VISIBLE, button.visibility)
            button.performClick()
            assertEquals(group.id to "Stage crew", members)

            val screen = GroupMembersScreen(context, group.id, group.name, scope, { ana }, { errors += it })
            runBlocking { screen.refresh(ana) }
            val list = screen.view.findViewById<ListView>(GroupMembersScreen.MEMBERS_ID)
            val addable = screen.view.findViewById<ListView>(GroupMembersScreen.ADDABLE_ID)
            assertEquals(listOf("You (admin)", "Chen"), list.lines())
            assertEquals(listOf("Bo"), addable.lines())

            addable.performItemClick(addable, 0, 0)
            until("Bo is a member") { list.lines() == listOf("You (admin)", "Bo", "Chen") }
            assertEquals(emptyList<String>(), addable.lines())

            list.performItemClick(list, 2, 0)
            val confirm = org.robolectric.shadows.ShadowAlertDialog.getLatestAlertDialog()
            assertTrue(shadowOf(confirm).message.toString().startsWith("Remove Chen from Stage crew?"))
            confirm.getButton(android.app.AlertDialog.BUTTON_POSITIVE).performClick()
            until("Chen is removed") { list.lines() == listOf("You (admin)", "Bo") }
            assertEquals(listOf("Chen"), addable.lines())
            assertEquals("the core agrees", 2, runBlocking { ana.groupMembers(group.id) }.members.size)

            // A direct chat has no members button.
            val direct = runBlocking { ana.openChatWithContact("Bo") }
            val dm = ChatScreen(context, direct.conversationId, direct.title, scope, { ana }, { errors += it })
            runBlocking { dm.refresh(ana) }
            assertEquals(android.view.View.GONE, dm.view.findViewById<Button>(ChatScreen.MEMBERS_ID).visibility)
            assertTrue("no error: $errors", errors.isEmpty())
        } finally {
            bo.close()
        }
    }

    @Test
    fun aPastedContactStartsAChatAndTheMessageIsSent() {
        var opened: Pair<String, String>? = null
        val contacts = ContactsScreen(context, scope, { ana }, {}, { errors += it }) { id, title -> opened = id to title }
        val chenCard = runBlocking { chen.card() }

        // Pasted as a link, wrapped over two lines with spaces around.
        contacts.view.findViewById<EditText>(ContactsScreen.PASTE_ID)
            .setText("  pollen:${chenCard.substring(0, 30)}\n${chenCard.substring(30)}  ")
        contacts.view.button("Add").performClick()
        val list = contacts.view.findViewById<ListView>(ContactsScreen.CONTACT_LIST_ID)
        until("the contact is listed") { list.lines() == listOf("Chen") }

        list.performItemClick(list, 0, 0)
        until("the chat opens") { opened != null }
        val (id, title) = opened!!
        assertEquals("Chen", title)
        val chats = runBlocking { ana.chatList() }
        assertEquals("the chat exists before any message", listOf(id), chats.map { it.conversationId })

        val chat = ChatScreen(context, id, title, scope, { ana }, { errors += it })
        chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("hello Chen")
        chat.view.findViewById<Button>(ChatScreen.SEND_ID).performClick()
        val timeline = chat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID)
        until("the message is in the timeline") { timeline.lines().any { it.startsWith("me · queued: hello Chen") } }
        assertEquals("— Today —", timeline.lines().first())
        assertEquals("hello Chen", runBlocking { ana.chatList() }.single().preview)

        val list2 = ConversationsScreen(context) { _, _ -> }
        runBlocking { list2.refresh(ana) }
        assertEquals(listOf("Chen\nme: hello Chen"), (list2.view as ListView).lines())
    }

    @Test
    fun aMessageInTheBackgroundPostsANotificationThatOpensTheChat() {
        runBlocking {
            ana.addContact(chen.card())
            chen.addContact(ana.card())
        }
        val tap = Intent(context, MainActivity::class.java)
        val notifier = MessageNotifier(context) { Intent(tap) }
        scope.launch(Dispatchers.Default) { ana.events.collect { notifier.onEvent(ana, it) } }
        val manager = context.getSystemService(NotificationManager::class.java)
        val shadow = shadowOf(manager)

        // Carried by hand: Chen's bundle imported on Ana's phone.
        fun carry(text: String) = run {
            runBlocking { chen.sendDirect("Ana", text) }
            carry(chen, ana)
        }
        notifier.openChat = null
        carry("are you at the station?")
        until("a notification is posted") { shadow.allNotifications.isNotEmpty() }
        val posted = shadow.allNotifications.single()
        assertEquals("pollen-direct", posted.channelId)
        assertEquals("Chen", posted.extras.getString("android.title"))
        assertEquals("are you at the station?", posted.extras.getCharSequence("android.text").toString())

        val conversation = runBlocking { ana.chatList() }.single().conversationId
        val opens = shadowOf(posted.contentIntent).savedIntent
        assertNotNull(opens)
        assertEquals(MainActivity::class.java.name, opens.component?.className)
        assertEquals(conversation, opens.getStringExtra(MessageNotifier.EXTRA_CONVERSATION))

        // The same chat on screen: nothing new is posted; the count grows once it is not.
        notifier.openChat = conversation
        carry("hello?")
        Thread.sleep(300)
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(1, shadow.allNotifications.size)
        notifier.openChat = null
        carry("ping")
        until("the chat's notification is replaced") {
            shadow.allNotifications.singleOrNull()?.extras?.getCharSequence("android.text")?.toString() == "ping"
        }
        assertEquals(3, shadow.allNotifications.single().number)
    }

    @Test
    fun theChatScreensMuteButtonSilencesThatChatsNotifications() {
        val withChen = ChatWithChen()
        val (shadow, id, chat) = Triple(withChen.notifications, withChen.id, withChen.screen)
        fun carry(text: String) = withChen.carry(text)
        val mute = chat.view.findViewById<Button>(ChatScreen.MUTE_ID)
        assertEquals("Mute", mute.text.toString())

        mute.performClick()
        until("the chat is muted") { mute.text.toString() == "Unmute" }
        assertTrue(runBlocking { ana.chatList() }.single { it.conversationId == id }.muted)
        carry("muted: no sound please")
        until("the message is in") { runBlocking { ana.chatList() }.single().preview == "muted: no sound please" }
        Thread.sleep(300)
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals("a muted chat posts nothing", 0, shadow.allNotifications.size)

        mute.performClick()
        until("the chat is unmuted") { mute.text.toString() == "Mute" }
        carry("unmuted")
        until("an unmuted chat notifies again") { shadow.allNotifications.size == 1 }
    }

    @Test
    fun blockingFromTheChatScreenDropsTheirMessagesWithoutANotificationOrAReceipt() {
        val withChen = ChatWithChen()
        val (shadow, _, chat) = Triple(withChen.notifications, withChen.id, withChen.screen)
        fun carry(text: String) = withChen.carry(text)
        val block = chat.view.findViewById<Button>(ChatScreen.BLOCK_ID)
        assertEquals("Block", block.text.toString())

        block.performClick()
        until("Chen is blocked") { block.text.toString() == "Unblock" }
        assertEquals(listOf("Chen"), runBlocking { ana.blocked() }.map { it.alias })
        val dropped = carry("let me in")
        assertEquals("no receipt goes back to a blocked author", 0UL, dropped.opened)
        Thread.sleep(300)
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals("no notification", 0, shadow.allNotifications.size)
        assertTrue("not in the timeline", chat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID).lines().none { it.contains("let me in") })
        chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("hello?")
        chat.view.findViewById<Button>(ChatScreen.SEND_ID).performClick()
        val deadline = System.currentTimeMillis() + 20_000
        while (errors.isEmpty() && System.currentTimeMillis() < deadline) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
        assertTrue("writing to a blocked contact is refused: $errors", errors.single() is uniffi.pollen.PollenException.Blocked)
        errors.clear()

        block.performClick()
        until("Chen is unblocked") { block.text.toString() == "Block" }
        carry("sorry")
        until("an unblocked contact's message comes in and notifies") { shadow.allNotifications.size == 1 }
    }

    @Test
    fun aBoardStartedInAChatTakesBothSidesPostsAndADoneMark() {
        runBlocking {
            ana.addContact(chen.card())
            chen.addContact(ana.card())
        }
        val id = runBlocking { ana.openChatWithContact("Chen") }.conversationId
        var opened: Pair<String, String>? = null
        val chat = ChatScreen(context, id, "Chen", scope, { ana }, { errors += it }, openBoard = { c, t -> opened = c to t })
        chat.view.findViewById<Button>(ChatScreen.BOARD_ID).performClick()
        assertEquals("the chat opens its board", id to "Chen", opened)

        val board = BoardScreen(context, id, "Chen", scope, { ana }, { errors += it })
        runBlocking { board.refresh(ana) }
        val start = board.view.findViewById<Button>(BoardScreen.START_ID)
        val items = board.view.findViewById<ListView>(BoardScreen.ITEMS_ID)
        val draft = board.view.findViewById<EditText>(BoardScreen.DRAFT_ID)
        assertEquals(android.view.View.VISIBLE, start.visibility)
        start.performClick()
        until("the board is started") { start.visibility == android.view.View.GONE }
        draft.setText("water, 20 l")
        board.view.findViewById<Button>(BoardScreen.NEED_ID).performClick()
        until("the need is listed") { items.lines() == listOf("NEED water, 20 l · Ana") }

        // Chen gets it by bundle, sees the board in the same chat and offers something.
        carry(ana, chen)
        val chenChat = runBlocking { chen.openChatWithContact("Ana") }.conversationId
        assertEquals(id, chenChat)
        val chens = BoardScreen(context, chenChat, "Ana", scope, { chen }, { errors += it })
        runBlocking { chens.refresh(chen) }
        val chenItems = chens.view.findViewById<ListView>(BoardScreen.ITEMS_ID)
        assertEquals(listOf("NEED water, 20 l · Ana"), chenItems.lines())
        assertEquals("a board exists: nothing to start", android.view.View.GONE, chens.view.findViewById<Button>(BoardScreen.START_ID).visibility)
        chens.view.findViewById<EditText>(BoardScreen.DRAFT_ID).setText("a tent for two")
        chens.view.findViewById<Button>(BoardScreen.OFFER_ID).performClick()
        until("Chen's offer is listed") { chenItems.lines().size == 2 }

        // Back to Ana, who marks the water done with a tap.
        carry(chen, ana)
        runBlocking { board.refresh(ana) }
        assertEquals(setOf("OFFER a tent for two · Chen", "NEED water, 20 l · Ana"), items.lines().toSet())
        items.performItemClick(items, items.lines().indexOf("NEED water, 20 l · Ana"), 0)
        until("the need is done") { items.lines().last() == "NEED water, 20 l · Ana (done)" }
        carry(ana, chen)
        runBlocking { chens.refresh(chen) }
        assertEquals(items.lines(), chenItems.lines())
        assertTrue("no error: $errors", errors.isEmpty())
    }

    @Test
    fun replyReactEditAndDeleteFromTheChatScreenAndTheOtherSideSeesThem() {
        runBlocking {
            ana.addContact(chen.card())
            chen.addContact(ana.card())
        }
        runBlocking { chen.sendDirect("Ana", "lunch at noon?") }
        carry(chen, ana)
        val id = runBlocking { ana.openChatWithContact("Chen") }.conversationId
        val chat = ChatScreen(context, id, "Chen", scope, { ana }, { errors += it })
        runBlocking { chat.refresh(ana) }
        val timeline = chat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID)
        val draft = chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID)
        fun tap(prefix: String) {
            val i = timeline.lines().indexOfFirst { it.startsWith(prefix) }
            assertTrue("no line starting $prefix in ${timeline.lines()}", i >= 0)
            timeline.performItemClick(timeline, i, i.toLong())
        }
        fun click(id: Int) = chat.view.findViewById<Button>(id).performClick()

        // React to Chen's message.
        tap("Chen: lunch at noon?")
        click(ChatScreen.REACT_ID)
        until("the reaction is shown") { "Chen: lunch at noon? 👍" in timeline.lines() }

        // Reply to it, quoting it.
        tap("Chen: lunch at noon?")
        draft.setText("yes, see you there")
        click(ChatScreen.REPLY_ID)
        until("the reply is shown") { timeline.lines().any { it.endsWith(": ↪ \"lunch at noon?\" yes, see you there") } }

        // Edit the reply.
        tap("me · ")
        draft.setText("yes, see you at 12")
        click(ChatScreen.EDIT_ID)
        until("the edit is shown") { timeline.lines().any { it.endsWith(": ↪ \"lunch at noon?\" yes, see you at 12 (edited)") } }

        // Send something by mistake and delete it.
        draft.setText("wrong chat, sorry")
        click(ChatScreen.SEND_ID)
        until("sent") { timeline.lines().any { it.endsWith(": wrong chat, sorry") } }
        tap(timeline.lines().first { it.endsWith(": wrong chat, sorry") })
        click(ChatScreen.DELETE_ID)
        until("the deletion is shown") { timeline.lines().any { it.startsWith("me · ") && it.endsWith(": (deleted)") } }
        assertTrue(timeline.lines().none { "wrong chat" in it })

        // Carried to Chen: his chat screen shows all four.
        carry(ana, chen)
        val chenId = runBlocking { chen.openChatWithContact("Ana") }.conversationId
        val chenChat = ChatScreen(context, chenId, "Ana", scope, { chen }, { errors += it })
        val chenTimeline = chenChat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID)
        until("Chen sees Ana's reply, edit, reaction and deletion") {
            runBlocking { chenChat.refresh(chen) }
            val lines = chenTimeline.lines()
            lines.any { it.startsWith("me · ") && it.endsWith(": lunch at noon? 👍") } &&
                "Ana: ↪ \"lunch at noon?\" yes, see you at 12 (edited)" in lines &&
                "Ana: (deleted)" in lines
        }
        println("     chat actions: Ana ${timeline.lines()}")
        println("     chat actions: Chen ${chenTimeline.lines()}")
    }

    @Test
    fun aPickedFileOverTheCoresLimitIsRefusedWithItsReasonAndLeavesNoCopy() {
        org.robolectric.Robolectric.setupContentProvider(TestDocuments::class.java, TestDocuments.AUTHORITY)
        runBlocking { ana.addContact(chen.card()) }
        val id = runBlocking { ana.openChatWithContact("Chen") }.conversationId
        val chat = ChatScreen(context, id, "Chen", scope, { ana }, { errors += it })
        val limit = uniffi.pollen.attachmentLimits().maxFileBytes.toLong()
        val film = File(nodes.dir, "festival.mp4")
        java.io.RandomAccessFile(film, "rw").use { it.setLength(limit + 5_000_000) }
        chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID).setText("the whole concert")
        chat.sendPicked(TestDocuments.offer(film, "video/mp4"))
        val deadline = System.currentTimeMillis() + 20_000
        while (errors.isEmpty() && System.currentTimeMillis() < deadline) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
        val refused = errors.single()
        assertTrue("the core's reason: $refused", refused.message.orEmpty().contains("more than $limit"))
        errors.clear()
        runBlocking { chat.refresh(ana) }
        assertTrue("nothing was sent", chat.view.findViewById<ListView>(ChatScreen.TIMELINE_ID).lines().none { "concert" in it })
        assertEquals("the draft is kept", "the whole concert", chat.view.findViewById<EditText>(ChatScreen.DRAFT_ID).text.toString())
        assertEquals("no copy is left in the cache", emptyList<String>(), File(context.cacheDir, "outgoing").list()?.toList().orEmpty())
    }

    /** Everything [from] holds, carried to [to] by bundle. */
    private fun carry(from: Pollen, to: Pollen) = runBlocking {
        val bundle = File(nodes.dir, "bundle-${System.nanoTime()}").path
        from.exportBundle(bundle)
        to.importBundle(bundle)
    }

    /** Ana's chat with Chen on screen; Chen's messages reach her by bundle and post through her notifier. */
    private inner class ChatWithChen {
        val notifications = shadowOf(context.getSystemService(NotificationManager::class.java))
        val id: String
        val screen: ChatScreen

        init {
            runBlocking {
                ana.addContact(chen.card())
                chen.addContact(ana.card())
            }
            val notifier = MessageNotifier(context) { Intent(context, MainActivity::class.java) }
            scope.launch(Dispatchers.Default) { ana.events.collect { notifier.onEvent(ana, it) } }
            id = runBlocking { ana.openChatWithContact("Chen") }.conversationId
            screen = ChatScreen(context, id, "Chen", scope, { ana }, { errors += it })
            runBlocking { screen.refresh(ana) }
        }

        /** Chen writes [text] and a bundle carries it to Ana. */
        fun carry(text: String) = run {
            runBlocking { chen.sendDirect("Ana", text) }
            carry(chen, ana)
        }
    }
}
