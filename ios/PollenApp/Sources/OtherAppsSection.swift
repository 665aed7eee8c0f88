import SwiftUI
import PollenKit

/// Settings' section for other apps of the team (they use the PollenDocs
/// package): the apps that made themselves known in the App Group folder,
/// a menu to let one read or change a shared document, and the grants,
/// each taken back with a swipe. The core keeps and checks the grants and
/// writes what each app may read (`syncAppGroup`, on every refresh).
struct OtherAppsSection: View {
    @EnvironmentObject private var model: AppModel
    @State private var docs: [DocSummary] = []

    var body: some View {
        Section("Other apps (shared documents)") {
            ForEach(model.grants, id: \.line) { grant in
                Text(grant.line).font(.caption).swipeActions {
                    Button("Take back", role: .destructive) {
                        Task { await model.run { _ = try $0.revokeAppAccess(app: grant.app, docId: grant.docId) } }
                    }
                }
            }
            ForEach(model.otherApps, id: \.self) { app in
                Menu("Let \(app) use…") {
                    ForEach(docs, id: \.docId) { doc in
                        Button("\(doc.title): read") { allow(app, doc.docId, write: false) }
                        Button("\(doc.title): read and change") { allow(app, doc.docId, write: true) }
                    }
                }
            }
        }
        .task(id: model.revision) { docs = await model.run(refresh: false) { try $0.docs() } ?? [] }
    }

    private func allow(_ app: String, _ doc: String, write: Bool) {
        Task { await model.run { _ = try $0.grantAppAccess(app: app, docId: doc, write: write) } }
    }
}
