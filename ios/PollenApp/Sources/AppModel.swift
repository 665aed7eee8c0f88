import Foundation
import PollenKit
import UIKit

/// What the screens draw: the Rust app model's records, reloaded when the
/// node reports a change. No decision is taken here.
@MainActor
final class AppModel: ObservableObject {
    @Published private(set) var pollen: Pollen?
    @Published private(set) var chats: [ChatInfo] = []
    @Published private(set) var contacts: [ContactInfo] = []
    @Published private(set) var status: NodeStatus?
    /// The Nearby screen, worded by the core (who is in reach, what is carried).
    @Published private(set) var nearby: NearbyInfo?
    /// The relays the user gave (kept by the core across restarts).
    @Published private(set) var relays: [String] = []
    /// Whether encounter routing is on (the core keeps the switch).
    @Published private(set) var encounterRouting = true
    /// The tab on screen, and the chats open on the Chats tab (a tapped
    /// notification pushes its chat).
    @Published var tab = Tab.chats
    @Published var chatPath: [ChatInfo] = []
    /// Bumped on every change the node reports: open screens reload on it.
    @Published private(set) var revision = 0
    @Published var lastError: String?
    /// The chat on screen (conversation id): the node posts no notification for it.
    var openChat: String?
    var foreground = true
    private var mesh: Mesh?

    /// Opens (or creates) the node, starts the mesh and follows its events.
    func start() async {
        guard pollen == nil else { return }
        do {
            let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("pollen", isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let pollen = try await Pollen.openOrCreate(dataDir: dir.path, name: UIDevice.current.name)
            let events = Events()
            pollen.node.setListener(listener: events)
            mesh = try await Mesh.start(pollen)
            self.pollen = pollen
            Notifier.authorize()
            await refresh()
            for await event in events.stream {
                switch event {
                case .message(let message): await notify(message)
                case .neighbour, .changed: break
                }
                await refresh()
            }
        } catch {
            lastError = "\(error)"
        }
    }

    /// Reloads the lists from the node.
    func refresh() async {
        let lists = await run(refresh: false) { node in
            try (node.chatList(limit: 200), node.contacts(), node.status(), node.nearby(), node.relays(),
                 node.encounterRouting())
        }
        guard let lists else { return }
        (chats, contacts, status, nearby, relays, encounterRouting) = lists
        revision += 1
    }

    /// Runs a node call off the main thread, showing its error if it fails;
    /// reloads the lists after it unless told not to.
    @discardableResult
    func run<T>(refresh: Bool = true, _ body: @escaping (PollenNode) throws -> T) async -> T? {
        guard let pollen else { return nil }
        do {
            let result = try await pollen.call(body)
            if refresh { await self.refresh() }
            return result
        } catch {
            lastError = "\(error)"
            return nil
        }
    }

    /// Shows a chat on the Chats tab (a tapped notification).
    func openChat(conversationId: String) async {
        await refresh()
        guard let chat = chats.first(where: { $0.conversationId == conversationId }) else { return }
        tab = .chats
        chatPath = [chat]
    }

    /// Adds a relay (`pollen-relay://HOST:PORT/KEY`); the core refuses a bad
    /// one with its reason, shown as the last error.
    func addRelay(_ address: String) async {
        let all = relays + [address]
        await run { try $0.setRelays(addresses: all) }
    }

    /// Turns encounter routing on or off; the core keeps it.
    func setEncounterRouting(_ on: Bool) async {
        await run { try $0.setEncounterRouting(on: on) }
    }

    /// The app's tabs.
    enum Tab: Hashable { case chats, contacts, nearby, settings }

    /// Posts what the app model says a new message warrants.
    private func notify(_ message: MessageInfo) async {
        let open = foreground ? openChat : nil
        let info = await run(refresh: false) { node in
            try node.notificationForMessage(conversationId: message.conversationId, messageId: message.id, openChat: open)
        }
        if let info = info ?? nil { Notifier.post(info) }
    }

    /// The app went to or came back from the background: the node's radio
    /// duty cycle follows (it decides what each mode means).
    func setForeground(_ on: Bool) async {
        foreground = on
        await run(refresh: false) { try $0.bleSetPower(mode: on ? .foreground : .background) }
    }
}

/// The node's callbacks (on its `pollen-events` thread), queued in order for the model.
final class Events: PollenListener, @unchecked Sendable {
    enum Event { case message(MessageInfo), neighbour(NeighbourInfo, here: Bool), changed }
    let stream: AsyncStream<Event>
    private let out: AsyncStream<Event>.Continuation

    init() {
        let (stream, out) = AsyncStream.makeStream(of: Event.self)
        self.stream = stream
        self.out = out
    }

    func onNewMessage(message: MessageInfo) throws { out.yield(.message(message)) }
    func onMessageStatusChanged(conversationId: String, messageId: String, status: MessageStatus) throws { out.yield(.changed) }
    func onConversationChanged(conversation: ConversationInfo) throws { out.yield(.changed) }
    func onNeighbourAppeared(neighbour: NeighbourInfo) throws { out.yield(.neighbour(neighbour, here: true)) }
    func onNeighbourLeft(neighbour: NeighbourInfo) throws { out.yield(.neighbour(neighbour, here: false)) }
    func onKeyChanged(change: KeyChangeInfo) throws { out.yield(.changed) }
}
