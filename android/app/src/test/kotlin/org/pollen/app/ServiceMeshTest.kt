package org.pollen.app

import android.content.ComponentName
import android.content.Intent
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.ListView
import android.widget.TextView
import java.io.File
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.pollen.android.MeshPermissions
import org.pollen.android.Pollen
import org.pollen.android.PollenService
import org.pollen.android.TestKeyGuard
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ServiceController
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import uniffi.pollen.BlePowerMode

/**
 * The app on a phone gets its node from the foreground service; when the
 * service goes (its node closed with it) the app stops calling that node,
 * says so, starts the service again and draws from the next node.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class ServiceMeshTest {
    init {
        TestKeyGuard.install()
    }

    private val app get() = RuntimeEnvironment.getApplication()
    private val component get() = ComponentName(app, PollenService::class.java)

    /** A service as Android would run it, with the node started (no LAN). */
    private fun service(): ServiceController<PollenService> {
        val controller = Robolectric.buildService(PollenService::class.java, Intent().putExtra(PollenService.EXTRA_LAN, false))
            .create().startCommand(0, 1)
        runBlocking { withTimeout(30_000) { controller.get().node.filterNotNull().first() } }
        // What bindService hands the app from now on.
        shadowOf(app).setComponentNameAndServiceForBindService(component, controller.get().onBind(null))
        return controller
    }

    private fun startedServices(): List<String?> =
        generateSequence { shadowOf(app).nextStartedService }.map { it.component?.className }.toList()

    @Test
    fun whenTheServiceDiesTheAppStopsUsingItsNodeStartsItAgainAndUsesTheNextOne() {
        shadowOf(app).grantPermissions(*MeshPermissions.runtime(35).toTypedArray())
        runBlocking {
            Pollen.create(File(app.filesDir, "pollen").path, "Robo").use { it.joinChannel("#square") }
        }
        val first = service()
        startedServices()
        val controller = Robolectric.buildActivity(MainActivity::class.java).setup()
        val activity = controller.get()
        val status = activity.findViewById<TextView>(MainActivity.MESH_STATUS_ID)
        val chats = activity.findViewById<ListView>(ConversationsScreen.CHAT_LIST_ID)
        until("the chat list is drawn from the service's node") { chats.lines().any { it.startsWith("#square") } }
        assertEquals(View.GONE, status.visibility)
        until("the app in front asks for the low-latency radio") { first.get().powerMode == BlePowerMode.FOREGROUND }
        // Started (Robolectric also lists the bound service as started).
        assertTrue(PollenService::class.java.name in startedServices())

        chats.performItemClick(chats, 0, 0)
        val draft = activity.findViewById<EditText>(ChatScreen.DRAFT_ID)
        val send = activity.findViewById<Button>(ChatScreen.SEND_ID)
        val timeline = activity.findViewById<ListView>(ChatScreen.TIMELINE_ID)
        draft.setText("before")
        send.performClick()
        until("the message is sent") { "me · sent: before" in timeline.lines() }

        // The service dies (its node is closed) and Android disconnects the binding.
        first.destroy()
        val binding = shadowOf(app).boundServiceConnections.single()
        binding.onServiceDisconnected(component)
        until("the app says the mesh stopped") { status.visibility == View.VISIBLE }
        assertEquals(MainActivity.LOST, status.text.toString())
        assertEquals("the app starts the service again", listOf(PollenService::class.java.name), startedServices())

        // Sending now calls no closed node (which would fail, shown as a
        // toast that until() catches): the draft waits.
        draft.setText("while it was down")
        send.performClick()
        Thread.sleep(200)
        shadowOf(android.os.Looper.getMainLooper()).idle()
        assertNull("no error shown", ShadowToast.getTextOfLatestToast())
        assertEquals("while it was down", draft.text.toString())

        // The service runs again; Android connects the binding to it.
        val second = service()
        binding.onServiceConnected(component, second.get().onBind(null))
        until("the app uses the new node") { status.visibility == View.GONE }
        send.performClick()
        until("the waiting message is sent through the new node") {
            timeline.lines().filter { it.startsWith("me") } == listOf("me · sent: before", "me · sent: while it was down")
        }

        // A binding Android gave up on is bound afresh, to the running service.
        binding.onBindingDied(component)
        until("bound again") { shadowOf(app).boundServiceConnections.size == 1 && status.visibility == View.GONE }
        draft.setText("after rebinding")
        send.performClick()
        until("sent after rebinding") { "me · sent: after rebinding" in timeline.lines() }

        // The app leaves the front: the new node's radio goes balanced.
        controller.pause()
        until("background mode") { second.get().powerMode == BlePowerMode.BACKGROUND }
        controller.resume()
        until("foreground mode") { second.get().powerMode == BlePowerMode.FOREGROUND }
        second.destroy()
    }
}
