package org.pollen.android

import android.content.Intent
import android.content.pm.ServiceInfo
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import uniffi.pollen.PollenException
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.w3c.dom.Element

/** The foreground service on Robolectric's Android, running the real core. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class PollenServiceTest {
    init {
        TestKeyGuard.install()
    }

    @Test
    fun serviceRunsTheNodeInTheForegroundAndStopsIt() {
        val intent = Intent()
            .putExtra(PollenService.EXTRA_NAME, "Robo")
            .putExtra(PollenService.EXTRA_LAN, true)
        val controller = Robolectric.buildService(PollenService::class.java, intent).create().startCommand(0, 1)
        val service = controller.get()

        val pollen = runBlocking { withTimeout(START_TIMEOUT_MS) { service.node.filterNotNull().first() } }
        assertNull(service.failure.value)
        assertTrue(pollen.isRunning())
        val status = runBlocking { pollen.status() }
        assertEquals("Robo", status.name)
        assertTrue("the LAN transport listens", status.running && status.lanAddress != null)

        assertNotNull(shadowOf(service).lastForegroundNotification)
        assertFalse(shadowOf(service).isForegroundStopped)
        assertEquals(ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE, service.foregroundServiceType)
        assertTrue("multicast lock held for mDNS", service.multicastLockHeld)

        controller.destroy()
        assertNull(service.node.value)
        assertFalse(service.multicastLockHeld)
        // The store was closed and kept the identity, sealed by the key
        // guard: it opens again with the guard, and not without.
        val dir = File(RuntimeEnvironment.getApplication().filesDir, "pollen").path
        runBlocking { Pollen.openOrCreate(dir, "ignored", PollenService.keyGuard()).use { assertEquals("Robo", it.identity().name) } }
        val plain = runCatching { runBlocking { Pollen.open(dir) } }.exceptionOrNull()
        assertTrue("opened without its guard: $plain", plain is PollenException.IdentitySealed)
        val other = runCatching { runBlocking { Pollen.openOrCreate(dir, "Mallory", TestKeyGuard()) } }.exceptionOrNull()
        assertTrue("opened with another key: $other", other is PollenException.KeyGuard)
    }

    @Test
    fun aReplyTypedInAMessageNotificationIsSentInItsChat() {
        val app = RuntimeEnvironment.getApplication()
        val intent = Intent().putExtra(PollenService.EXTRA_NAME, "Ana").putExtra(PollenService.EXTRA_LAN, false)
        val controller = Robolectric.buildService(PollenService::class.java, intent).create().startCommand(0, 1)
        val service = controller.get()
        val ana = runBlocking { withTimeout(START_TIMEOUT_MS) { service.node.filterNotNull().first() } }
        val dir = java.nio.file.Files.createTempDirectory("pollen-reply").toFile()
        try {
            // Chen's message reaches Ana's phone (by a bundle file): the service posts its notification.
            runBlocking { Pollen.create(File(dir, "chen").path, "Chen") }.use { chen ->
                runBlocking {
                    ana.addContactFromInput(chen.card())
                    chen.addContactFromInput(ana.card())
                    chen.sendDirect("Ana", "are you coming to the square?")
                    chen.exportBundle(File(dir, "b").path)
                    ana.importBundle(File(dir, "b").path)
                }
            }
            val notifications = shadowOf(app.getSystemService(android.app.NotificationManager::class.java))
            val deadline = System.currentTimeMillis() + START_TIMEOUT_MS
            while (notifications.allNotifications.none { it.extras.getString("android.title") == "Chen" }) {
                assertTrue("the message's notification is posted", System.currentTimeMillis() < deadline)
                shadowOf(android.os.Looper.getMainLooper()).idle()
                Thread.sleep(10)
            }
            val posted = notifications.allNotifications.single { it.extras.getString("android.title") == "Chen" }
            val reply = posted.actions.single { it.title == "Reply" }
            val input = reply.remoteInputs.single()

            // Ana types her answer in the notification and sends it.
            val typed = Intent(shadowOf(reply.actionIntent).savedIntent)
            android.app.RemoteInput.addResultsToIntent(
                arrayOf(input),
                typed,
                android.os.Bundle().apply { putCharSequence(input.resultKey, "yes, in ten minutes") },
            )
            ReplyReceiver().onReceive(app, typed)
            val forwarded = shadowOf(app).nextStartedService
            assertEquals(PollenService.ACTION_REPLY, forwarded.action)
            controller.withIntent(forwarded).startCommand(0, 2)

            val chat = runBlocking { ana.openChatWithContact("Chen") }.conversationId
            fun sent() = runBlocking { ana.timeline(chat) }.any { entry ->
                (entry as? uniffi.pollen.TimelineEntry.Message)?.message?.let { it.own && it.text == "yes, in ten minutes" } == true
            }
            while (!sent()) {
                assertTrue("the reply is sent in Chen's chat", System.currentTimeMillis() < deadline)
                shadowOf(android.os.Looper.getMainLooper()).idle()
                Thread.sleep(10)
            }
            // The service clears it once the core took the reply (just after it shows).
            while (notifications.allNotifications.any { it.extras.getString("android.title") == "Chen" }) {
                assertTrue("the answered chat's notification is gone", System.currentTimeMillis() < deadline)
                shadowOf(android.os.Looper.getMainLooper()).idle()
                Thread.sleep(10)
            }
        } finally {
            controller.destroy()
            dir.deleteRecursively()
        }
    }

    @Test
    fun permissionsAreMissingUntilGranted() {
        val app = RuntimeEnvironment.getApplication()
        assertEquals(MeshPermissions.runtime(35), MeshPermissions.missing(app))
        shadowOf(app).grantPermissions(*MeshPermissions.runtime(35).toTypedArray())
        assertEquals(emptyList<String>(), MeshPermissions.missing(app))
    }

    @Test
    fun manifestDeclaresWhatTheCodeAsksFor() {
        val path = System.getProperty("pollen.manifest") ?: "src/main/AndroidManifest.xml"
        val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
            .newDocumentBuilder().parse(File(path))
        fun elements(tag: String) = doc.getElementsByTagName(tag).let { list ->
            (0 until list.length).map { list.item(it) as Element }
        }
        fun Element.android(attr: String) = getAttributeNS(ANDROID_NS, attr)
        val declared = elements("uses-permission").associateBy { it.android("name") }

        for (sdk in 23..37) {
            for (permission in MeshPermissions.runtime(sdk)) {
                assertTrue("$permission (SDK $sdk) not declared", permission in declared)
            }
        }
        for (name in listOf("FOREGROUND_SERVICE", "FOREGROUND_SERVICE_CONNECTED_DEVICE", "CHANGE_WIFI_MULTICAST_STATE")) {
            assertTrue("$name not declared", "android.permission.$name" in declared)
        }
        assertEquals("neverForLocation", declared.getValue("android.permission.BLUETOOTH_SCAN").android("usesPermissionFlags"))
        for (legacy in listOf("BLUETOOTH", "BLUETOOTH_ADMIN", "ACCESS_FINE_LOCATION")) {
            assertEquals("30", declared.getValue("android.permission.$legacy").android("maxSdkVersion"))
        }
        val service = elements("service").single { it.android("name") == PollenService::class.java.name }
        assertEquals("connectedDevice", service.android("foregroundServiceType"))
        assertEquals("false", service.android("exported"))
        val reply = elements("receiver").single { it.android("name") == ReplyReceiver::class.java.name }
        assertEquals("only our notification's intent reaches it", "false", reply.android("exported"))

        // Other apps: a permission Android asks the user for, guarding the shared-documents service.
        val permission = elements("permission").single { it.android("name") == PollenDocsClient.PERMISSION }
        assertEquals("dangerous", permission.android("protectionLevel"))
        val docs = elements("service").single { it.android("name") == SharedDocsService::class.java.name }
        assertEquals("true", docs.android("exported"))
        assertEquals(PollenDocsClient.PERMISSION, docs.android("permission"))
        val action = docs.getElementsByTagName("action").item(0) as Element
        assertEquals(PollenDocsClient.ACTION, action.android("name"))
    }

    private companion object {
        const val START_TIMEOUT_MS = 30_000L
        const val ANDROID_NS = "http://schemas.android.com/apk/res/android"
    }
}
