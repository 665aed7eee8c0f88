package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ListView
import java.util.TimeZone
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen
import uniffi.pollen.ConversationKind
import uniffi.pollen.TimelineEntry
import uniffi.pollen.TimelineMessageInfo

/** One chat: its timeline from the app model, oldest at the top, and a field to write. */
class ChatScreen(
    context: Context,
    /** The conversation id (hex). */
    val conversationId: String,
    /** Contact alias, group name or `#channel`, as the title. */
    private val chatTitle: String,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
    /** Opens the chat's needs-and-offers board (id, title). */
    private val openBoard: (String, String) -> Unit = { _, _ -> },
    /** Opens a group's members screen (id, title); shown for groups only. */
    private val openMembers: (String, String) -> Unit = { _, _ -> },
) : Screen {
    override val title = chatTitle
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private val draft = EditText(context).apply {
        id = DRAFT_ID
        hint = "Message"
    }

    private var muted = false
    private var items = emptyList<TimelineEntry>()
    private var selected: TimelineMessageInfo? = null
    private val selection = context.label(size = 14f).apply { id = SELECTED_ID }
    private val mute = context.button("Mute") { toggleMute() }.apply { id = MUTE_ID }
    private val members = context.button("Members") { openMembers(conversationId, chatTitle) }.apply {
        id = MEMBERS_ID
        visibility = android.view.View.GONE
    }
    private val board = context.button("Board") { openBoard(conversationId, chatTitle) }.apply { id = BOARD_ID }
    private var blocked = false
    private val block = context.button("Block") { toggleBlock() }.apply {
        id = BLOCK_ID
        visibility = android.view.View.GONE
    }

    override val view = context.column(
        context.row(context.label(chatTitle, 20f), members, board, block, mute),
        ListView(context).apply {
            id = TIMELINE_ID
            adapter = this@ChatScreen.adapter
            setOnItemClickListener { _, _, position, _ -> select(position) }
        },
        selection,
        context.row(
            context.button("Reply") { act { node, m -> node.reply(m.id, take() ?: return@act) } }.apply { id = REPLY_ID },
            context.button(REACTION) { act { node, m -> node.react(m.id, if (m.reactions.any { it.mine && it.emoji == REACTION }) "" else REACTION) } }
                .apply { id = REACT_ID },
            context.button("Edit") { act { node, m -> node.edit(m.id, take() ?: return@act) } }.apply { id = EDIT_ID },
            context.button("Delete") { act { node, m -> node.delete(m.id) } }.apply { id = DELETE_ID },
        ),
        context.row(draft, context.button("Send") { send() }.apply { id = SEND_ID }),
    ).apply { (getChildAt(1).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    /** A tapped message becomes the one Reply, react, Edit and Delete act on (tapped again, none). */
    private fun select(position: Int) {
        val m = (items.getOrNull(position) as? TimelineEntry.Message)?.message
        selected = if (m == null || m.id == selected?.id) null else m
        selection.text = selected?.let { "Selected: ${message(it)}" } ?: ""
    }

    /** The draft's text, taken out of the field; null if blank. */
    private fun take(): String? = draft.text.toString().takeIf { it.isNotBlank() }?.also { draft.setText("") }

    /** Runs [action] on the selected message, then redraws (the core refuses what is not allowed: the error is shown). */
    private fun act(action: suspend (Pollen, TimelineMessageInfo) -> Unit) {
        val node = pollen() ?: return
        val m = selected ?: return
        scope.launch {
            try {
                action(node, m)
                selected = null
                selection.text = ""
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    private fun send() {
        val text = draft.text.toString()
        val node = pollen() ?: return
        if (text.isBlank()) return
        draft.setText("")
        runThenRefresh(scope, node, report) { it.sendIn(conversationId, text) }
    }

    /** Notifications for this chat off or back on (Rust keeps the flag and honours it). */
    private fun toggleMute() = runThenRefresh(scope, pollen(), report) { it.setChatMuted(conversationId, !muted) }

    /** A direct chat's contact blocked (their messages dropped, no receipts) or let in again; the core keeps the list. */
    private fun toggleBlock() = runThenRefresh(scope, pollen(), report) { if (blocked) it.unblock(chatTitle) else it.block(chatTitle) }

    override suspend fun refresh(pollen: Pollen) {
        val chat = pollen.chatList().firstOrNull { it.conversationId == conversationId }
        muted = chat?.muted ?: false
        members.visibility = if (chat?.kind == ConversationKind.GROUP) android.view.View.VISIBLE else android.view.View.GONE
        blocked = chat?.kind == ConversationKind.DIRECT && pollen.blocked().any { it.alias == chatTitle }
        block.text = if (blocked) "Unblock" else "Block"
        block.visibility = if (chat?.kind == ConversationKind.DIRECT) android.view.View.VISIBLE else android.view.View.GONE
        mute.text = if (muted) "Unmute" else "Mute"
        val offset = TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 1000
        val items = pollen.timeline(conversationId, limit = 100, utcOffsetSecs = offset)
        this.items = items
        val texts = items.mapNotNull { (it as? TimelineEntry.Message)?.message }.associate { it.id to it.text }
        adapter.clear()
        adapter.addAll(items.map { line(it, texts) })
        pollen.markChatRead(conversationId)
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The message field. */
        const val DRAFT_ID = 0x7f0a0201

        /** The send button. */
        const val SEND_ID = 0x7f0a0202

        /** The timeline list. */
        const val TIMELINE_ID = 0x7f0a0203

        /** The mute / unmute button. */
        const val MUTE_ID = 0x7f0a0204

        /** The reply button. */
        const val REPLY_ID = 0x7f0a0205

        /** The react button. */
        const val REACT_ID = 0x7f0a0206

        /** The edit button. */
        const val EDIT_ID = 0x7f0a0207

        /** The delete button. */
        const val DELETE_ID = 0x7f0a0208

        /** What the selected message is. */
        const val SELECTED_ID = 0x7f0a0209

        /** The group's members button. */
        const val MEMBERS_ID = 0x7f0a020a

        /** A direct chat's block / unblock button. */
        const val BLOCK_ID = 0x7f0a020b

        /** The needs-and-offers board button. */
        const val BOARD_ID = 0x7f0a020c

        /** The emoji the react button adds (or, when already ours, removes). */
        const val REACTION = "👍"

        /** One timeline item as a line of text; [texts] (id → text) quotes what a reply answers. */
        fun line(item: TimelineEntry, texts: Map<String, String> = emptyMap()): String = when (item) {
            is TimelineEntry.Day -> "— ${item.label} —"
            is TimelineEntry.Message -> message(item.message, texts)
        }

        /** The app model words the text, reactions and byline; this only lays them out. */
        private fun message(m: TimelineMessageInfo, texts: Map<String, String> = emptyMap()): String {
            val reactions = if (m.reactionsLine.isEmpty()) "" else " ${m.reactionsLine}"
            val answers = m.replyTo?.let { "↪ \"${texts[it]?.take(QUOTE) ?: "…"}\" " } ?: ""
            return "${m.byline}: $answers${m.shownText}$reactions"
        }

        private const val QUOTE = 24
    }
}
