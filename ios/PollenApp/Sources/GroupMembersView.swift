import SwiftUI
import PollenKit

/// A group's members from the app model. Its admin adds a contact with a
/// tap and removes a member by swiping; the core refuses what is not
/// allowed, with the reason (shown as the last error).
struct GroupMembersView: View {
    let chat: ChatInfo
    @EnvironmentObject private var model: AppModel
    @State private var info: GroupMembersInfo?

    var body: some View {
        List {
            Section("Members") {
                ForEach(info?.members ?? [], id: \.name) { member in
                    Text(member.isAdmin ? "\(member.name) (admin)" : member.name).swipeActions {
                        if info?.adminIsMe == true, let alias = member.alias {
                            Button("Remove", role: .destructive) {
                                Task { await model.run { try $0.removeMember(group: chat.conversationId, alias: alias) } }
                            }
                        }
                    }
                }
            }
            if let addable = info?.addable, !addable.isEmpty {
                Section("Tap to add (they read what is sent from then on)") {
                    ForEach(addable, id: \.self) { alias in
                        Button(alias) { Task { await model.run { try $0.addMember(conversationId: chat.conversationId, alias: alias) } } }
                    }
                }
            }
        }
        .navigationTitle("\(chat.title): members")
        .task(id: model.revision) {
            info = await model.run(refresh: false) { [id = chat.conversationId] in try $0.groupMembers(conversationId: id) }
        }
    }
}
