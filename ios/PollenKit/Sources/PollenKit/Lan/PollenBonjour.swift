// Wi-Fi without the multicast entitlement: Bonjour through Network.framework
// (the system's mDNS, allowed with NSLocalNetworkUsageDescription and
// NSBonjourServices `_pollen._tcp`). NWListener advertises the service and
// accepts connections; NWBrowser finds the others; the core decides when to
// sync and asks for a link with `connect(peer:)`; each TCP connection is a
// platform link carrying one sync session. Thin on purpose: bytes in, bytes
// out. The link table (our service name, link ids, who each link is with,
// what the node hears) is the core's `PlatformLinks`; this file keeps only
// Network.framework's objects.

import Foundation
import Network
import PollenBindings

// Sendable: every mutable field is touched only on `queue`.
public final class PollenBonjour: PlatformTransport, @unchecked Sendable {
    public static let serviceType = "_pollen._tcp"

    private let queue = DispatchQueue(label: "org.pollen.bonjour")
    private let links: PlatformLinks
    private var listener: NWListener?
    private var browser: NWBrowser?
    private var found: [String: NWEndpoint] = [:]
    /// Connections that are ready, by link id.
    private var connections: [UInt64: NWConnection] = [:]

    public init(node: PollenNode) throws {
        links = try PlatformLinks(node: node)
    }

    /// Advertises, accepts and browses until `stop`.
    public func start() throws {
        let listener = try NWListener(using: .tcp)
        listener.service = NWListener.Service(name: links.name(), type: Self.serviceType)
        listener.newConnectionHandler = { [weak self] connection in
            guard let self else { return }
            self.open(connection, self.links.accepted(endpoint: "\(connection.endpoint)"))
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
            self.connections.values.forEach { $0.cancel() }
            self.connections.removeAll()
            self.links.closeAll()
        }
    }

    // MARK: PlatformTransport (called on the core's thread: hop onto our queue)

    public func send(linkId: UInt64, bytes: Data) {
        queue.async {
            guard let connection = self.connections[linkId] else { return }
            connection.send(content: bytes, completion: .contentProcessed { error in
                if error != nil { self.lost(linkId) }
            })
        }
    }

    public func disconnect(linkId: UInt64) {
        queue.async {
            self.links.disconnected(linkId: linkId)
            guard let connection = self.connections.removeValue(forKey: linkId) else { return }
            // After the bytes already queued: the last ones end the session.
            connection.send(content: nil, contentContext: .finalMessage, isComplete: true,
                            completion: .contentProcessed { _ in connection.cancel() })
        }
    }

    public func connect(peer: String) throws {
        let id = try links.dial(peer: peer)
        queue.async {
            guard let endpoint = self.found[peer] else { return self.links.closed(linkId: id) }
            self.open(NWConnection(to: endpoint, using: .tcp), id)
        }
    }

    // MARK: Network.framework callbacks (on `queue`)

    private func changed(_ changes: Set<NWBrowser.Result.Change>) {
        for change in changes {
            switch change {
            case .added(let result), .changed(old: _, new: let result, flags: _):
                guard case .service(let service, _, _, _) = result.endpoint,
                    links.discovered(service: service)
                else { continue }
                found[service] = result.endpoint
            case .removed(let result):
                guard case .service(let service, _, _, _) = result.endpoint else { continue }
                found[service] = nil
                links.lost(service: service)
            default:
                continue
            }
        }
    }

    private func open(_ connection: NWConnection, _ id: UInt64) {
        connection.stateUpdateHandler = { [weak self] state in
            guard let self else { return }
            switch state {
            case .ready:
                // Refused while the user has Wi-Fi switched off.
                guard self.links.ready(linkId: id) else { return connection.cancel() }
                self.connections[id] = connection
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
                self.links.received(linkId: id, bytes: data)
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
            self.connections.removeValue(forKey: id)?.cancel()
            self.links.closed(linkId: id)
        }
    }
}
