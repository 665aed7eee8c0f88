import Foundation
import PollenBindings

/// Every transport iOS allows, started together: platform links over Bonjour
/// (no multicast entitlement needed) and Bluetooth LE with state restoration.
/// The node holds both, as its transport and its radio, as long as the
/// process lives: iOS ends the app, not the app itself.
public enum Mesh {
    /// Starts the node's runtime with Bonjour as its platform transport (the
    /// Rust LAN, raw mDNS multicast, stays off) and sets the BLE radio: the
    /// core starts scanning and advertising through it.
    public static func start(_ pollen: Pollen) async throws {
        let bonjour = try PollenBonjour(node: pollen.node)
        pollen.node.setTransport(transport: bonjour)
        try await pollen.node.start(options: RunOptions(lan: false, listen: "", mdns: false, peers: []))
        try bonjour.start()
        try await followBluetooth(pollen)
    }

    /// Gives the node a BLE radio if the user allows Bluetooth (the core
    /// refuses one otherwise, and stops BLE itself when it is switched off).
    public static func followBluetooth(_ pollen: Pollen) async throws {
        guard try await pollen.node.transports().bluetooth else { return }
        try pollen.node.setBleRadio(radio: PollenBle(node: pollen.node))
    }
}
