package org.pollen.app

import android.Manifest
import android.app.Activity
import android.content.Intent
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.os.Bundle
import android.provider.MediaStore
import android.view.View
import android.view.WindowManager
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.TextView
import android.widget.Toast
import kotlinx.coroutines.Job
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.pollen.android.MeshPermissions
import org.pollen.android.Pollen
import org.pollen.android.PollenEvent

/**
 * The app's one activity: on first run asks for a name, asks for the mesh
 * permissions, connects to the node ([MeshConnection]: the service, unless
 * the application supplies another) and shows one [Screen] at a time under a
 * row of tabs.
 */
class MainActivity : Activity() {
    private val scope = MainScope()
    private lateinit var mesh: MeshConnection
    private var node: MeshNode? = null
    private var events: Job? = null
    private var connecting: Job? = null
    private var pendingName: String? = null
    private var lost = false
    private lateinit var content: FrameLayout
    private lateinit var meshStatus: TextView
    private lateinit var tabRow: View
    private lateinit var contacts: ContactsScreen
    private lateinit var settings: SettingsScreen
    private lateinit var tabs: List<Screen>
    private lateinit var current: Screen
    private var resumed = false

    private val pollen: Pollen? get() = node?.pollen

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // Private until the core says the user switched it off: nothing shows
        // before the node is there to ask.
        window.addFlags(WindowManager.LayoutParams.FLAG_SECURE)
        mesh = (application as? MeshProvider)?.meshFor(this) ?: ServiceMesh(this)
        val node = { pollen }
        contacts = ContactsScreen(this, scope, node, ::photograph, ::report, { show(NewGroupScreen(this, scope, node, ::report, ::openChat)) }, ::openChat)
        settings = SettingsScreen(this, scope, node, ::report, { this.node?.transportsChanged?.invoke() }, ::pickBundle, ::erase, ::keepPrivate) {
            show(AppAccessScreen(this, scope, node, ::report))
        }
        tabs = listOf(
            ConversationsScreen(this, ::openChat),
            contacts,
            NearbyScreen(this),
            settings,
        )
        content = FrameLayout(this)
        meshStatus = label("Starting the mesh…").apply {
            id = MESH_STATUS_ID
            visibility = View.GONE
        }
        tabRow = row(*tabs.map { screen -> button(screen.title) { show(screen) } }.toTypedArray())
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                addView(meshStatus)
                addView(content, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f))
                addView(tabRow)
            },
        )
        if (mesh.hasIdentity) {
            show(tabs.first())
            begin(null)
        } else {
            tabRow.visibility = View.GONE
            show(FirstRunScreen(this) { name -> begin(name) })
        }
        openFromNotification(intent)
    }

    /** Asks for what is missing, then starts the mesh ([name]: a new identity's). */
    private fun begin(name: String?) {
        if (name != null) {
            tabRow.visibility = View.VISIBLE
            show(tabs.first())
            BatteryExemption.askIfNeeded(this)
        }
        val missing = MeshPermissions.missing(this)
        if (missing.isEmpty()) {
            startMesh(name)
        } else {
            pendingName = name
            requestPermissions(missing.toTypedArray(), REQUEST_PERMISSIONS)
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        // Whatever was refused, the mesh runs with what it has (LAN without
        // Bluetooth, or the other way round).
        if (requestCode == REQUEST_PERMISSIONS) startMesh(pendingName)
        if (requestCode == REQUEST_MICROPHONE && grantResults.firstOrNull() == PackageManager.PERMISSION_GRANTED) {
            (current as? ChatScreen)?.record()
        }
    }

    private fun startMesh(name: String?) {
        if (connecting != null) return
        connecting = scope.launch {
            try {
                mesh.connect(name).collect(::onNode)
            } catch (e: kotlinx.coroutines.CancellationException) {
                throw e
            } catch (e: Exception) {
                onNode(null)
                connecting = null
                toast(e)
            }
        }
    }

    /**
     * The node to draw from: a new one, or null while there is none (the
     * service lost it; a closed node must not be called, so nothing is
     * until the next one comes).
     */
    private fun onNode(connected: MeshNode?) {
        events?.cancel()
        events = null
        if (connected == null && node != null) lost = true
        node = connected
        meshStatus.text = if (lost) LOST else STARTING
        meshStatus.visibility = if (connected == null) View.VISIBLE else View.GONE
        if (connected == null) return
        if (resumed) connected.notifier.openChat = (current as? ChatScreen)?.conversationId
        connected.inFront(resumed)
        events = scope.launch { connected.pollen.events.collect(::onEvent) }
        scope.launch { runCatching { keepPrivate(connected.pollen.screenPrivate()) } }
        refresh()
    }

    /** Screenshots, screen recording and the app switcher's thumbnail: kept out ([on]) or let in. */
    private fun keepPrivate(on: Boolean) {
        if (on) {
            window.addFlags(WindowManager.LayoutParams.FLAG_SECURE)
        } else {
            window.clearFlags(WindowManager.LayoutParams.FLAG_SECURE)
        }
    }

    /** Every event may change what the screen shows; the core keeps the state (neighbours too). */
    private fun onEvent(@Suppress("UNUSED_PARAMETER") event: PollenEvent) {
        refresh()
    }

    private fun show(screen: Screen) {
        // A chat left behind stops recording and playing.
        if (::current.isInitialized && current !== screen) (current as? ChatScreen)?.pause()
        current = screen
        if (resumed) node?.notifier?.openChat = (screen as? ChatScreen)?.conversationId
        content.removeAllViews()
        content.addView(screen.view)
        refresh()
    }

    private fun openChat(conversationId: String, title: String) {
        val recorder = (application as? VoiceRecorder.Provider)?.voiceRecorder(this) ?: MediaVoiceRecorder(this)
        show(
            ChatScreen(
                this, conversationId, title, scope, { pollen }, ::report, recorder,
                pickFile = ::pickAttachment, askMicrophone = ::askMicrophone, openBoard = ::openBoard, openMembers = ::openMembers,
            ),
        )
        node?.notifier?.clear(conversationId)
    }

    private fun openMembers(conversationId: String, title: String) {
        show(GroupMembersScreen(this, conversationId, title, scope, { pollen }, ::report))
    }

    private fun openBoard(conversationId: String, title: String) {
        show(BoardScreen(this, conversationId, title, scope, { pollen }, ::report))
    }

    /**
     * Panic wipe: lets go of the node (so nothing restarts it), has the
     * mesh erase everything, then shows the first run again.
     */
    private fun erase() {
        val wipe = node?.wipe ?: return
        connecting?.cancel()
        connecting = null
        events?.cancel()
        events = null
        node = null
        lost = false
        meshStatus.visibility = View.GONE
        scope.launch {
            try {
                wipe()
            } catch (e: Exception) {
                toast(e)
            }
            tabRow.visibility = View.GONE
            show(FirstRunScreen(this@MainActivity) { name -> begin(name) })
        }
    }

    /** The system's file picker: where to write a bundle, or which to read (the Storage Access Framework). */
    private fun pickBundle(export: Boolean) {
        val intent = if (export) {
            Intent(Intent.ACTION_CREATE_DOCUMENT).putExtra(Intent.EXTRA_TITLE, "pollen-bundle.pollen")
        } else {
            Intent(Intent.ACTION_OPEN_DOCUMENT)
        }
        intent.addCategory(Intent.CATEGORY_OPENABLE).setType("application/octet-stream")
        startActivityForResult(intent, if (export) REQUEST_EXPORT else REQUEST_IMPORT)
    }

    /** The system's document picker, for a photo or file to send in the open chat. */
    private fun pickAttachment() {
        startActivityForResult(Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("*/*"), REQUEST_ATTACH)
    }

    /** The microphone, for a voice note: asked for when first needed. */
    private fun askMicrophone() {
        requestPermissions(arrayOf(Manifest.permission.RECORD_AUDIO), REQUEST_MICROPHONE)
    }

    /** A tapped notification carries the chat to open. */
    private fun openFromNotification(intent: Intent?) {
        val id = intent?.getStringExtra(org.pollen.android.MessageNotifier.EXTRA_CONVERSATION) ?: return
        scope.launch {
            val node = pollen ?: awaitNode()
            runCatching { node.chatList().firstOrNull { it.conversationId == id } }
                .onFailure(::report)
                .getOrNull()
                ?.let { openChat(it.conversationId, it.title) }
        }
    }

    private suspend fun awaitNode(): Pollen {
        while (pollen == null) kotlinx.coroutines.delay(50)
        return pollen!!
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        setIntent(intent)
        openFromNotification(intent)
    }

    override fun onResume() {
        super.onResume()
        resumed = true
        node?.notifier?.openChat = (current as? ChatScreen)?.conversationId
        node?.inFront?.invoke(true)
        refresh()
    }

    override fun onPause() {
        // In the background every chat's messages notify.
        resumed = false
        (current as? ChatScreen)?.pause()
        node?.notifier?.openChat = null
        node?.inFront?.invoke(false)
        super.onPause()
    }

    private fun refresh() {
        val node = pollen ?: return
        val screen = current
        scope.launch { runCatching { screen.refresh(node) }.onFailure { if (!node.isClosed) report(it) } }
    }

    private fun photograph() {
        startActivityForResult(Intent(MediaStore.ACTION_IMAGE_CAPTURE), REQUEST_PHOTO)
    }

    @Deprecated("Framework callback; the app uses no AndroidX result API.")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        val picked = data?.data
        if (resultCode == RESULT_OK && picked != null) {
            if (requestCode == REQUEST_EXPORT) return settings.exportTo(picked)
            if (requestCode == REQUEST_IMPORT) return settings.importFrom(picked)
            if (requestCode == REQUEST_ATTACH) return (current as? ChatScreen)?.sendPicked(picked) ?: Unit
        }
        if (requestCode != REQUEST_PHOTO || resultCode != RESULT_OK) return
        @Suppress("DEPRECATION")
        val photo = data?.extras?.get("data") as? Bitmap
        if (photo != null) contacts.photographed(photo)
    }

    private fun report(error: Throwable) {
        // A call in flight when the service closed its node fails; the
        // status line already says the mesh stopped.
        if (node?.pollen?.isClosed == true || (node == null && lost)) return
        // The same, for a node let go before the current one (a panic wipe,
        // a restart): UniFFI refuses any call on an object already freed,
        // and a call still in flight then is no news to the user.
        if (error is IllegalStateException && error.message.orEmpty().endsWith("already been destroyed")) return
        toast(error)
    }

    private fun toast(error: Throwable) {
        Toast.makeText(this, error.message ?: error.toString(), Toast.LENGTH_LONG).show()
    }

    override fun onDestroy() {
        // Stops collecting the connection, which unbinds the service.
        scope.cancel()
        super.onDestroy()
    }

    /** View ids and texts the UI tests find. */
    companion object {
        private const val REQUEST_PERMISSIONS = 1
        private const val REQUEST_PHOTO = 2
        private const val REQUEST_EXPORT = 3
        private const val REQUEST_IMPORT = 4
        private const val REQUEST_ATTACH = 5
        private const val REQUEST_MICROPHONE = 6

        /** The line above the screens saying the mesh is not there (hidden while it runs). */
        const val MESH_STATUS_ID = 0x7f0a0001

        /** Shown until the node first runs. */
        const val STARTING = "Starting the mesh…"

        /** Shown when the running node was lost, until the next one runs. */
        const val LOST = "The mesh stopped; starting it again…"
    }
}
