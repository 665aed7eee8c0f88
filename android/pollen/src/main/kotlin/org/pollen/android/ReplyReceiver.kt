package org.pollen.android

import android.app.RemoteInput
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/**
 * A reply typed in a message notification: hands the text and its chat to
 * [PollenService], which owns the node and sends it there. It only forwards.
 */
class ReplyReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != ACTION) return
        val conversation = intent.getStringExtra(MessageNotifier.EXTRA_CONVERSATION) ?: return
        val text = RemoteInput.getResultsFromIntent(intent)?.getCharSequence(MessageNotifier.KEY_REPLY)?.toString()
        if (text.isNullOrBlank()) return
        PollenService.reply(context, conversation, text)
    }

    /** The broadcast a notification's "Reply" sends. */
    companion object {
        /** Its action. */
        const val ACTION = "org.pollen.android.REPLY"
    }
}
