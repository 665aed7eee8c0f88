package org.pollen.app

import android.content.ComponentName
import android.content.ContextWrapper
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.os.Looper
import android.os.Process
import android.widget.Button
import android.widget.ListView
import android.widget.Spinner
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONArray
import org.json.JSONObject
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.pollen.android.Pollen
import org.pollen.android.PollenDocsClient
import org.pollen.android.PollenService
import org.pollen.android.SharedDocsService
import org.pollen.android.TestKeyGuard
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowBinder
import uniffi.pollen.BoardItemKind

/**
 * Another app on the phone (its own package and uid) asks Pollen's
 * [SharedDocsService] for the board: denied until the user lets it read
 * in Settings, read-only until the user lets it change, denied again once
 * the user takes it back. Everything goes through the binder the app gets
 * and the screens the user taps; the node is the one [PollenService] runs.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class SharedDocsAccessTest {
    init {
        TestKeyGuard.install()
    }

    private val app get() = RuntimeEnvironment.getApplication()
    private val scope = CoroutineScope(SupervisorJob() + MainLooper)
    private val errors = mutableListOf<Throwable>()
    private val dir: File = Files.createTempDirectory("pollen-access").toFile()

    @After
    fun close() {
        scope.cancel()
        dir.deleteRecursively()
    }

    /** An app Android installed with its own uid, holding Pollen's permission if [permitted]. */
    private fun install(pkg: String, uid: Int, permitted: Boolean) {
        shadowOf(app.packageManager).installPackage(PackageInfo().apply {
            packageName = pkg
            applicationInfo = ApplicationInfo().apply {
                packageName = pkg
                this.uid = uid
            }
            requestedPermissions = arrayOf(PollenDocsClient.PERMISSION)
            requestedPermissionsFlags = intArrayOf(if (permitted) PackageInfo.REQUESTED_PERMISSION_GRANTED else 0)
        })
        shadowOf(app.packageManager).setPackagesForUid(uid, pkg)
        if (permitted) shadowOf(app).grantPermissions(Process.myPid(), uid, PollenDocsClient.PERMISSION)
    }

    /** The other app's context: its own package name. */
    private fun contextOf(pkg: String) = object : ContextWrapper(app) {
        override fun getPackageName() = pkg
    }

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
    fun anotherAppReadsAndChangesTheBoardOnlyAsTheUserLetsItInSettings() {
        // Pollen runs Ana's node in its service; her chat with Chen has a board.
        val pollenService = Robolectric.buildService(PollenService::class.java, Intent().putExtra(PollenService.EXTRA_LAN, false))
            .create().startCommand(0, 1)
        val ana = runBlocking { withTimeout(30_000) { pollenService.get().node.filterNotNull().first() } }
        val board = runBlocking {
            val chen = Pollen.create(File(dir, "chen").path, "Chen").use { it.card() }
            ana.addContactFromInput(chen)
            val chat = ana.openChatWithContact("Chen")
            ana.startBoard(chat.conversationId, "Street board").also {
                ana.postToBoard(it, BoardItemKind.NEED, "water, 20 l")
            }
        }

        // The notes app asked Android for the permission and got it; it binds Pollen's service.
        install(NOTES, NOTES_UID, permitted = true)
        val docsService = Robolectric.buildService(SharedDocsService::class.java).create()
        val binder = docsService.get().onBind(Intent(PollenDocsClient.ACTION))
        // What Android hands an app binding Pollen's action in Pollen's package (and nothing else).
        val pollenIntent = Intent(PollenDocsClient.ACTION).setPackage(PollenDocsClient.POLLEN_PACKAGE)
        shadowOf(app).setComponentNameAndServiceForBindServiceForIntent(pollenIntent, ComponentName(app, SharedDocsService::class.java), binder)
        var connected: PollenDocsClient? = null
        PollenDocsClient.bind(contextOf(NOTES)) { connected = it }
        until("the client is bound") { connected != null }
        val notes = connected!!
        assertEquals(1, shadowOf(app).boundServiceConnections.size)

        /** A call as the notes app: Android names its uid to the service. */
        fun <T> asNotes(call: PollenDocsClient.() -> T): T {
            ShadowBinder.setCallingUid(NOTES_UID)
            try {
                return notes.call()
            } finally {
                ShadowBinder.setCallingUid(Process.myUid())
            }
        }

        // Not granted: nothing listed, the board refused, its content nowhere in the answer.
        val listedBefore = asNotes { listDocs() }
        assertEquals(PollenDocsClient.OK, listedBefore.status)
        assertEquals(0, JSONArray(listedBefore.body).length())
        val refused = asNotes { readDoc(board) }
        assertEquals(refused.body, PollenDocsClient.DENIED, refused.status)
        assertFalse(refused.body.contains("water"))
        assertEquals(PollenDocsClient.DENIED, asNotes { changeDoc(board, BREAD) }.status)

        // The user opens Settings, then the other-apps screen, picks the notes app and the board, and lets it read.
        var opened: AppAccessScreen? = null
        val settings = SettingsScreen(app, scope, { ana }, { errors += it }, {}, {}, openAppAccess = {
            opened = AppAccessScreen(app, scope, { ana }, { errors += it })
        })
        settings.view.button(SettingsScreen.OTHER_APPS).performClick()
        val access = checkNotNull(opened)
        runBlocking { access.refresh(ana) }
        val apps = access.view.findViewById<Spinner>(AppAccessScreen.APPS_ID)
        val docs = access.view.findViewById<Spinner>(AppAccessScreen.DOCS_ID)
        val grants = access.view.findViewById<ListView>(AppAccessScreen.GRANTS_ID)
        val offered = (0 until apps.adapter.count).map { apps.adapter.getItem(it) as String }
        assertEquals("the app that holds the permission is offered", listOf(NOTES), offered)
        apps.setSelection(0)
        docs.setSelection((0 until docs.adapter.count).single { (docs.adapter.getItem(it) as String).startsWith("Street board") })
        access.view.findViewById<Button>(AppAccessScreen.READ_ID).performClick()
        until("the read grant is listed") { grants.lines() == listOf("$NOTES · Street board · read") }

        // Now it reads the board's JSON and sees it listed, but may not post.
        val read = asNotes { readDoc(board) }
        assertEquals(read.body, PollenDocsClient.OK, read.status)
        val items = JSONObject(read.body).getJSONObject("items")
        assertEquals("water, 20 l", items.getJSONObject(items.keys().next()).getString("text"))
        val listed = JSONArray(asNotes { listDocs() }.body)
        assertEquals(board, listed.getJSONObject(0).getString("id"))
        assertFalse(listed.getJSONObject(0).getBoolean("writable"))
        val readOnly = asNotes { changeDoc(board, BREAD) }
        assertEquals(readOnly.body, PollenDocsClient.READ_ONLY, readOnly.status)
        assertEquals(1, runBlocking { ana.boardItems(board) }.size)

        // Let it read and change: it posts an offer, which Ana's board shows.
        access.view.findViewById<Button>(AppAccessScreen.WRITE_ID).performClick()
        until("the write grant is listed") { grants.lines() == listOf("$NOTES · Street board · read and change") }
        val posted = asNotes { changeDoc(board, BREAD) }
        assertEquals(posted.body, PollenDocsClient.OK, posted.status)
        assertTrue(runBlocking { ana.boardItems(board) }.any { it.text == "bread, two loaves" && it.by == "the notes app" })

        // Another app, and an app naming a package not its own, get nothing from the notes app's grant.
        install(OTHER, OTHER_UID, permitted = false)
        ShadowBinder.setCallingUid(OTHER_UID)
        try {
            assertEquals(PollenDocsClient.NO_PERMISSION, PollenDocsClient(binder, OTHER).readDoc(board).status)
            shadowOf(app).grantPermissions(Process.myPid(), OTHER_UID, PollenDocsClient.PERMISSION)
            assertEquals(PollenDocsClient.NOT_CALLER, PollenDocsClient(binder, NOTES).readDoc(board).status)
            assertEquals(PollenDocsClient.DENIED, PollenDocsClient(binder, OTHER).readDoc(board).status)
        } finally {
            ShadowBinder.setCallingUid(Process.myUid())
        }

        // The user taps the grant: taken back, the notes app is denied again.
        grants.performItemClick(grants, 0, 0)
        until("the grant is gone") { grants.lines().isEmpty() }
        assertEquals(PollenDocsClient.DENIED, asNotes { readDoc(board) }.status)
        assertEquals(PollenDocsClient.DENIED, asNotes { changeDoc(board, BREAD) }.status)

        docsService.destroy()
        pollenService.destroy()
        assertEquals("no node, no answer", PollenDocsClient.NOT_RUNNING, asNotes { listDocs() }.status)
    }

    private companion object {
        const val NOTES = "com.example.notes"
        const val NOTES_UID = 10_123
        const val OTHER = "com.example.other"
        const val OTHER_UID = 10_124
        const val BREAD = """[{"op":"set","path":"items/n1","value":{"kind":"offer","text":"bread, two loaves","by":"the notes app","at":1,"status":"open"}}]"""
    }
}
