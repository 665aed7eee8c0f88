// Bluetooth LE for a node: `PollenBle` is set as the node's `BleRadio` (the
// bindings' foreign trait, called on the core's thread) and hands every
// CoreBluetooth callback to the node's `ble*` entry points; the node's BLE
// driver decides everything (core: `core/node/src/ble/driver.rs`; wire:
// docs/PROTOCOL.md, "Bluetooth LE").

import CoreBluetooth
import PollenBindings

/// The Pollen GATT profile, from the core (`gattContract()`,
/// `bindings/src/gatt.rs`) rather than written again here.
public enum PollenGatt {
    public static let contract: GattContract = gattContract()
    public static let service = CBUUID(string: contract.serviceUuid)
    public static let write = CBUUID(string: contract.writeUuid)
    public static let notify = CBUUID(string: contract.notifyUuid)
}
