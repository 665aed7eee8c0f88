import Foundation
import PollenBindings

/// Every transport iOS allows, started together: platform links over Bonjour
/// (no multicast entitlement needed) and Bluetooth LE with state restoration.
public final class Mesh: @unchecked Sendable {
    public let bonjour: PollenBonjour
    public let ble: PollenBle

    private init(bonjour: PollenBonjour, ble: PollenBle) {
        self.bonjour = bonjour
        self.ble = ble
    }

    /// Starts the node's runtime with Bonjour as its platform transport and
    /// attaches the BLE radio. The Rust LAN (raw mDNS multicast) stays off.
    public static func start(_ pollen: Pollen) async throws -> Mesh {
        let bonjour = PollenBonjour(node: pollen.node)
        pollen.node.setTransport(transport: bonjour)
        try await pollen.start(RunOptions(lan: false, listen: "", mdns: false, peers: []))
        try bonjour.start()
        let ble = try BleCores.attach(pollen)
        return Mesh(bonjour: bonjour, ble: ble)
    }

    /// Stops Bonjour and BLE, then the runtime.
    public func stop(_ pollen: Pollen) async throws {
        bonjour.stop()
        try BleCores.detach(pollen)
        try await pollen.stop()
    }
}
