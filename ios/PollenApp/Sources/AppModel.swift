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
    /// The node's changes for the screens, with the notifications they
    /// warrant; it keeps the chat on screen and whether the app is in front.
    private(set) var feed: AppFeed?

    /// Opens (or creates) the node, starts the mesh and follows its events.
    func start() async {
        guard pollen == nil else { return }
        do {
            let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("pollen", isDirectory: true)
            let pollen = try await Pollen.openOrCreate(dataDir: dir.path, name: UIDevice.current.name)
            let feed = AppFeed(node: pollen.node)
            self.feed = feed
            try await Mesh.start(pollen)
            self.pollen = pollen
            Notifier.authorize()
            await refresh()
            while true {
                let update = await feed.next()
                update.notifications.forEach(Notifier.post)
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

    /// The app's tabs.
    enum Tab: Hashable { case chats, contacts, nearby, settings }
}
