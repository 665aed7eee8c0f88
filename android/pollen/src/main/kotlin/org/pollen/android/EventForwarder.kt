package org.pollen.android

import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.runBlocking
import uniffi.pollen.ConversationInfo
import uniffi.pollen.KeyChangeInfo
import uniffi.pollen.MessageInfo
import uniffi.pollen.MessageStatus
import uniffi.pollen.NeighbourInfo
import uniffi.pollen.PollenListener

/**
 * The listener the core calls (on its `pollen-events` thread), turned into
 * [PollenEvent]s on a shared flow.
 */
internal class EventForwarder(private val events: MutableSharedFlow<PollenEvent>) : PollenListener {
    // A full buffer blocks the core's dedicated events thread rather than
    // dropping an event: back-pressure, and nothing lost while collected.
    private fun forward(event: PollenEvent) {
        if (!events.tryEmit(event)) runBlocking { events.emit(event) }
    }

    override fun onNewMessage(message: MessageInfo) = forward(PollenEvent.NewMessage(message))

    override fun onMessageStatusChanged(conversationId: String, messageId: String, status: MessageStatus) =
        forward(PollenEvent.MessageStatusChanged(conversationId, messageId, status))

    override fun onConversationChanged(conversation: ConversationInfo) =
        forward(PollenEvent.ConversationChanged(conversation))

    override fun onNeighbourAppeared(neighbour: NeighbourInfo) = forward(PollenEvent.NeighbourAppeared(neighbour))

    override fun onNeighbourLeft(neighbour: NeighbourInfo) = forward(PollenEvent.NeighbourLeft(neighbour))

    override fun onKeyChanged(change: KeyChangeInfo) = forward(PollenEvent.KeyChanged(change))
}
