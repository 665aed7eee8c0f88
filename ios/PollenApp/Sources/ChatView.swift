import SwiftUI
import PollenKit

/// One conversation: its messages and a field to write.
struct ChatView: View {
    let conversation: String
    @EnvironmentObject private var model: AppModel
    @State private var messages: [MessageInfo] = []
    @State private var draft = ""

    var body: some View {
        VStack {
            List(messages.reversed(), id: \.id) { message in
                VStack(alignment: message.outgoing ? .trailing : .leading) {
                    Text(message.deleted ? "(deleted)" : message.text)
                    Text("\(message.senderName) · \(String(describing: message.status))").font(.caption2).foregroundColor(.secondary)
                }
                .frame(maxWidth: .infinity, alignment: message.outgoing ? .trailing : .leading)
            }
            HStack {
                TextField("Message", text: $draft)
                Button("Send") { Task { await send() } }.disabled(draft.isEmpty)
            }
            .padding()
        }
        .navigationTitle(conversation)
        .task(id: model.conversations.map(\.lastActivity)) { await load() }
    }

    private func load() async {
        await model.perform { pollen in
            messages = try await pollen.messages(conversation: conversation).messages
            _ = try await pollen.markRead(conversation: conversation)
        }
    }

    private func send() async {
        let text = draft
        draft = ""
        await model.perform { pollen in _ = try await pollen.send(conversation: conversation, text: text) }
        await load()
    }
}
