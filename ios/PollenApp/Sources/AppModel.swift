import Foundation
import PollenKit

/// What the screens show, kept current from the node's event stream.
@MainActor
final class AppModel: ObservableObject {
    @Published private(set) var pollen: Pollen?
    @Published private(set) var conversations: [ConversationInfo] = []
    @Published private(set) var contacts: [ContactInfo] = []
    @Published private(set) var status: NodeStatus?
    @Published private(set) var neighbours: [NeighbourInfo] = []
    @Published var lastError: String?
    private var mesh: Mesh?

    /// Opens (or creates) the node, starts the mesh and follows its events.
    func start() async {
        guard pollen == nil else { return }
        do {
            let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("pollen", isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let pollen = try await Pollen.openOrCreate(dataDir: dir.path, name: UIDeviceName.current)
            mesh = try await Mesh.start(pollen)
            self.pollen = pollen
            await refresh()
            for await event in pollen.events {
                apply(event)
                await refresh()
            }
        } catch {
            lastError = "\(error)"
        }
    }

    private func apply(_ event: PollenEvent) {
        switch event {
        case .neighbourAppeared(let n):
            neighbours.append(n)
        case .neighbourLeft(let n):
            neighbours.removeAll { $0.id == n.id }
        default:
            break
        }
    }

    /// Reloads lists and counts from the node.
    func refresh() async {
        guard let pollen else { return }
        do {
            conversations = try await pollen.conversations()
            contacts = try await pollen.contacts()
            status = try await pollen.status()
        } catch {
            lastError = "\(error)"
        }
    }

    /// Runs an action on the node, showing its error if it fails.
    func perform(_ action: (Pollen) async throws -> Void) async {
        guard let pollen else { return }
        do {
            try await action(pollen)
            await refresh()
        } catch {
            lastError = "\(error)"
        }
    }
}
