import Foundation
import PollenBindings

/// Every transport iOS allows, started together: platform links over Bonjour
/// (no multicast entitlement needed) and Bluetooth LE with state restoration.
/// They live as long as the process: iOS ends the app, not the app itself.
public final class Mesh: @unchecked Sendable {
    public let bonjour: PollenBonjour
    public let ble: PollenBle

    private init(bonjour: PollenBonjour, ble: PollenBle) {
        self.bonjour = bonjour
        self.ble = ble
    }

    /// Starts the node's runtime with Bonjour as its platform transport (the
    /// Rust LAN, raw mDNS multicast, stays off) and sets the BLE radio: the
    /// core starts scanning and advertising through it.
    public static func start(_ pollen: Pollen) async throws -> Mesh {
        let bonjour = try PollenBonjour(node: pollen.node)
        pollen.node.setTransport(transport: bonjour)
        try await pollen.node.start(options: RunOptions(lan: false, listen: "", mdns: false, peers: []))
        try bonjour.start()
        let ble = PollenBle(node: pollen.node)
        try pollen.node.setBleRadio(radio: ble)
        return Mesh(bonjour: bonjour, ble: ble)
    }
}
