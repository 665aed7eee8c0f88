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
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.w3c.dom.Element

/** The foreground service on Robolectric's Android, running the real core. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], manifest = Config.NONE)
class PollenServiceTest {
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
        // The store was closed and kept the identity: it opens again.
        val dir = File(RuntimeEnvironment.getApplication().filesDir, "pollen").path
        runBlocking { Pollen.open(dir).use { assertEquals("Robo", it.identity().name) } }
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
    }

    private companion object {
        const val START_TIMEOUT_MS = 30_000L
        const val ANDROID_NS = "http://schemas.android.com/apk/res/android"
    }
}
