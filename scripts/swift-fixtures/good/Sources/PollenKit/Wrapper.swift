// Uses of the generated API as they should be: the checker passes this.
@_exported import PollenBindings
import Network

public final class Wrapper: PlatformTransport, @unchecked Sendable {
    private let node: PollenNode

    public init(node: PollenNode) { self.node = node }

    public static func make(dir: String) throws -> Wrapper {
        Wrapper(node: try PollenNode.create(dataDir: dir, name: "ada"))
    }

    public func send(linkId: UInt64, bytes: Data) {}
    public func disconnect(linkId: UInt64) {}
    public func connect(peer: String) throws {
        throw CallbackError.Failed(detail: "out of range")
    }

    public func up(_ service: String) throws -> UInt64 {
        try node.linkUp(linkId: 1, peer: service, initiator: true, maxWrite: 182)
        try node.peerDiscovered(peer: service)
        let status = try node.status()
        return status.envelopesStored
    }

    public func open(dir: String) throws -> PollenNode? {
        do {
            return try PollenNode.open(dataDir: dir)
        } catch PollenError.NotInitialized {
            return nil
        }
    }

    public func options() -> RunOptions {
        RunOptions(lan: false, listen: "", mdns: false, peers: [])
    }

    public func browse() -> NWBrowser {
        NWBrowser(for: .bonjour(type: "_pollen._tcp", domain: nil), using: .tcp)
    }
}
