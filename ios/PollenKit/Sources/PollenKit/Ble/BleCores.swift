// BLE for a node: its `ble*` entry points as a `BleCore`, and a `PollenBle`
// set as its `BleRadio`, so the core's BLE driver decides everything.

import Foundation
import os
import PollenBindings

private let log = Logger(subsystem: "org.pollen", category: "ble")

/// A node's BLE entry points for CoreBluetooth callbacks. None blocks; a
/// refused call (a value over 512 bytes, a node shut down) is logged, never
/// thrown into CoreBluetooth's queue.
public final class NodeBleCore: BleCore {
    private let node: PollenNode

    public init(node: PollenNode) {
        self.node = node
    }

    private func guarded(_ what: String, _ call: () throws -> Void) {
        do {
            try call()
        } catch {
            log.warning("BLE \(what, privacy: .public) refused: \(String(describing: error), privacy: .public)")
        }
    }

    public func bleAdvertisement(handle: String, serviceData: Data?, localName: String?) {
        guarded("advertisement") { try node.bleAdvertisement(handle: handle, serviceData: serviceData, localName: localName) }
    }

    public func bleLinkUp(linkId: UInt64, handle: String, central: Bool, attMtu: UInt16) {
        guarded("link up") { try node.bleLinkUp(linkId: linkId, handle: handle, central: central, attMtu: attMtu) }
    }

    public func bleConnectFailed(handle: String) {
        guarded("connect failed") { try node.bleConnectFailed(handle: handle) }
    }

    public func bleReceived(linkId: UInt64, value: Data) {
        guarded("value") { try node.bleReceived(linkId: linkId, value: value) }
    }

    public func bleReady(linkId: UInt64, sent: UInt32) {
        guarded("ready") { try node.bleReady(linkId: linkId, sent: sent) }
    }

    public func bleLinkDown(linkId: UInt64) {
        guarded("link down") { try node.bleLinkDown(linkId: linkId) }
    }
}

/// Starting and stopping BLE on a `Pollen` node.
public enum BleCores {
    /// A radio wired to `pollen` and set as its `BleRadio`: the core starts
    /// scanning and advertising through it.
    public static func attach(_ pollen: Pollen) throws -> PollenBle {
        let ble = PollenBle(core: NodeBleCore(node: pollen.node))
        try pollen.node.setBleRadio(radio: ble)
        return ble
    }

    /// Stops BLE on `pollen`: its links close after committing what arrived,
    /// scanning and advertising stop, and the node lets go of the radio.
    public static func detach(_ pollen: Pollen) throws {
        try pollen.node.setBleRadio(radio: nil)
    }
}
