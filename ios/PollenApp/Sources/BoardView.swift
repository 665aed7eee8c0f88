import SwiftUI
import PollenKit

/// A chat's needs-and-offers board, a shared document the core keeps and
/// merges: items as the app model words them, a field to post a need or an
/// offer, a tap to mark one done. Who may post is the core's rule.
struct BoardView: View {
    let chat: ChatInfo
    @EnvironmentObject private var model: AppModel
    @State private var board: DocSummary?
    @State private var items: [BoardItemInfo] = []
    @State private var draft = ""

    var body: some View {
        List {
            if board == nil {
                Button("Start a board") { act { [chat] in _ = try $0.startBoard(conversationId: chat.conversationId, title: "\(chat.title) board") } }
            } else if board?.writable == true {
                TextField("What is needed or offered", text: $draft)
                HStack {
                    Button("Need") { post(.need) }
                    Button("Offer") { post(.offer) }
                }
            }
            ForEach(items, id: \.itemId) { item in
                Button(item.line) {
                    if let id = board?.docId, !item.done { act { try $0.markBoardItemDone(boardId: id, itemId: item.itemId) } }
                }
            }
        }
        .navigationTitle(board?.title ?? "\(chat.title): board")
        .task(id: model.revision) {
            let found = await model.run(refresh: false) { [id = chat.conversationId] (node: PollenNode) -> (DocSummary?, [BoardItemInfo]) in
                guard let board = try node.boards(conversationId: id).first else { return (nil, []) }
                return (board, try node.boardItems(boardId: board.docId))
            }
            (board, items) = found ?? (nil, [])
        }
    }

    private func post(_ kind: BoardItemKind) {
        guard let id = board?.docId, !draft.isEmpty else { return }
        let text = draft
        draft = ""
        act { _ = try $0.postToBoard(boardId: id, kind: kind, text: text) }
    }

    private func act(_ body: @escaping (PollenNode) throws -> Void) {
        Task { await model.run(body) }
    }
}
