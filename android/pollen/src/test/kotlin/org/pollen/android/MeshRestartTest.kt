package org.pollen.android

import android.app.Service
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothManager
import android.bluetooth.le.AdvertiseSettings
import android.content.Intent
import android.os.Looper
import java.io.File
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ServiceController
import org.robolectric.annotation.Config
import uniffi.pollen.BlePowerMode
import uniffi.pollen.TransportsInfo

/** The mesh stops and starts again with Bluetooth, permissions, process death and boot. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class MeshRestartTest {
    init {
        TestKeyGuard.install()
    }

    private val app get() = RuntimeEnvironment.getApplication()
    private val adapter: BluetoothAdapter get() = app.getSystemService(BluetoothManager::class.java).adapter

    private fun service(intent: Intent?): ServiceController<PollenService> =
        Robolectric.buildService(PollenService::class.java, intent).create()

    private fun PollenService.running(): Pollen =
        runBlocking { withTimeout(START_TIMEOUT_MS) { node.filterNotNull().first() } }

    private fun until(what: String, done: () -> Boolean) {
        val deadline = System.currentTimeMillis() + 20_000
        while (!done()) {
            assertTrue("timed out waiting for $what", System.currentTimeMillis() < deadline)
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
    }

    private fun PollenService.ble(pollen: Pollen): Boolean = bluetoothRunning && runBlocking { pollen.bleIsOn() }

    private fun bluetooth(on: Boolean) {
        shadowOf(adapter).setEnabled(on)
        val state = if (on) BluetoothAdapter.STATE_ON else BluetoothAdapter.STATE_OFF
        app.sendBroadcast(Intent(BluetoothAdapter.ACTION_STATE_CHANGED).putExtra(BluetoothAdapter.EXTRA_STATE, state))
    }

    /** The service started with Bluetooth on and permitted, once its node runs BLE. */
    private fun startedWithBle(): Pair<ServiceController<PollenService>, Pollen> {
        shadowOf(app).grantPermissions(*MeshPermissions.runtime(35).toTypedArray())
        shadowOf(adapter).setEnabled(true)
        val controller = service(offline).startCommand(0, 1)
        val pollen = controller.get().running()
        until("BLE runs") { controller.get().ble(pollen) }
        return controller to pollen
    }

    private val offline = Intent().putExtra(PollenService.EXTRA_NAME, "Robo").putExtra(PollenService.EXTRA_LAN, false)

    @Test
    fun bluetoothTurnedOffStopsTheBleMeshAndTurnedOnStartsIt() {
        val (controller, pollen) = startedWithBle()
        val service = controller.get()

        bluetooth(false)
        until("BLE stops with Bluetooth") { !service.ble(pollen) && !runBlocking { pollen.bleIsOn() } }
        assertTrue("the rest of the node runs on", pollen.isRunning())

        bluetooth(true)
        until("BLE starts again with Bluetooth") { service.ble(pollen) }
        controller.destroy()
    }

    @Test
    fun bluetoothSwitchedOffInSettingsStopsTheBleMeshUntilSwitchedOnAgain() {
        val (controller, pollen) = startedWithBle()
        val service = controller.get()

        runBlocking { pollen.setTransports(TransportsInfo(bluetooth = false, wifi = true)) }
        service.transportsChanged()
        until("BLE stops though Bluetooth is on") { !service.ble(pollen) && !runBlocking { pollen.bleIsOn() } }
        // Bluetooth toggled by the system does not bring it back while switched off.
        bluetooth(false)
        bluetooth(true)
        Thread.sleep(200)
        shadowOf(Looper.getMainLooper()).idle()
        assertFalse("switched off in Settings stays off", service.bluetoothRunning)
        assertTrue("the rest of the node runs on", pollen.isRunning())

        runBlocking { pollen.setTransports(TransportsInfo(bluetooth = true, wifi = true)) }
        service.transportsChanged()
        until("BLE starts again") { service.ble(pollen) }
        controller.destroy()
    }

    @Test
    fun thePanicWipeErasesTheNodeAndStopsTheService() {
        val (controller, pollen) = startedWithBle()
        val service = controller.get()
        val card = runBlocking { pollen.card() }
        assertTrue(PollenService.hasIdentity(app))

        val erased = runBlocking { service.wipe() }
        assertTrue("files were erased ($erased)", erased > 0UL)
        assertFalse("no identity left", PollenService.hasIdentity(app))
        assertNull("no node", service.node.value)
        assertTrue("the closed node refuses calls", pollen.isClosed)
        assertFalse("BLE stopped", service.bluetoothRunning)
        assertTrue("the service stopped itself", shadowOf(service).isStoppedBySelf)
        controller.destroy()

        // The next start is a first run: a new identity, not the old one.
        val again = service(offline).startCommand(0, 1)
        val fresh = again.get().running()
        assertTrue("a new card", runBlocking { fresh.card() } != card)
        again.destroy()
    }

    @Test
    fun theBluetoothPowerModeFollowsTheScreenAndTheApp() {
        val (controller, pollen) = startedWithBle()
        val service = controller.get()
        fun applied(mode: BlePowerMode, advertise: Int) = service.powerMode == mode && service.radio?.advertiseMode == advertise

        // The app comes to the front: low latency (the core advertises every 250 ms).
        service.setAppInFront(true)
        until("foreground mode applied") { applied(BlePowerMode.FOREGROUND, AdvertiseSettings.ADVERTISE_MODE_BALANCED) }

        // The screen goes off: low power, whatever the app.
        app.sendBroadcast(Intent(Intent.ACTION_SCREEN_OFF))
        until("saver mode applied") { applied(BlePowerMode.SAVER, AdvertiseSettings.ADVERTISE_MODE_LOW_POWER) }

        // On again with the app in front: low latency again.
        app.sendBroadcast(Intent(Intent.ACTION_SCREEN_ON))
        until("foreground mode again") { applied(BlePowerMode.FOREGROUND, AdvertiseSettings.ADVERTISE_MODE_BALANCED) }

        // Another app in front: balanced.
        service.setAppInFront(false)
        until("background mode applied") { applied(BlePowerMode.BACKGROUND, AdvertiseSettings.ADVERTISE_MODE_LOW_POWER) }

        // The battery saver comes on: saver mode at once, and back when it goes off.
        val power = shadowOf(app.getSystemService(android.os.PowerManager::class.java))
        power.setIsPowerSaveMode(true)
        app.sendBroadcast(Intent(android.os.PowerManager.ACTION_POWER_SAVE_MODE_CHANGED))
        until("saver mode on battery saver") { applied(BlePowerMode.SAVER, AdvertiseSettings.ADVERTISE_MODE_LOW_POWER) }
        power.setIsPowerSaveMode(false)
        app.sendBroadcast(Intent(android.os.PowerManager.ACTION_POWER_SAVE_MODE_CHANGED))
        until("background mode after the saver") { applied(BlePowerMode.BACKGROUND, AdvertiseSettings.ADVERTISE_MODE_LOW_POWER) }
        controller.destroy()
    }

    @Test
    fun permissionDeniedThenGrantedStartsTheBleMesh() {
        shadowOf(adapter).setEnabled(true)
        val controller = service(offline).startCommand(0, 1)
        val service = controller.get()
        val pollen = service.running()
        Thread.sleep(300)
        shadowOf(Looper.getMainLooper()).idle()
        assertFalse("no BLE without the Bluetooth permissions", service.ble(pollen))
        assertTrue("the node runs without them", pollen.isRunning())

        // The app, told the permissions were granted, starts the service again.
        shadowOf(app).grantPermissions(*MeshPermissions.runtime(35).toTypedArray())
        controller.startCommand(0, 2)
        until("BLE starts once permitted") { service.ble(pollen) }
        controller.destroy()
    }

    @Test
    fun theServiceKilledWithItsProcessIsRestartedAndReopensTheIdentity() {
        val first = service(offline).startCommand(0, 1)
        assertEquals("Robo", runBlocking { first.get().running().identity().name })
        first.destroy()

        // Android recreates a sticky service after killing its process and
        // starts it with a null intent.
        val again = service(null)
        val sticky = again.get().onStartCommand(null, Service.START_FLAG_RETRY, 1)
        assertEquals(Service.START_STICKY, sticky)
        val pollen = again.get().running()
        assertNull(again.get().failure.value)
        assertEquals("the same identity, not a new one", "Robo", runBlocking { pollen.identity().name })
        assertTrue(pollen.isRunning())
        again.destroy()
    }

    @Test
    fun bootStartsTheMeshOnlyOnceThereIsAnIdentity() {
        val boot = Intent(Intent.ACTION_BOOT_COMPLETED)
        BootReceiver().onReceive(app, boot)
        assertNull("no identity yet: nothing starts", shadowOf(app).nextStartedService)

        runBlocking { Pollen.create(File(app.filesDir, "pollen").path, "Robo").close() }
        BootReceiver().onReceive(app, boot)
        assertEquals(PollenService::class.java.name, shadowOf(app).nextStartedService?.component?.className)
    }

    private companion object {
        const val START_TIMEOUT_MS = 30_000L
    }
}
