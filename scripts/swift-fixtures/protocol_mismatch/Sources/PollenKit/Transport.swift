import PollenBindings

final class Transport: PlatformTransport, @unchecked Sendable {
    func send(linkId: UInt64, bytes: Data) {}
    func disconnect(linkId: UInt64) {}
    func connect(to peer: String) {}
}
