package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.ListView
import org.pollen.android.Pollen

/** Conversations, most recent first; a tap opens the chat. */
class ConversationsScreen(context: Context, private val open: (String) -> Unit) : Screen {
    override val title = "Chats"
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var names = emptyList<String>()

    override val view = ListView(context).apply {
        adapter = this@ConversationsScreen.adapter
        setOnItemClickListener { _, _, position, _ -> names.getOrNull(position)?.let(open) }
    }

    override suspend fun refresh(pollen: Pollen) {
        val conversations = pollen.conversations()
        names = conversations.map { it.name }
        adapter.clear()
        adapter.addAll(conversations.map { c -> if (c.unread > 0u) "${c.name}  (${c.unread})" else c.name })
    }
}
