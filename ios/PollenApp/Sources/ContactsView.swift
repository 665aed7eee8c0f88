import SwiftUI
import CoreImage.CIFilterBuiltins
import VisionKit
import PollenKit

/// Contacts; our card as a QR code to show; a scanner or a field for someone
/// else's (the app model reads cards in either letter case, links included,
/// and says what is wrong with a malformed one).
struct ContactsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var card = ""
    @State private var scanning = false
    @State private var pasted = ""
    @State private var opened: ChatInfo?
    @State private var verifying: (alias: String, safetyNumber: String)?

    var body: some View {
        List {
            Section("My card") {
                if let image = QRCode.image(for: card) {
                    Image(uiImage: image).interpolation(.none).resizable().scaledToFit().frame(maxWidth: 240)
                }
                Text(card).font(.caption2).textSelection(.enabled)
            }
            Section("Add") {
                Button("Scan a card") { scanning = true }.disabled(!DataScannerViewController.isSupported)
                TextField("…or paste one", text: $pasted).onSubmit { add(pasted) }
            }
            Section("Contacts") {
                ForEach(model.contacts, id: \.alias) { contact in
                    HStack {
                        Text(contact.alias)
                        Spacer()
                        if contact.verified { Image(systemName: "checkmark.seal") }
                    }
                    .contentShape(Rectangle())
                    .onTapGesture { Task { opened = await model.run { try $0.openChatWithContact(alias: contact.alias) } } }
                    .swipeActions {
                        Button("Verify") {
                            Task {
                                let number = await model.run(refresh: false) { try $0.safetyNumber(alias: contact.alias) }
                                if let number { verifying = (contact.alias, number) }
                            }
                        }
                    }
                }
            }
        }
        .navigationTitle("Contacts")
        .navigationDestination(isPresented: Binding(get: { opened != nil }, set: { if !$0 { opened = nil } })) {
            if let opened { ChatView(chat: opened) }
        }
        .alert("Compare with \(verifying?.alias ?? "")", isPresented: Binding(get: { verifying != nil }, set: { if !$0 { verifying = nil } })) {
            Button("They match") {
                if let alias = verifying?.alias { Task { await model.run { try $0.markVerified(alias: alias) } } }
            }
            Button("Cancel", role: .cancel) {}
        } message: {
            Text(verifying?.safetyNumber ?? "")
        }
        .sheet(isPresented: $scanning) {
            CardScanner { scanned in
                scanning = false
                add(scanned)
            }
        }
        .task { card = await model.run(refresh: false) { try $0.card() } ?? "" }
    }

    private func add(_ input: String) {
        pasted = ""
        Task { await model.run { try $0.addContactFromInput(input: input, alias: nil) } }
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

/// VisionKit's live QR scanner: hands the first QR code it reads to the app
/// model, which decides whether it is a card.
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

    /// Receives VisionKit's recognitions.
    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        let found: (String) -> Void

        init(found: @escaping (String) -> Void) { self.found = found }

        func dataScanner(_ scanner: DataScannerViewController, didAdd items: [RecognizedItem], allItems: [RecognizedItem]) {
            for case .barcode(let code) in items {
                if let text = code.payloadStringValue {
                    scanner.stopScanning()
                    found(text)
                    return
                }
            }
        }
    }
}
