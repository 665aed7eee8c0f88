import SwiftUI
import PollenKit

/// Who is in reach right now and what the node carries.
struct NearbyView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List {
            Section("Neighbours") {
                if model.neighbours.isEmpty { Text("Nobody in reach").foregroundColor(.secondary) }
                ForEach(model.neighbours, id: \.id) { n in
                    Text("\(n.id) · \(String(describing: n.kind))")
                }
            }
            if let status = model.status {
                Section("Carrying") {
                    LabeledContent("Envelopes", value: "\(status.envelopesStored)")
                    LabeledContent("For others", value: "\(status.carriedForOthers)")
                    LabeledContent("Mine undelivered", value: "\(status.ownUndelivered)")
                    LabeledContent("Mine delivered", value: "\(status.ownDelivered)")
                    LabeledContent("LAN", value: status.lanAddress ?? "off")
                }
            }
        }
        .navigationTitle("Nearby")
        .refreshable { await model.refresh() }
    }
}
