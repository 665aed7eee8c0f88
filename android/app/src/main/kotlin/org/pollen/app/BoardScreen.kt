package org.pollen.app

import android.content.Context
import android.view.View
import android.widget.ArrayAdapter
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ListView
import kotlinx.coroutines.CoroutineScope
import org.pollen.android.Pollen
import uniffi.pollen.BoardItemInfo
import uniffi.pollen.BoardItemKind

/**
 * A chat's needs-and-offers board, a shared document the core keeps and
 * merges: its items as the app model words them, a field to post a need or
 * an offer, and a tap to mark an item done. Who may post is the core's rule
 * (everyone in the chat when it was started); a refusal is shown.
 */
class BoardScreen(
    context: Context,
    /** The chat's conversation id (hex). */
    val conversationId: String,
    chatTitle: String,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = "$chatTitle: board"
    private val rows = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var boardId: String? = null
    private var items = emptyList<BoardItemInfo>()
    private val heading = context.label(title, 20f).apply { id = HEADING_ID }
    private val start = context.button("Start a board") { change { it.startBoard(conversationId, "$chatTitle board") } }
        .apply { id = START_ID }
    private val draft = EditText(context).apply {
        id = DRAFT_ID
        hint = "What is needed or offered"
    }
    private val posting = context.row(
        draft,
        context.button("Need") { post(BoardItemKind.NEED) }.apply { id = NEED_ID },
        context.button("Offer") { post(BoardItemKind.OFFER) }.apply { id = OFFER_ID },
    )

    override val view = context.column(
        heading,
        start,
        ListView(context).apply {
            id = ITEMS_ID
            adapter = rows
            setOnItemClickListener { _, _, position, _ -> done(position) }
        },
        posting,
    ).apply { (getChildAt(2).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    private fun post(kind: BoardItemKind) {
        val board = boardId ?: return
        val text = draft.text.toString().takeIf { it.isNotBlank() } ?: return
        draft.setText("")
        change { it.postToBoard(board, kind, text) }
    }

    private fun done(position: Int) {
        val board = boardId ?: return
        val item = items.getOrNull(position)?.takeIf { !it.done } ?: return
        change { it.markBoardItemDone(board, item.itemId) }
    }

    private fun change(action: suspend (Pollen) -> Unit) = runThenRefresh(scope, pollen(), report, action)

    override suspend fun refresh(pollen: Pollen) {
        val board = pollen.boards(conversationId).firstOrNull()
        boardId = board?.docId
        start.visibility = if (board == null) View.VISIBLE else View.GONE
        posting.visibility = if (board?.writable == true) View.VISIBLE else View.GONE
        heading.text = board?.let { if (it.writable) it.title else "${it.title} (read only)" } ?: title
        items = board?.let { pollen.boardItems(it.docId) } ?: emptyList()
        rows.clear()
        rows.addAll(items.map { it.line })
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The board's title. */
        const val HEADING_ID = 0x7f0a0901

        /** The button that starts a board in the chat. */
        const val START_ID = 0x7f0a0902

        /** The items. */
        const val ITEMS_ID = 0x7f0a0903

        /** The field for a new item. */
        const val DRAFT_ID = 0x7f0a0904

        /** Posts the field as a need. */
        const val NEED_ID = 0x7f0a0905

        /** Posts the field as an offer. */
        const val OFFER_ID = 0x7f0a0906
    }
}
