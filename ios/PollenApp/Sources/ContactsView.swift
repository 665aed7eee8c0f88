import SwiftUI
import CoreImage.CIFilterBuiltins
import VisionKit
import PollenKit

/// Contacts; our card as a QR code to show; a scanner for someone else's.
struct ContactsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var card = ""
    @State private var scanning = false
    @State private var pasted = ""

    var body: some View {
        List {
            Section("My card") {
                if let image = QRCode.image(for: card) {
                    Image(uiImage: image).interpolation(.none).resizable().scaledToFit().frame(maxWidth: 240)
                }
                Text(card).font(.caption2).textSelection(.enabled)
            }
            Section("Add") {
                Button("Scan a card") { scanning = true }
                    .disabled(!DataScannerViewController.isSupported)
                TextField("…or paste one", text: $pasted).onSubmit { add(pasted) }
            }
            Section("Contacts") {
                ForEach(model.contacts, id: \.alias) { contact in
                    HStack {
                        Text(contact.alias)
                        Spacer()
                        if contact.verified { Image(systemName: "checkmark.seal") }
                    }
                }
            }
        }
        .navigationTitle("Contacts")
        .sheet(isPresented: $scanning) {
            CardScanner { scanned in
                scanning = false
                add(scanned)
            }
        }
        .task { await model.perform { card = try await $0.card() } }
    }

    private func add(_ text: String) {
        let card = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !card.isEmpty else { return }
        Task { await model.perform { _ = try await $0.addContact(card: card) } }
    }
}

/// Renders a QR code with Core Image.
enum QRCode {
    static func image(for text: String) -> UIImage? {
        guard !text.isEmpty else { return nil }
        let filter = CIFilter.qrCodeGenerator()
        filter.message = Data(text.utf8)
        filter.correctionLevel = "M"
        guard let output = filter.outputImage?.transformed(by: CGAffineTransform(scaleX: 8, y: 8)),
              let cgImage = CIContext().createCGImage(output, from: output.extent) else { return nil }
        return UIImage(cgImage: cgImage)
    }
}

/// VisionKit's live QR scanner; reports the first `pollen1…` card it reads.
struct CardScanner: UIViewControllerRepresentable {
    let found: (String) -> Void

    func makeUIViewController(context: Context) -> DataScannerViewController {
        let scanner = DataScannerViewController(recognizedDataTypes: [.barcode(symbologies: [.qr])])
        scanner.delegate = context.coordinator
        try? scanner.startScanning()
        return scanner
    }

    func updateUIViewController(_ controller: DataScannerViewController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(found: found) }

    /// Receives VisionKit's recognitions; the core reads cards in either
    /// letter case (Android's QR codes are upper case).
    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        let found: (String) -> Void

        init(found: @escaping (String) -> Void) { self.found = found }

        func dataScanner(_ scanner: DataScannerViewController, didAdd items: [RecognizedItem], allItems: [RecognizedItem]) {
            for case .barcode(let code) in items {
                if let text = code.payloadStringValue, text.lowercased().hasPrefix("pollen1") {
                    scanner.stopScanning()
                    found(text)
                    return
                }
            }
        }
    }
}
