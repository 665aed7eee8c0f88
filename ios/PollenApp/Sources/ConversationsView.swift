import SwiftUI
import PollenKit

/// The app model's chat list as it comes: order, preview, unread and muted are Rust's.
struct ConversationsView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List(model.chats, id: \.conversationId) { chat in
            NavigationLink(value: chat) {
                VStack(alignment: .leading) {
                    HStack {
                        Text(chat.title).bold()
                        if chat.muted { Image(systemName: "bell.slash") }
                        Spacer()
                        if chat.unread > 0 {
                            Text("\(chat.unread)").font(.caption).padding(4)
                                .background(Capsule().fill(Color.accentColor)).foregroundColor(.white)
                        }
                    }
                    Text(chat.preview).font(.caption).foregroundColor(.secondary).lineLimit(1)
                }
            }
            .swipeActions {
                Button(chat.muted ? "Unmute" : "Mute") {
                    Task { await model.run { try $0.setChatMuted(conversationId: chat.conversationId, muted: !chat.muted) } }
                }
            }
        }
        .navigationTitle("Chats")
        .navigationDestination(for: ChatInfo.self) { ChatView(chat: $0) }
        .refreshable { await model.refresh() }
    }
}
