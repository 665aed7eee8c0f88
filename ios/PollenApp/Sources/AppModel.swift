import Foundation
import PollenKit
import UIKit
import UserNotifications

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
    /// Every switch and list of Settings (transports, routing, privacy,
    /// receipts, relays, who is blocked), as the core keeps them.
    @Published private(set) var settings: SettingsInfo?
    /// Other apps of the team that made themselves known in the App Group
    /// folder, and what the user let them use.
    @Published private(set) var otherApps: [String] = []
    @Published private(set) var grants: [AppGrantInfo] = []
    /// What the last bundle export or import did, worded by the core.
    @Published private(set) var bundleLine = ""
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

    /// The App Group other apps of the team share (project.yml's entitlement).
    static let appGroup = "group.org.pollen"
    /// Where they find the shared documents granted to them (ios/PollenDocs).
    private let sharedDocs = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: AppModel.appGroup)?
        .appendingPathComponent("pollen-docs").path

    private static let dataDir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        .appendingPathComponent("pollen", isDirectory: true)

    /// Opens (or creates) the node, starts the mesh and follows its events.
    func start() async {
        guard pollen == nil else { return }
        do {
            let pollen = try await Pollen.openOrCreate(dataDir: Self.dataDir.path, name: UIDevice.current.name)
            let feed = AppFeed(node: pollen.node)
            self.feed = feed
            try await Mesh.start(pollen)
            self.pollen = pollen
            Notifier.authorize()
            await refresh()
            while self.feed === feed {
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
        let shared = sharedDocs
        let lists = await run(refresh: false) { node in
            // Requests other apps left are answered, and what they may read written.
            if let shared { _ = try? node.syncAppGroup(root: shared) }
            let apps = try shared.map { try node.appGroupApps(root: $0) } ?? []
            return try (node.chatList(limit: 200), node.contacts(), node.status(), node.nearby(), node.settings(),
                        apps, node.appAccessGrants())
        }
        guard let lists else { return }
        (chats, contacts, status, nearby, settings, otherApps, grants) = lists
        revision += 1
    }

    /// Saves which transports are allowed (the core applies it); a radio
    /// for Bluetooth switched back on.
    func setTransports(_ allowed: TransportsInfo) async {
        guard let pollen else { return }
        do {
            try await pollen.node.setTransports(allowed: allowed)
            if allowed.bluetooth && settings?.transports.bluetooth == false { try await Mesh.followBluetooth(pollen) }
        } catch {
            lastError = "\(error)"
        }
        await refresh()
    }

    /// Writes a bundle to a temporary file, for the user to move where it is carried.
    func exportBundle() async -> URL? {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pollen-bundle.pollen")
        try? FileManager.default.removeItem(at: url)
        guard let line = await run(refresh: false, { try $0.exportBundle(path: url.path).summary }) else { return nil }
        bundleLine = line
        return url
    }

    /// Reads a bundle the user picked (checked record by record by the core).
    func importBundle(_ url: URL) async {
        let scoped = url.startAccessingSecurityScopedResource()
        defer { if scoped { url.stopAccessingSecurityScopedResource() } }
        bundleLine = await run { try $0.importBundle(path: url.path).summary } ?? bundleLine
    }

    /// Panic wipe: the node is shut down and every file of it erased for
    /// good; notifications go; the app starts again with a new identity.
    func erase() async {
        guard let pollen else { return }
        self.pollen = nil
        feed = nil
        do {
            try await pollen.node.stop()
            pollen.node.shutdown()
            _ = try wipe(dataDir: Self.dataDir.path)
        } catch {
            lastError = "\(error)"
        }
        UNUserNotificationCenter.current().removeAllDeliveredNotifications()
        (chats, contacts, chatPath, bundleLine) = ([], [], [], "")
        await start()
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
