// Wi-Fi without the multicast entitlement: Bonjour through Network.framework
// (the system's mDNS, allowed with NSLocalNetworkUsageDescription and
// NSBonjourServices `_pollen._tcp`). NWListener advertises the service and
// accepts connections; NWBrowser finds the others and tells the core
// (`peerDiscovered`/`peerLost`); the core decides when to sync and asks for a
// link with `connect(peer:)`; each TCP connection is a platform link
// (`linkUp`, `linkReceived`, `linkDown`) carrying one sync session. Thin on
// purpose: bytes in, bytes out.

import Foundation
import Network
import os
import PollenBindings

private let log = Logger(subsystem: "org.pollen", category: "bonjour")

// Sendable: every mutable field is touched only on `queue`.
public final class PollenBonjour: PlatformTransport, @unchecked Sendable {
    public static let serviceType = "_pollen._tcp"
    /// Bytes per `send` the core may hand over (a TCP stream takes any size).
    static let maxWrite: UInt32 = 16_384

    private let node: PollenNode
    private let queue = DispatchQueue(label: "org.pollen.bonjour")
    /// A random service name: it says nothing about who we are.
    private let name = "pollen-" + UUID().uuidString.prefix(8).lowercased()
    private var listener: NWListener?
    private var browser: NWBrowser?
    private var found: [String: NWEndpoint] = [:]
    private var links: [UInt64: NWConnection] = [:]
    private var nextLink: UInt64 = 1

    public init(node: PollenNode) {
        self.node = node
    }

    /// Advertises, accepts and browses until `stop`.
    public func start() throws {
        let listener = try NWListener(using: .tcp)
        listener.service = NWListener.Service(name: name, type: Self.serviceType)
        listener.newConnectionHandler = { [weak self] connection in
            self?.accepted(connection)
        }
        listener.start(queue: queue)
        let browser = NWBrowser(for: .bonjour(type: Self.serviceType, domain: nil), using: .tcp)
        browser.browseResultsChangedHandler = { [weak self] _, changes in
            self?.changed(changes)
        }
        browser.start(queue: queue)
        queue.async {
            self.listener = listener
            self.browser = browser
        }
    }

    /// Stops advertising and browsing and closes every link.
    public func stop() {
        queue.async {
            self.listener?.cancel()
            self.browser?.cancel()
            self.listener = nil
            self.browser = nil
            for (id, connection) in self.links {
                connection.cancel()
                self.node.linkDown(linkId: id)
            }
            self.links.removeAll()
        }
    }

    // MARK: PlatformTransport (called on the core's thread: hop onto our queue)

    public func send(linkId: UInt64, bytes: Data) {
        queue.async {
            guard let connection = self.links[linkId] else { return }
            connection.send(content: bytes, completion: .contentProcessed { error in
                if error != nil { self.lost(linkId) }
            })
        }
    }

    public func disconnect(linkId: UInt64) {
        queue.async {
            guard let connection = self.links.removeValue(forKey: linkId) else { return }
            // After the bytes already queued: the last ones end the session.
            connection.send(content: nil, contentContext: .finalMessage, isComplete: true,
                            completion: .contentProcessed { _ in connection.cancel() })
        }
    }

    public func connect(peer: String) throws {
        if peer.hasPrefix("in:") {
            throw CallbackError.Failed(detail: "an accepted connection cannot be dialled back")
        }
        queue.async {
            guard let endpoint = self.found[peer] else { return }
            self.open(NWConnection(to: endpoint, using: .tcp), peer: peer, initiator: true)
        }
    }

    // MARK: Network.framework callbacks (on `queue`)

    private func changed(_ changes: Set<NWBrowser.Result.Change>) {
        for change in changes {
            switch change {
            case .added(let result):
                discovered(result)
            case .changed(old: _, new: let result, flags: _):
                discovered(result)
            case .removed(let result):
                guard case .service(let service, _, _, _) = result.endpoint else { continue }
                found[service] = nil
                guarded("peer lost") { try node.peerLost(peer: service) }
            default:
                continue
            }
        }
    }

    private func discovered(_ result: NWBrowser.Result) {
        guard case .service(let service, _, _, _) = result.endpoint, service != name else { return }
        found[service] = result.endpoint
        guarded("peer discovered") { try node.peerDiscovered(peer: service) }
    }

    private func accepted(_ connection: NWConnection) {
        open(connection, peer: "in:\(connection.endpoint)", initiator: false)
    }

    private func open(_ connection: NWConnection, peer: String, initiator: Bool) {
        let id = nextLink
        nextLink += 1
        connection.stateUpdateHandler = { [weak self] state in
            guard let self else { return }
            switch state {
            case .ready:
                self.links[id] = connection
                self.guarded("link up") {
                    try self.node.linkUp(linkId: id, peer: peer, initiator: initiator, maxWrite: Self.maxWrite)
                }
                self.receive(id, connection)
            case .failed, .cancelled:
                self.lost(id)
            default:
                break
            }
        }
        connection.start(queue: queue)
    }

    private func receive(_ id: UInt64, _ connection: NWConnection) {
        connection.receive(minimumIncompleteLength: 1, maximumLength: 65_536) { [weak self] data, _, done, error in
            guard let self else { return }
            if let data, !data.isEmpty {
                self.guarded("bytes") { try self.node.linkReceived(linkId: id, bytes: data) }
            }
            if done || error != nil {
                self.lost(id)
            } else {
                self.receive(id, connection)
            }
        }
    }

    private func lost(_ id: UInt64) {
        queue.async {
            guard let connection = self.links.removeValue(forKey: id) else { return }
            connection.cancel()
            self.node.linkDown(linkId: id)
        }
    }

    private func guarded(_ what: String, _ call: () throws -> Void) {
        do {
            try call()
        } catch {
            log.info("Bonjour \(what, privacy: .public) refused: \(String(describing: error), privacy: .public)")
        }
    }
}
