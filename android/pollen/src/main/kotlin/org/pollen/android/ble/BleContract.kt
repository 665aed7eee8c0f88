package org.pollen.android.ble

import java.util.UUID

/**
 * The core's BLE entry points, called from Bluetooth callbacks. Each maps
 * one-to-one onto a `PollenNode.ble*` method ([BleCores.coreOf] wraps a
 * node; `docs/PROTOCOL.md`, "Bluetooth LE"; the driver behind them is
 * `core/src/ble/driver.rs`). None of them blocks. Every decision (who to connect, when to scan,
 * what to advertise, when to drop a link) is taken behind these calls.
 */
interface BleCore {
    /** An advertisement of the Pollen service from [handle] (the device address). */
    fun bleAdvertisement(handle: String, serviceData: ByteArray?, localName: String?)

    /** A link is up: as central after the MTU exchange and the subscription, as peripheral when the central subscribed. */
    fun bleLinkUp(linkId: ULong, handle: String, central: Boolean, attMtu: UShort)

    /** A [BleRadio.connect] failed before a link came up. */
    fun bleConnectFailed(handle: String)

    /** A value arrived on [linkId] (a write to our characteristic, or a notification). */
    fun bleReceived(linkId: ULong, value: ByteArray)

    /** [sent] queued values of [linkId] went out; the core may hand over more. */
    fun bleReady(linkId: ULong, sent: UInt)

    /** The link is gone. */
    fun bleLinkDown(linkId: ULong)
}

/**
 * What the core asks of the radio: the bindings' foreign trait `BleRadio`
 * (`bindings/src/callbacks.rs`), set with [org.pollen.android.Pollen.setBleRadio].
 * Called on the core's thread: every method queues its work and returns.
 */
typealias BleRadio = uniffi.pollen.BleRadio

/**
 * The Pollen GATT profile, from the core (`gattContract()`,
 * `bindings/src/gatt.rs`) rather than written again here.
 */
object PollenGatt {
    private val contract = uniffi.pollen.gattContract()

    /** The Pollen service. */
    val SERVICE: UUID = UUID.fromString(contract.serviceUuid)

    /** Written by the central (without response). */
    val WRITE: UUID = UUID.fromString(contract.writeUuid)

    /** Notified by the peripheral. */
    val NOTIFY: UUID = UUID.fromString(contract.notifyUuid)

    /** The client characteristic configuration descriptor (Bluetooth's, not Pollen's). */
    val CCCD: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")

    /** The ATT MTU a central asks for (Android's largest). */
    val MAX_MTU: Int = contract.maxAttMtu.toInt()
}
