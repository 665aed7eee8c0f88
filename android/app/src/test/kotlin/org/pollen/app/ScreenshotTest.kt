package org.pollen.app

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Color
import android.os.Looper
import android.view.View
import android.widget.EditText
import android.widget.FrameLayout
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.pollen.android.Pollen
import uniffi.pollen.BoardItemKind
import uniffi.pollen.FileToSend
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * Every screen drawn with real content (two people's nodes, a conversation
 * between them carried by a bundle file) under Robolectric's native
 * graphics, into PNG files: `docs/screenshots/` when scripts/test-mobile.sh
 * passes `-Dpollen.screenshots=…`, else a temporary directory.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class ScreenshotTest {
    private lateinit var nodes: TwoNodes
    private val ana: Pollen get() = nodes.ana
    private val chen: Pollen get() = nodes.chen
    private val dir: File get() = nodes.dir
    private val scope = CoroutineScope(SupervisorJob() + MainLooper)
    /** The app's theme (its manifest's), which the test runs without. */
    private val context: Context by lazy {
        android.view.ContextThemeWrapper(RuntimeEnvironment.getApplication(), android.R.style.Theme_Material_Light)
    }
    private val out: File by lazy {
        (System.getProperty("pollen.screenshots")?.let(::File) ?: File(dir, "screenshots")).apply { mkdirs() }
    }

    @Before
    fun nodes() {
        nodes = TwoNodes("pollen-shots")
    }

    @After
    fun close() {
        scope.cancel()
        nodes.close()
    }

    /** Lays [screen] out on a 1080 × 1920 phone and writes it to `<name>.png`. */
    private fun shoot(name: String, screen: Screen) {
        runBlocking { screen.refresh(ana) }
        shadowOf(Looper.getMainLooper()).idle()
        val frame = FrameLayout(context).apply {
            setBackgroundColor(Color.WHITE)
            addView(screen.view)
        }
        frame.measure(
            View.MeasureSpec.makeMeasureSpec(WIDTH, View.MeasureSpec.EXACTLY),
            View.MeasureSpec.makeMeasureSpec(HEIGHT, View.MeasureSpec.EXACTLY),
        )
        frame.layout(0, 0, WIDTH, HEIGHT)
        // Check boxes animate into their state: draw where they end.
        frame.jumpDrawablesToCurrentState()
        val bitmap = Bitmap.createBitmap(WIDTH, HEIGHT, Bitmap.Config.ARGB_8888)
        frame.draw(Canvas(bitmap))
        frame.removeAllViews()
        // Real content, not an empty screen: enough ink (text, controls).
        var ink = 0
        for (y in 0 until HEIGHT step 4) for (x in 0 until WIDTH step 4) {
            if (Color.red(bitmap.getPixel(x, y)) < 200) ink++
        }
        File(out, "$name.png").outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
        assertTrue("$name shows text ($ink inked samples)", ink > 30)
    }

    @Test
    fun everyScreenIsDrawnWithRealContent() {
        runBlocking {
            ana.addContactFromInput(chen.card())
            chen.addContactFromInput(ana.card())
            ana.sendDirect("Chen", "The bridge is out. Take the ferry at six?")
            chen.sendDirect("Ana", "Yes! I'll bring water for the queue.")
            val bundle = File(dir, "chen.bundle").path
            chen.exportBundle(bundle)
            ana.importBundle(bundle)
            ana.joinChannel("festival-info")
        }
        val crew = runBlocking {
            // Someone Ana could still add to the group.
            val dee = Pollen.create(File(dir, "dee").path, "Dee").use { it.card() }
            ana.addContactFromInput(dee)
            ana.createGroup("Ferry crew", listOf("Chen"))
        }
        val chat = runBlocking { ana.openChatWithContact("Chen") }
        runBlocking {
            val board = ana.startBoard(chat.conversationId, "Chen board")
            ana.postToBoard(board, BoardItemKind.NEED, "water for the queue, 20 l")
            ana.postToBoard(board, BoardItemKind.OFFER, "shade tent for two")
            ana.grantAppAccess("com.example.notes", board, false)
        }
        val errors = mutableListOf<Throwable>()
        shoot("first-run", FirstRunScreen(context) {}.also {
            it.view.findViewById<EditText>(FirstRunScreen.NAME_ID).setText("Ana")
        })
        shoot("chats", ConversationsScreen(context) { _, _ -> })
        shoot("chat", ChatScreen(context, chat.conversationId, chat.title, scope, { ana }, { errors += it }))
        runBlocking {
            // Ana's photo (whole: shown inline) and voice note; Chen's photo and
            // map reach her by bundle, without their chunks: the photo is
            // coming (its thumbnail and a ring), the map waits for Wi-Fi.
            val dock = File(dir, "ferry-dock.png").apply { writeBytes(png(1200, 900)) }
            ana.sendFile(chat.conversationId, FileToSend(dock.path, dock.name, "image/png", null, thumbnailOf(dock)), "The dock, from the bridge")
            val note = File(dir, "note.m4a").apply { writeBytes(ByteArray(24_000) { it.toByte() }) }
            ana.sendFile(chat.conversationId, FileToSend(note.path, VoiceRecorder.FILE_NAME, VoiceRecorder.MIME, 12_000u, ByteArray(0)), "")
            val queue = File(dir, "queue.png").apply { writeBytes(png(800, 600)) }
            chen.sendFile(chat.conversationId, FileToSend(queue.path, queue.name, "image/png", null, thumbnailOf(queue)), "The queue right now")
            val map = File(dir, "east-bank-map.pdf").apply { writeBytes(ByteArray(3_000_000) { (it % 251).toByte() }) }
            chen.sendFile(chat.conversationId, FileToSend(map.path, map.name, "application/pdf", null, ByteArray(0)), "Map of the east bank")
            val bundle = File(dir, "chen-files.bundle").path
            chen.exportBundle(bundle)
            ana.importBundle(bundle)
        }
        shoot("chat-attachments", ChatScreen(context, chat.conversationId, chat.title, scope, { ana }, { errors += it }))
        shoot("contacts", ContactsScreen(context, scope, { ana }, {}, { errors += it }) { _, _ -> })
        shoot("new-group", NewGroupScreen(context, scope, { ana }, { errors += it }) { _, _ -> })
        shoot("board", BoardScreen(context, chat.conversationId, chat.title, scope, { ana }, { errors += it }))
        shoot("group-members", GroupMembersScreen(context, crew.id, crew.name, scope, { ana }, { errors += it }))
        shoot("nearby", NearbyScreen(context))
        shoot("settings", SettingsScreen(context, scope, { ana }, { errors += it }, {}, {}))
        shoot("app-access", AppAccessScreen(context, scope, { ana }, { errors += it }))
        assertTrue("errors: $errors", errors.isEmpty())
        println("     screenshots: ${out.list()?.sorted()} in $out")
    }

    private companion object {
        const val WIDTH = 1080
        const val HEIGHT = 1920
    }
}
