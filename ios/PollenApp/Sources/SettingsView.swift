import SwiftUI
import PollenKit

/// Identity, storage, new groups and channels, relays, encounter routing,
/// and the last error.
struct SettingsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var channel = ""
    @State private var group = ""
    @State private var members: Set<String> = []
    @State private var relay = ""

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
                Button("Join") { Task { await model.run { try $0.joinChannel(name: channel) } } }
            }
            Section("New group") {
                TextField("Name", text: $group)
                ForEach(model.contacts, id: \.alias) { contact in
                    // Toggle only ever sets the opposite of what `get` said.
                    Toggle(contact.alias, isOn: Binding(
                        get: { members.contains(contact.alias) },
                        set: { _ in members.formSymmetricDifference([contact.alias]) }))
                }
                Button("Create") { Task { await model.run { try $0.createGroup(name: group, members: Array(members)) } } }
            }
            Section("Relays (internet uplink)") {
                ForEach(model.relays, id: \.self) { Text($0).font(.caption) }
                TextField("pollen-relay://host:port/key", text: $relay)
                // A bad address is refused with its reason, shown as the last error.
                Button("Add relay") { Task { await model.run { [relay] node in try node.addRelay(address: relay) }; relay = "" } }
            }
            Section("Routing") {
                Toggle("Tell nearby phones whom I meet (keys that change daily)", isOn: Binding(
                    get: { model.encounterRouting },
                    set: { on in Task { await model.run { try $0.setEncounterRouting(on: on) } } }))
            }
            if let error = model.lastError {
                Section("Last error") { Text(error).font(.caption) }
            }
        }
        .navigationTitle("Settings")
    }
}
