package org.pollen.app

import android.app.Activity
import android.content.ComponentName
import android.content.Intent
import android.content.ServiceConnection
import android.graphics.Bitmap
import android.os.Bundle
import android.os.IBinder
import android.provider.MediaStore
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.Toast
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.Job
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import org.pollen.android.MeshPermissions
import org.pollen.android.MessageNotifier
import org.pollen.android.Pollen
import org.pollen.android.PollenEvent
import org.pollen.android.PollenService
import uniffi.pollen.NeighbourInfo

/**
 * The app's one activity: asks for the mesh permissions, starts and binds the
 * service, and shows one [Screen] at a time under a row of tabs.
 */
class MainActivity : Activity() {
    private val scope = MainScope()
    private var pollen: Pollen? = null
    private var bound = false
    private var events: Job? = null
    private val neighbours = ConcurrentHashMap<String, NeighbourInfo>()
    private lateinit var content: FrameLayout
    private lateinit var contacts: ContactsScreen
    private lateinit var tabs: List<Screen>
    private lateinit var current: Screen
    private var resumed = false

    private val connection = object : ServiceConnection {
        override fun onServiceConnected(name: ComponentName?, binder: IBinder?) {
            val service = (binder as PollenService.LocalBinder).service
            scope.launch {
                val node = service.node.filterNotNull().first()
                pollen = node
                events = launch { node.events.collect(::onEvent) }
                refresh()
            }
        }

        override fun onServiceDisconnected(name: ComponentName?) {
            events?.cancel()
            pollen = null
        }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val node = { pollen }
        contacts = ContactsScreen(this, scope, node, ::photograph, ::report, ::openChat)
        tabs = listOf(
            ConversationsScreen(this, ::openChat),
            contacts,
            NearbyScreen(this) { neighbours.values },
            SettingsScreen(this, scope, node, ::report),
        )
        content = FrameLayout(this)
        val tabRow = row(*tabs.map { screen -> button(screen.title) { show(screen) } }.toTypedArray())
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                addView(content, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f))
                addView(tabRow)
            },
        )
        show(tabs.first())
        openFromNotification(intent)

        val missing = MeshPermissions.missing(this)
        if (missing.isEmpty()) startMesh() else requestPermissions(missing.toTypedArray(), REQUEST_PERMISSIONS)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        // Whatever was refused, the mesh runs with what it has (LAN without
        // Bluetooth, or the other way round).
        if (requestCode == REQUEST_PERMISSIONS) startMesh()
    }

    private fun startMesh() {
        PollenService.start(this)
        bound = bindService(Intent(this, PollenService::class.java), connection, BIND_AUTO_CREATE)
    }

    private fun onEvent(event: PollenEvent) {
        when (event) {
            is PollenEvent.NeighbourAppeared -> neighbours[event.neighbour.id] = event.neighbour
            is PollenEvent.NeighbourLeft -> neighbours.remove(event.neighbour.id)
            else -> Unit
        }
        refresh()
    }

    private fun show(screen: Screen) {
        current = screen
        if (screen !is ChatScreen && resumed) MessageNotifier.openChat = null
        content.removeAllViews()
        content.addView(screen.view)
        refresh()
    }

    private fun openChat(conversationId: String, title: String) {
        show(ChatScreen(this, conversationId, title, scope, { pollen }, ::report))
        if (resumed) MessageNotifier.openChat = conversationId
    }

    /** A tapped notification carries the chat to open. */
    private fun openFromNotification(intent: Intent?) {
        val id = intent?.getStringExtra(MessageNotifier.EXTRA_CONVERSATION) ?: return
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
        openFromNotification(intent)
    }

    override fun onResume() {
        super.onResume()
        resumed = true
        MessageNotifier.openChat = (current as? ChatScreen)?.conversationId
        refresh()
    }

    override fun onPause() {
        // In the background every chat's messages notify.
        resumed = false
        MessageNotifier.openChat = null
        super.onPause()
    }

    private fun refresh() {
        val node = pollen ?: return
        val screen = current
        scope.launch { runCatching { screen.refresh(node) }.onFailure(::report) }
    }

    private fun photograph() {
        startActivityForResult(Intent(MediaStore.ACTION_IMAGE_CAPTURE), REQUEST_PHOTO)
    }

    @Deprecated("Framework callback; the app uses no AndroidX result API.")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        if (requestCode != REQUEST_PHOTO || resultCode != RESULT_OK) return
        @Suppress("DEPRECATION")
        val photo = data?.extras?.get("data") as? Bitmap
        if (photo != null) contacts.photographed(photo)
    }

    private fun report(error: Throwable) {
        Toast.makeText(this, error.message ?: error.toString(), Toast.LENGTH_LONG).show()
    }

    override fun onDestroy() {
        if (bound) unbindService(connection)
        scope.cancel()
        super.onDestroy()
    }

    private companion object {
        const val REQUEST_PERMISSIONS = 1
        const val REQUEST_PHOTO = 2
    }
}
