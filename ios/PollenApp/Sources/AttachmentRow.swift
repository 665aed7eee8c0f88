import AVFoundation
import SwiftUI
import UniformTypeIdentifiers
import PollenKit

/// A message's photo, voice note or file as the app model gives it: the
/// label, kind, state and percent are Rust's. A whole image is drawn
/// inline, a whole voice note plays, any other whole file is shared; a
/// tap on one that waits asks for it (`fetchAttachment`).
struct AttachmentRow: View {
    let attachment: AttachmentInfo
    @EnvironmentObject private var model: AppModel
    @State private var file: URL?
    @State private var player: AVAudioPlayer?

    var body: some View {
        VStack(alignment: .leading) {
            if let file, attachment.kind == .image, let image = UIImage(contentsOfFile: file.path) {
                Image(uiImage: image).resizable().scaledToFit().frame(maxHeight: 240)
            } else if let thumb = UIImage(data: attachment.thumbnail) {
                Image(uiImage: thumb).resizable().scaledToFit().frame(maxHeight: 120)
            }
            HStack {
                if attachment.state == .coming || attachment.state == .wifiOnly {
                    ProgressView(value: Double(attachment.percent), total: 100).progressViewStyle(.circular)
                }
                if let file, attachment.kind != .image && attachment.kind != .audio {
                    ShareLink(item: file) { Text(attachment.label) }
                } else {
                    Text(attachment.label).font(.caption)
                }
            }
        }
        .contentShape(Rectangle())
        .onTapGesture { tapped() }
        .task(id: attachment.state) { await open() }
    }

    /// The whole file, written once into the cache by the core.
    private func open() async {
        guard attachment.state == .whole else { return }
        let dir = FileManager.default.urls(for: .cachesDirectory, in: .userDomainMask)[0].appendingPathComponent("attachments")
        let id = attachment.blobId
        file = await model.run(refresh: false) { try $0.attachmentFile(blobId: id, dir: dir.path) }.map(URL.init(fileURLWithPath:))
    }

    private func tapped() {
        let id = attachment.blobId
        switch attachment.state {
        case .ask, .wifiOnly:
            Task { await model.run { _ = try $0.fetchAttachment(blobId: id) } }
        case .whole where attachment.kind == .audio:
            guard let file else { return }
            try? AVAudioSession.sharedInstance().setCategory(.playback)
            player = try? AVAudioPlayer(contentsOf: file)
            player?.play()
        default:
            break
        }
    }
}

/// A picked or recorded file made ready for `sendFile`: copied into the
/// app's temporary directory (the picker's URL is only lent), with a small
/// JPEG for images, within the core's `attachmentLimits()`.
enum Outgoing {
    static func file(from url: URL, durationMs: UInt32? = nil) throws -> FileToSend {
        let scoped = url.startAccessingSecurityScopedResource()
        defer { if scoped { url.stopAccessingSecurityScopedResource() } }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            .appendingPathExtension(url.pathExtension)
        try FileManager.default.copyItem(at: url, to: copy)
        let type = UTType(filenameExtension: url.pathExtension)
        return FileToSend(path: copy.path, name: url.lastPathComponent, mime: type?.preferredMIMEType ?? "",
                          durationMs: durationMs, thumbnail: thumbnail(copy, type))
    }

    private static func thumbnail(_ url: URL, _ type: UTType?) -> Data {
        guard type?.conforms(to: .image) == true,
              let small = UIImage(contentsOfFile: url.path)?.preparingThumbnail(of: CGSize(width: 160, height: 160))
        else { return Data() }
        for quality in stride(from: 0.7, through: 0.1, by: -0.2) {
            if let data = small.jpegData(compressionQuality: quality), data.count <= Int(attachmentLimits().maxThumbnailBytes) {
                return data
            }
        }
        return Data()
    }
}

/// A voice note: AAC in an MPEG-4 file, recorded until stopped.
@MainActor
final class VoiceRecorder: ObservableObject {
    @Published private(set) var recording = false
    private var recorder: AVAudioRecorder?

    func start() {
        AVAudioSession.sharedInstance().requestRecordPermission { granted in
            guard granted else { return }
            Task { @MainActor in self.begin() }
        }
    }

    private func begin() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("voice-note.m4a")
        let settings: [String: Any] = [AVFormatIDKey: kAudioFormatMPEG4AAC, AVSampleRateKey: 22_050, AVNumberOfChannelsKey: 1]
        try? AVAudioSession.sharedInstance().setCategory(.playAndRecord)
        recorder = try? AVAudioRecorder(url: url, settings: settings)
        recording = recorder?.record() == true
    }

    /// Stops and returns the note, ready to send.
    func stop() -> FileToSend? {
        guard let recorder, recording else { return nil }
        let ms = UInt32(recorder.currentTime * 1000)
        recorder.stop()
        recording = false
        return try? Outgoing.file(from: recorder.url, durationMs: ms)
    }
}

/// A photo from the library, handed over as a file in the temporary directory.
struct PickedPhoto: Transferable {
    let url: URL

    static var transferRepresentation: some TransferRepresentation {
        FileRepresentation(importedContentType: .image) { received in
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent(received.file.lastPathComponent)
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: received.file, to: copy)
            return PickedPhoto(url: copy)
        }
    }
}
