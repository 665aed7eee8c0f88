package org.pollen.android.ble

import android.content.Context
import org.pollen.android.Pollen

/**
 * Starts BLE for a running node inside
 * [PollenService][org.pollen.android.PollenService]. It needs the node's BLE
 * entry points, which pollen-ffi does not export yet (specified in
 * docs/ARCHITECTURE.md, "Bluetooth LE"; implemented in the core as
 * `core::ble::BleDriver`), so it returns null and BLE stays off. Once they
 * are exported it wraps `PollenNode.ble*` as a [BleCore], sets a started
 * [PollenBle] as the node's `BleRadio`, and returns it.
 */
object BleCores {
    /** A started radio wired to [pollen], or null while the bindings lack BLE. */
    @Suppress("UNUSED_PARAMETER")
    fun attach(context: Context, pollen: Pollen): PollenBle? = null
}
