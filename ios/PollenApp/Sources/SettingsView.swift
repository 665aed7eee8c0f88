import SwiftUI
import PollenKit

/// Identity, storage and the last error.
struct SettingsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var channel = ""

    var body: some View {
        Form {
            if let status = model.status {
                Section("Me") {
                    LabeledContent("Name", value: status.name)
                    LabeledContent("Fingerprint", value: status.fingerprint)
                }
                Section("Storage") {
                    LabeledContent("Used", value: ByteCountFormatter.string(fromByteCount: Int64(status.storageBytes), countStyle: .file))
                    LabeledContent("Cap", value: ByteCountFormatter.string(fromByteCount: Int64(status.storageCapBytes), countStyle: .file))
                }
            }
            Section("Public channel") {
                TextField("#name", text: $channel)
                Button("Join") { Task { await model.perform { _ = try await $0.joinChannel(name: channel) } } }
            }
            if let error = model.lastError {
                Section("Last error") { Text(error).font(.caption) }
            }
        }
        .navigationTitle("Settings")
    }
}
