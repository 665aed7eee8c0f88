package org.pollen.android.ble

import org.pollen.android.Pollen

/**
 * Where [PollenService][org.pollen.android.PollenService] gets the node's
 * BLE entry points. pollen-ffi does not export them yet (specified in
 * docs/ARCHITECTURE.md, "Bluetooth LE", and implemented in the core as
 * `core::ble::BleDriver`), so this returns null and BLE stays off; once
 * exported, it wraps `PollenNode.ble*` and passes [PollenBle] as the node's
 * `BleRadio`.
 */
object BleCores {
    /** The BLE side of [pollen], or null while the bindings lack it. */
    @Suppress("UNUSED_PARAMETER")
    fun forNode(pollen: Pollen): BleCore? = null
}
