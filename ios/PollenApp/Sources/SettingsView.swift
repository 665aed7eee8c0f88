import SwiftUI
import PollenKit

/// Identity, storage, new groups and channels, relays, transports,
/// encounter routing, receipts, hand-carried bundles, the panic wipe, and the last error.
struct SettingsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var channel = ""
    @State private var group = ""
    @State private var members: Set<String> = []
    @State private var relay = ""
    @State private var exported: URL?
    @State private var importing = false
    @State private var erasing = false

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
            if let settings = model.settings {
                Section("Relays (internet uplink)") {
                    ForEach(settings.relays, id: \.self) { Text($0).font(.caption) }
                    TextField("pollen-relay://host:port/key", text: $relay)
                    // A bad address is refused with its reason, shown as the last error.
                    Button("Add relay") { Task { await model.run { [relay] node in try node.addRelay(address: relay) }; relay = "" } }
                }
                let transports = settings.transports
                Section("Transports") {
                    Toggle("Bluetooth: phones in reach", isOn: Binding(get: { transports.bluetooth }, set: { on in
                        Task { await model.setTransports(TransportsInfo(bluetooth: on, wifi: transports.wifi)) } }))
                    Toggle("Wi-Fi: phones on the same network", isOn: Binding(get: { transports.wifi }, set: { on in
                        Task { await model.setTransports(TransportsInfo(bluetooth: transports.bluetooth, wifi: on)) } }))
                }
                Section("Privacy") {
                    // iOS lets no app block screenshots; the app switcher's snapshot is covered.
                    Toggle("Cover Pollen in the app switcher", isOn: kept(settings.screenPrivate) { try $0.setScreenPrivate(on: $1) })
                }
                Section("Receipts") {
                    Picker("Delivered", selection: kept(settings.deliveryReceipts) { try $0.setDeliveryReceipts(mode: $1) }) {
                        Text("In batches (timing tells little)").tag(DeliveryReceipts.batched)
                        Text("At once").tag(DeliveryReceipts.immediate)
                        Text("Never").tag(DeliveryReceipts.off)
                    }
                    Toggle("Tell the others how far I have read", isOn: kept(settings.readReceipts) { try $0.setReadReceipts(on: $1) })
                }
                Section("Routing") {
                    Toggle("Tell nearby phones whom I meet (keys that change daily)",
                           isOn: kept(settings.encounterRouting) { try $0.setEncounterRouting(on: $1) })
                }
            }
            OtherAppsSection()
            Section("Hand-carried bundle (a USB stick, a shared folder)") {
                Button("Export a bundle") { Task { exported = await model.exportBundle() } }
                Button("Import a bundle") { importing = true }
                Text(model.bundleLine).font(.caption)
            }
            if let error = model.lastError {
                Section("Last error") { Text(error).font(.caption) }
            }
            Button("Erase everything on this phone", role: .destructive) { erasing = true }
        }
        .navigationTitle("Settings")
        .fileMover(isPresented: Binding(get: { exported != nil }, set: { if !$0 { exported = nil } }), file: exported) { _ in }
        .fileImporter(isPresented: $importing, allowedContentTypes: [.data]) { picked in
            if case .success(let url) = picked { Task { await model.importBundle(url) } }
        }
        .confirmationDialog(eraseWarning(), isPresented: $erasing, titleVisibility: .visible) {
            Button("Erase", role: .destructive) { Task { await model.erase() } }
        }
    }

    /// A setting the core keeps: shown as the core holds it, changed through the node.
    private func kept<T>(_ value: T, _ write: @escaping (PollenNode, T) throws -> Void) -> Binding<T> {
        Binding(get: { value }, set: { new in Task { await model.run { try write($0, new) } } })
    }
}
