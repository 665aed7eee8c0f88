package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ListView
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen

/** One conversation: its messages, oldest at the top, and a field to write. */
class ChatScreen(
    context: Context,
    private val conversation: String,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = conversation
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private val draft = EditText(context).apply { hint = "Message" }

    override val view = context.column(
        context.label(conversation, 20f),
        ListView(context).apply { adapter = this@ChatScreen.adapter },
        context.row(draft, context.button("Send") { send() }),
    ).apply { (getChildAt(1).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    private fun send() {
        val text = draft.text.toString()
        val node = pollen() ?: return
        if (text.isBlank()) return
        draft.setText("")
        scope.launch {
            try {
                node.send(conversation, text)
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    override suspend fun refresh(pollen: Pollen) {
        val page = pollen.messages(conversation, limit = 100)
        adapter.clear()
        adapter.addAll(
            page.messages.asReversed().map { m ->
                val body = if (m.deleted) "(deleted)" else m.text
                val who = if (m.outgoing) "me · ${m.status.name.lowercase()}" else m.senderName
                "$who: $body"
            },
        )
        pollen.markRead(conversation)
    }
}
