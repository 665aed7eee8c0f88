package org.pollen.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.app.RemoteInput
import android.content.Context
import android.content.Intent
import uniffi.pollen.ConversationKind
import uniffi.pollen.NotificationInfo

/**
 * Posts a notification per chat for messages from others. Whether a message
 * warrants one (not ours, not the open chat, not muted) is decided in Rust
 * (`notificationForMessage`); this class only draws it. A tap opens the app's
 * launch activity with [EXTRA_CONVERSATION]; "Reply" takes a text in the
 * notification and hands it to [ReplyReceiver], which sends it in that chat.
 */
class MessageNotifier(
    private val context: Context,
    /** The activity a tap opens; by default the app's launcher activity. */
    private val launch: () -> Intent? = { context.packageManager.getLaunchIntentForPackage(context.packageName) },
) {
    private val manager = context.getSystemService(NotificationManager::class.java)

    /** The chat on screen now (conversation id), or null when none is or the app is in the background. */
    @Volatile
    var openChat: String? = null

    init {
        for (kind in ConversationKind.entries) {
            manager.createNotificationChannel(
                NotificationChannel(channel(kind), label(kind), NotificationManager.IMPORTANCE_HIGH),
            )
        }
    }

    /** Asks the node about [event]; posts what it says to post. */
    suspend fun onEvent(pollen: Pollen, event: PollenEvent) {
        if (event !is PollenEvent.NewMessage) return
        val info = pollen.notificationForMessage(event.message.conversationId, event.message.id, openChat) ?: return
        post(info)
    }

    /** Posts (or replaces) the chat's notification. */
    fun post(info: NotificationInfo) {
        val builder = Notification.Builder(context, channel(info.kind))
            .setContentTitle(info.title)
            .setContentText(info.body)
            .setSmallIcon(android.R.drawable.stat_notify_chat)
            .setNumber(info.count.toInt())
            .setAutoCancel(true)
        if (info.count > 1u) builder.setSubText("${info.count} new messages")
        launch()?.let { launch ->
            launch.putExtra(EXTRA_CONVERSATION, info.conversationId)
                .addFlags(Intent.FLAG_ACTIVITY_SINGLE_TOP or Intent.FLAG_ACTIVITY_CLEAR_TOP)
            builder.setContentIntent(
                PendingIntent.getActivity(
                    context,
                    info.conversationId.hashCode(),
                    launch,
                    PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
                ),
            )
        }
        builder.addAction(replyAction(info.conversationId))
        manager.notify(info.conversationId, NOTIFICATION_ID, builder.build())
    }

    /** "Reply" with a text field; the text goes to [ReplyReceiver] (a mutable intent: the system adds it). */
    private fun replyAction(conversationId: String): Notification.Action {
        val intent = Intent(context, ReplyReceiver::class.java)
            .setAction(ReplyReceiver.ACTION)
            .putExtra(EXTRA_CONVERSATION, conversationId)
        val pending = PendingIntent.getBroadcast(
            context,
            conversationId.hashCode(),
            intent,
            PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_MUTABLE,
        )
        val input = RemoteInput.Builder(KEY_REPLY).setLabel("Reply").build()
        return Notification.Action.Builder(null, "Reply", pending).addRemoteInput(input).build()
    }

    /** Removes a chat's notification (the user opened it). */
    fun clear(conversationId: String) = manager.cancel(conversationId, NOTIFICATION_ID)

    /** Channel ids and the tap's extra. */
    companion object {
        /** The conversation id (hex) a tapped notification opens. */
        const val EXTRA_CONVERSATION = "org.pollen.android.CONVERSATION"

        /** The reply typed in a notification ([RemoteInput] result key). */
        const val KEY_REPLY = "org.pollen.android.REPLY"
        private const val NOTIFICATION_ID = 2

        /** The notification channel for a kind of chat. */
        fun channel(kind: ConversationKind): String = "pollen-" + kind.name.lowercase()

        private fun label(kind: ConversationKind): String = when (kind) {
            ConversationKind.DIRECT -> "Direct messages"
            ConversationKind.GROUP -> "Groups"
            ConversationKind.CHANNEL -> "Channels"
        }
    }
}
