import SwiftUI
import PollenKit

/// Who is in reach right now, what this phone carries and when it last
/// reached the internet: the core's lines (`PollenNode.nearby`), drawn.
struct NearbyView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List {
            ForEach(model.nearby?.lines ?? [], id: \.self) { line in
                Text(line)
            }
            if let status = model.status {
                // No LAN row: iOS runs without the Rust LAN (Bonjour instead).
                Section("Mesh") { LabeledContent("Links", value: "\(status.links)") }
            }
        }
        .navigationTitle("Nearby")
        .refreshable { await model.refresh() }
    }
}
