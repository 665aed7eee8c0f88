import Foundation
// The app sees the generated records and enums through PollenKit.
@_exported import PollenBindings

/// A Pollen node for Swift: `async` functions, an `AsyncStream` of events,
/// and `shutdown()`. Errors are thrown as `PollenError`.
public final class Pollen: @unchecked Sendable {
    /// The generated object, for what this layer does not wrap (platform links).
    public let node: PollenNode
    /// Events from the core, in order; one consumer.
    public let events: AsyncStream<PollenEvent>
    private let continuation: AsyncStream<PollenEvent>.Continuation
    // The core blocks the caller until its own thread is done; this queue
    // keeps that wait off Swift's cooperative thread pool.
    private static let calls = DispatchQueue(label: "pollen.calls", attributes: .concurrent)

    private init(node: PollenNode) {
        self.node = node
        let (stream, continuation) = AsyncStream.makeStream(of: PollenEvent.self)
        self.events = stream
        self.continuation = continuation
        node.setListener(listener: EventForwarder(continuation))
    }

    /// Creates a new identity called `name` in `dataDir`.
    public static func create(dataDir: String, name: String) async throws -> Pollen {
        try await offThread { Pollen(node: try PollenNode.create(dataDir: dataDir, name: name)) }
    }

    /// Opens the identity in `dataDir`.
    public static func open(dataDir: String) async throws -> Pollen {
        try await offThread { Pollen(node: try PollenNode.open(dataDir: dataDir)) }
    }

    /// Opens the identity in `dataDir`, creating one called `name` on first use.
    public static func openOrCreate(dataDir: String, name: String) async throws -> Pollen {
        do {
            return try await open(dataDir: dataDir)
        } catch PollenError.NotInitialized {
            return try await create(dataDir: dataDir, name: name)
        }
    }

    private static func offThread<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            calls.async { done.resume(with: Result { try body() }) }
        }
    }

    private func call<T>(_ body: @escaping (PollenNode) throws -> T) async throws -> T {
        let node = self.node
        return try await Self.offThread { try body(node) }
    }

    /// Our name, fingerprint and contact card.
    public func identity() async throws -> IdentityInfo { try await call { try $0.identity() } }

    /// Our contact card (`pollen1…`), to show as a QR code.
    public func card() async throws -> String { try await call { try $0.card() } }

    /// Pins the keys of a scanned card, under `alias` or the card's name.
    public func addContact(card: String, alias: String? = nil) async throws -> ContactInfo {
        try await call { try $0.addContact(card: card, alias: alias) }
    }

    /// Every contact.
    public func contacts() async throws -> [ContactInfo] { try await call { try $0.contacts() } }

    /// The safety number to compare with `alias` in person.
    public func safetyNumber(alias: String) async throws -> String {
        try await call { try $0.safetyNumber(alias: alias) }
    }

    /// Records that `alias`'s safety number was compared in person.
    public func markVerified(alias: String) async throws -> ContactInfo {
        try await call { try $0.markVerified(alias: alias) }
    }

    /// Sends `text` to a conversation by name: an alias, a group or `#channel`.
    public func send(conversation: String, text: String) async throws -> SentInfo {
        try await call { try $0.send(conversation: conversation, text: text) }
    }

    /// Marks a conversation read.
    public func markRead(conversation: String) async throws -> SentInfo? {
        try await call { try $0.markRead(conversation: conversation) }
    }

    /// Joins a public channel.
    public func joinChannel(name: String) async throws -> ConversationInfo {
        try await call { try $0.joinChannel(name: name) }
    }

    /// Conversations, most recent first.
    public func conversations(limit: UInt32 = 100) async throws -> [ConversationInfo] {
        try await call { try $0.conversations(limit: limit) }
    }

    /// A page of messages, newest first; pass the page's `next` to continue.
    public func messages(conversation: String?, limit: UInt32 = 50, before: MessageCursor? = nil) async throws -> MessagePage {
        try await call { try $0.messages(conversation: conversation, limit: limit, before: before) }
    }

    /// Counts and network state.
    public func status() async throws -> NodeStatus { try await call { try $0.status() } }

    /// Starts the runtime (LAN if asked, and the platform transport's links).
    public func start(_ options: RunOptions) async throws { try await node.start(options: options) }

    /// Stops the runtime, letting sessions commit.
    public func stop() async throws { try await node.stop() }

    /// Stops the core thread and ends `events`; later calls throw `PollenError.ShutDown`.
    public func shutdown() async throws {
        continuation.finish()
        try await call { $0.setListener(listener: nil); $0.shutdown() }
    }
}
