package org.pollen.android.ble

import android.content.Context
import android.util.Log
import org.pollen.android.Pollen
import uniffi.pollen.PollenException

/**
 * BLE for a running node inside [PollenService][org.pollen.android.PollenService]:
 * the node's `ble*` entry points as a [BleCore], and a started [PollenBle]
 * set as the node's `BleRadio`, so the core's BLE driver decides everything.
 */
object BleCores {
    private const val TAG = "PollenBle"

    /** A started radio wired to [pollen], or null when Bluetooth is off or not permitted. */
    suspend fun attach(context: Context, pollen: Pollen): PollenBle? {
        if (!org.pollen.android.MeshPermissions.bluetoothGranted(context)) return null
        val ble = PollenBle(context, coreOf(pollen))
        if (!ble.start()) return null
        try {
            pollen.setBleRadio(ble)
        } catch (e: PollenException) {
            Log.w(TAG, "the node refused the radio", e)
            ble.stop()
            return null
        }
        return ble
    }

    /** Stops BLE on [pollen] (its links close first), then the radio. */
    suspend fun detach(pollen: Pollen, ble: PollenBle) {
        try {
            pollen.setBleRadio(null)
        } catch (e: PollenException) {
            Log.w(TAG, "BLE stop", e)
        }
        ble.stop()
    }

    /**
     * [pollen]'s BLE entry points for Bluetooth callbacks. A refused call
     * (a value over 512 bytes, a node already shut down) is logged: it must
     * not throw into the Bluetooth stack's thread.
     */
    fun coreOf(pollen: Pollen): BleCore = object : BleCore {
        override fun bleAdvertisement(handle: String, serviceData: ByteArray?, localName: String?) =
            guard { pollen.bleAdvertisement(handle, serviceData, localName) }

        override fun bleLinkUp(linkId: ULong, handle: String, central: Boolean, attMtu: UShort) =
            guard { pollen.bleLinkUp(linkId, handle, central, attMtu) }

        override fun bleConnectFailed(handle: String) = guard { pollen.bleConnectFailed(handle) }

        override fun bleReceived(linkId: ULong, value: ByteArray) = guard { pollen.bleReceived(linkId, value) }

        override fun bleReady(linkId: ULong, sent: UInt) = guard { pollen.bleReady(linkId, sent) }

        override fun bleLinkDown(linkId: ULong) = guard { pollen.bleLinkDown(linkId) }
    }

    private inline fun guard(call: () -> Unit) {
        try {
            call()
        } catch (e: PollenException) {
            Log.w(TAG, "BLE callback refused", e)
        }
    }
}
