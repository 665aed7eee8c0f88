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
import uniffi.pollen.DeliveryState
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
) : Screen {
    override val title = chatTitle
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private val draft = EditText(context).apply {
        id = DRAFT_ID
        hint = "Message"
    }

    private var muted = false
    private val mute = context.button("Mute") { toggleMute() }.apply { id = MUTE_ID }

    override val view = context.column(
        context.row(context.label(chatTitle, 20f), mute),
        ListView(context).apply {
            id = TIMELINE_ID
            adapter = this@ChatScreen.adapter
        },
        context.row(draft, context.button("Send") { send() }.apply { id = SEND_ID }),
    ).apply { (getChildAt(1).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    private fun send() {
        val text = draft.text.toString()
        val node = pollen() ?: return
        if (text.isBlank()) return
        draft.setText("")
        scope.launch {
            try {
                node.sendIn(conversationId, text)
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    /** Notifications for this chat off or back on (Rust keeps the flag and honours it). */
    private fun toggleMute() {
        val node = pollen() ?: return
        scope.launch {
            try {
                node.setChatMuted(conversationId, !muted)
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    override suspend fun refresh(pollen: Pollen) {
        muted = pollen.chatList().firstOrNull { it.conversationId == conversationId }?.muted ?: false
        mute.text = if (muted) "Unmute" else "Mute"
        val offset = TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 1000
        val items = pollen.timeline(conversationId, limit = 100, utcOffsetSecs = offset)
        adapter.clear()
        adapter.addAll(items.map(::line))
        pollen.markReadIn(conversationId)
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

        /** One timeline item as a line of text. */
        fun line(item: TimelineEntry): String = when (item) {
            is TimelineEntry.Day -> "— ${item.label} —"
            is TimelineEntry.Message -> message(item.message)
        }

        private fun message(m: TimelineMessageInfo): String {
            val body = if (m.deleted) "(deleted)" else m.text + if (m.edited) " (edited)" else ""
            val reactions = m.reactions.joinToString("") { r -> " ${r.emoji}${if (r.count > 1u) r.count else ""}" }
            val who = if (m.own) "me · ${delivery(m.delivery)}" else m.author
            return "$who: $body$reactions"
        }

        private fun delivery(d: DeliveryState): String = when (d) {
            is DeliveryState.Received -> "received"
            is DeliveryState.Queued -> "queued"
            is DeliveryState.Sent -> "sent"
            is DeliveryState.Delivered -> "delivered"
            is DeliveryState.Read -> "read"
            is DeliveryState.Failed -> "failed: ${d.reason}"
        }
    }
}
