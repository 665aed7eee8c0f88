import SwiftUI
import PollenKit

/// Conversations, most recent first.
struct ConversationsView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List(model.conversations, id: \.id) { conversation in
            NavigationLink(value: conversation.name) {
                HStack {
                    Text(conversation.name)
                    Spacer()
                    if conversation.unread > 0 {
                        Text("\(conversation.unread)").font(.caption).padding(4)
                            .background(Capsule().fill(Color.accentColor)).foregroundColor(.white)
                    }
                }
            }
        }
        .navigationTitle("Chats")
        .navigationDestination(for: String.self) { ChatView(conversation: $0) }
        .refreshable { await model.refresh() }
    }
}
