package org.pollen.android.ble

import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.os.Looper
import android.os.ParcelUuid
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows
import org.robolectric.annotation.Config
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowBluetoothAdapter
import org.robolectric.shadows.ShadowBluetoothGattServer
import org.robolectric.shadows.ShadowBluetoothLeAdvertiser
import org.robolectric.shadows.ShadowBluetoothLeScanner

/** Records what the radio tells the core. */
private class RecordingCore : BleCore {
    val calls = mutableListOf<String>()
    val received = mutableListOf<ByteArray>()

    override fun bleAdvertisement(handle: String, serviceData: ByteArray?, localName: String?) {
        calls += "advert $handle"
    }

    override fun bleLinkUp(linkId: ULong, handle: String, central: Boolean, attMtu: UShort) {
        calls += "up $linkId $handle central=$central mtu=$attMtu"
    }

    override fun bleConnectFailed(handle: String) {
        calls += "failed $handle"
    }

    override fun bleReceived(linkId: ULong, value: ByteArray) {
        calls += "received $linkId ${value.size}"
        received += value
    }

    override fun bleReady(linkId: ULong, sent: UInt) {
        calls += "ready $linkId $sent"
    }

    override fun bleLinkDown(linkId: ULong) {
        calls += "down $linkId"
    }
}

/**
 * The Android radio on Robolectric's Bluetooth shadows, peripheral side:
 * start, advertise, scan, a central subscribes, a write reaches the core,
 * a refused notification ends the link, stop.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35, 36], manifest = Config.NONE)
class PollenBleTest {
    @Test
    fun peripheralAdvertisesServesAWriteAndStops() {
        val app = RuntimeEnvironment.getApplication()
        val manager = app.getSystemService(BluetoothManager::class.java)
        val adapter = manager.adapter
        Shadow.extract<ShadowBluetoothAdapter>(adapter).setEnabled(true)
        val core = RecordingCore()
        val ble = PollenBle(app, core)

        // Start: the GATT server holds the Pollen service and its two characteristics.
        assertTrue(ble.start())
        val server = assertNotNullAnd(ble.server)
        val service = assertNotNullAnd(server.getService(PollenGatt.SERVICE))
        val write = assertNotNullAnd(service.getCharacteristic(PollenGatt.WRITE))
        val notify = assertNotNullAnd(service.getCharacteristic(PollenGatt.NOTIFY))
        val cccd = assertNotNullAnd(notify.getDescriptor(PollenGatt.CCCD))

        // The core asks to advertise: the service UUID, no name, the identifier in the scan response.
        val id = byteArrayOf(1, 9, 8, 7, 6, 5, 4, 3, 2)
        ble.advertise(id, "P1090807060504030201", 250u)
        Shadows.shadowOf(Looper.getMainLooper()).idle()
        val advertiser = Shadow.extract<ShadowBluetoothLeAdvertiser>(adapter.bluetoothLeAdvertiser)
        assertEquals(1, advertiser.advertisementRequestCount)
        val (data, response) = PollenBle.advertisement(id)
        assertEquals(listOf(ParcelUuid(PollenGatt.SERVICE)), data.serviceUuids)
        assertFalse("no device name in the advertisement", data.includeDeviceName || response.includeDeviceName)
        assertTrue(data.manufacturerSpecificData.size() == 0 && data.serviceData.isEmpty())
        assertTrue(id.contentEquals(response.serviceData[ParcelUuid(PollenGatt.SERVICE)]))

        // The core asks to scan: one filtered scan runs.
        ble.startScan()
        val scanner = Shadow.extract<ShadowBluetoothLeScanner>(adapter.bluetoothLeScanner)
        assertEquals(1, scanner.activeScans.size)
        ble.stopScan()
        assertEquals(0, scanner.activeScans.size)

        // A central connects, negotiates 185, subscribes: the link is up.
        val device = adapter.getRemoteDevice("11:22:33:44:55:66")
        val shadowServer = Shadow.extract<ShadowBluetoothGattServer>(server)
        val callback = shadowServer.gattServerCallback
        callback.onMtuChanged(device, 185)
        callback.onDescriptorWriteRequest(
            device, 1, cccd, false, true, 0, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE,
        )
        assertEquals("up 1 11:22:33:44:55:66 central=false mtu=185", core.calls.last())

        // A write arrives and reaches the core, byte for byte.
        val hello = byteArrayOf(0x80.toByte(), 1, 1, 2, 3, 4, 5, 6, 7, 8)
        shadowServer.notifyOnCharacteristicWriteRequest(device, 2, write, false, false, 0, hello)
        assertEquals("received 1 10", core.calls.last())
        assertTrue(hello.contentEquals(core.received.single()))

        // A value to notify: Robolectric's GATT server has no Bluetooth
        // service behind notifyCharacteristicChanged, so the stack refuses
        // it, and the radio must hang up rather than leave a hole in the
        // stream; the disconnection then reaches the core.
        ble.send(1u, byteArrayOf(0, 0x50, 0x4f, 0x4c, 0x4e))
        assertTrue("refused value: link cancelled", shadowServer.isConnectionCancelled(device))
        callback.onConnectionStateChange(device, 0, BluetoothProfile.STATE_DISCONNECTED)
        assertEquals("down 1", core.calls.last())

        // A second central, no MTU exchanged: the smallest. A notification-sent
        // callback with no value in flight counts nothing (the link table
        // gives back only what it handed out; the credit rules are tested
        // in Rust, core/node/src/ble/radio_links.rs).
        val other = adapter.getRemoteDevice("22:33:44:55:66:77")
        callback.onDescriptorWriteRequest(
            other, 3, cccd, false, false, 0, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE,
        )
        assertEquals("up 2 22:33:44:55:66:77 central=false mtu=23", core.calls.last())
        callback.onNotificationSent(other, 0)
        assertEquals("up 2 22:33:44:55:66:77 central=false mtu=23", core.calls.last())
        // A second subscription from the same central is not a second link.
        callback.onDescriptorWriteRequest(
            other, 4, cccd, false, false, 0, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE,
        )
        assertEquals("up 2 22:33:44:55:66:77 central=false mtu=23", core.calls.last())

        // Stop: the open link is reported down and the server closed.
        ble.stop()
        assertEquals("down 2", core.calls.last())
        assertTrue(shadowServer.isClosed)
    }

    private fun <T> assertNotNullAnd(value: T?): T {
        assertNotNull(value)
        return value!!
    }
}
