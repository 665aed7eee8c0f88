// The core's BLE entry points and what it asks of the radio. Each maps
// one-to-one onto a `PollenNode.ble*` method and the `BleRadio` foreign
// trait the bindings export (core: `core/src/ble/driver.rs`; wire:
// docs/PROTOCOL.md, "Bluetooth LE"). Every decision is taken in the core.

import CoreBluetooth
import Foundation
import PollenBindings

/// The core, called from CoreBluetooth callbacks.
public protocol BleCore: AnyObject {
    /// An advertisement of the Pollen service from `handle` (the peer's identifier).
    func bleAdvertisement(handle: String, serviceData: Data?, localName: String?)
    /// A link is up: as central once subscribed, as peripheral when the central subscribed.
    func bleLinkUp(linkId: UInt64, handle: String, central: Bool, attMtu: UInt16)
    /// A `connect` failed before a link came up.
    func bleConnectFailed(handle: String)
    /// A value arrived on `linkId`.
    func bleReceived(linkId: UInt64, value: Data)
    /// `sent` queued values of `linkId` went out.
    func bleReady(linkId: UInt64, sent: UInt32)
    /// The link is gone.
    func bleLinkDown(linkId: UInt64)
}

/// What the core asks of the radio: the bindings' foreign trait, set with
/// `PollenNode.setBleRadio`. Called on the core's thread; every method
/// returns at once.
public typealias BleRadio = PollenBindings.BleRadio

/// The Pollen GATT profile (`core/src/ble/profile.rs`).
public enum PollenGatt {
    public static let service = CBUUID(string: "7A3F0001-9C4E-4B8E-8F1D-5C0A6B2E9D41")
    public static let write = CBUUID(string: "7A3F0002-9C4E-4B8E-8F1D-5C0A6B2E9D41")
    public static let notify = CBUUID(string: "7A3F0003-9C4E-4B8E-8F1D-5C0A6B2E9D41")
}
