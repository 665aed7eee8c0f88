import PhotosUI
import SwiftUI
import PollenKit

/// One chat: the app model's timeline (edits, reactions and deletions folded,
/// day separators, delivery state) and a field to write. Sends by
/// conversation id: a name may stand for a contact and a group at once.
struct ChatView: View {
    let chat: ChatInfo
    @EnvironmentObject private var model: AppModel
    @State private var entries: [TimelineEntry] = []
    @State private var draft = ""
    @State private var replyTo: TimelineMessageInfo?
    @State private var editing: TimelineMessageInfo?
    @State private var picking = false
    @State private var photo: PhotosPickerItem?
    @StateObject private var voice = VoiceRecorder()

    var body: some View {
        VStack {
            List(entries.indices, id: \.self) { i in
                switch entries[i] {
                case TimelineEntry.day(_, let label):
                    Text(label).font(.caption).foregroundColor(.secondary).frame(maxWidth: .infinity)
                case TimelineEntry.message(let message):
                    MessageRow(message: message).contextMenu {
                        Button("Reply") { replyTo = message }
                        ForEach(["👍", "❤️", "😂"], id: \.self) { emoji in
                            Button(emoji) { Task { await act { try $0.react(messageId: message.id, emoji: emoji) } } }
                        }
                        if message.own && !message.deleted {
                            Button("Edit") { editing = message; draft = message.text }
                            Button("Delete", role: .destructive) { Task { await act { try $0.delete(messageId: message.id) } } }
                        }
                    }
                }
            }
            if let quoted = replyTo ?? editing {
                HStack {
                    Text("\(editing == nil ? "Reply to" : "Edit") \(quoted.author): \(quoted.text)").font(.caption).lineLimit(1)
                    Button("Cancel") { replyTo = nil; editing = nil }
                }
            }
            HStack {
                PhotosPicker(selection: $photo, matching: .images) { Image(systemName: "photo") }
                Button { picking = true } label: { Image(systemName: "paperclip") }
                Button { voice.recording ? sendFile(voice.stop()) : voice.start() } label: {
                    Image(systemName: voice.recording ? "stop.circle.fill" : "mic")
                }
                TextField("Message", text: $draft)
                Button("Send") { Task { await send() } }.disabled(draft.isEmpty)
            }
            .padding()
        }
        .fileImporter(isPresented: $picking, allowedContentTypes: [.item]) { picked in
            if case .success(let url) = picked { sendFile(try? Outgoing.file(from: url)) }
        }
        .onChange(of: photo) { item in
            Task {
                // The photo as a file of its own type (HEIC or JPEG), then as any file.
                guard let url = try? await item?.loadTransferable(type: PickedPhoto.self)?.url else { return }
                sendFile(try? Outgoing.file(from: url))
            }
        }
        .navigationTitle(chat.title)
        .toolbar {
            if chat.kind == .group { NavigationLink("Members") { GroupMembersView(chat: chat) } }
            NavigationLink("Board") { BoardView(chat: chat) }
            if chat.kind == .direct {
                // Blocked: their messages are dropped with no receipt; the core refuses writing to them.
                let isBlocked = (model.settings?.blocked ?? []).contains { $0.alias == chat.title }
                Button(isBlocked ? "Unblock" : "Block") {
                    Task {
                        await model.run { [who = chat.title] node in
                            if isBlocked { _ = try node.unblock(who: who) } else { _ = try node.block(who: who) }
                        }
                    }
                }
            }
        }
        .task(id: model.revision) { await load() }
        .onAppear { model.feed?.setChatOnScreen(conversationId: chat.conversationId) }
        .onDisappear { model.feed?.setChatOnScreen(conversationId: nil) }
    }

    private func load() async {
        let offset = Int32(TimeZone.current.secondsFromGMT())
        let id = chat.conversationId
        guard let items = await model.run(refresh: false, { try $0.timeline(conversationId: id, limit: 100, before: nil, utcOffsetSecs: offset) })
        else { return }
        entries = items
        // By id; nothing new writes nothing, so the reload cannot loop.
        await model.run(refresh: false) { try $0.markChatRead(conversationId: id) }
    }

    private func act(_ body: @escaping (PollenNode) throws -> SentInfo) async {
        await model.run(body)
    }

    /// Sends a picked or recorded file with the draft as its text.
    private func sendFile(_ file: FileToSend?) {
        guard let file else { return }
        let (text, id) = (draft, chat.conversationId)
        draft = ""
        Task { await act { try $0.sendFile(conversationId: id, file: file, text: text) } }
    }

    private func send() async {
        let (text, id, reply, edit) = (draft, chat.conversationId, replyTo?.id, editing?.id)
        draft = ""
        replyTo = nil
        editing = nil
        // An edit wins over a reply; a new message goes to the chat by id.
        await act { try $0.sendDraft(conversationId: id, text: text, replyTo: reply, editOf: edit) }
    }
}

/// One message as the timeline gives it: text, reactions and byline are the app model's.
struct MessageRow: View {
    let message: TimelineMessageInfo

    var body: some View {
        VStack(alignment: message.own ? .trailing : .leading) {
            if let attachment = message.attachment { AttachmentRow(attachment: attachment) }
            Text(message.shownText)
            Text(message.reactionsLine)
            Text(message.byline).font(.caption2).foregroundColor(.secondary)
        }
        .frame(maxWidth: .infinity, alignment: message.own ? .trailing : .leading)
    }
}
