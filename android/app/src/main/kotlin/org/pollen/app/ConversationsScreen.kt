package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.ListView
import org.pollen.android.Pollen
import uniffi.pollen.ChatInfo

/** The chat list from the app model, most recent first; a tap opens the chat. */
class ConversationsScreen(context: Context, private val open: (conversationId: String, title: String) -> Unit) : Screen {
    override val title = "Chats"
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var chats = emptyList<ChatInfo>()

    override val view = ListView(context).apply {
        id = CHAT_LIST_ID
        adapter = this@ConversationsScreen.adapter
        setOnItemClickListener { _, _, position, _ -> chats.getOrNull(position)?.let { open(it.conversationId, it.title) } }
    }

    override suspend fun refresh(pollen: Pollen) {
        chats = pollen.chatList()
        adapter.clear()
        adapter.addAll(chats.map(::line))
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The chat list. */
        const val CHAT_LIST_ID = 0x7f0a0301

        /** One chat as a line: title, unread count, preview. */
        fun line(c: ChatInfo): String {
            val unread = if (c.unread > 0u) "  (${c.unread})" else ""
            val muted = if (c.muted) "  🔕" else ""
            val who = when {
                c.previewOwn -> "me: "
                c.previewAuthor != null && c.kind != uniffi.pollen.ConversationKind.DIRECT -> "${c.previewAuthor}: "
                else -> ""
            }
            val preview = if (c.preview.isEmpty()) "" else "\n$who${c.preview}"
            return "${c.title}$unread$muted$preview"
        }
    }
}
