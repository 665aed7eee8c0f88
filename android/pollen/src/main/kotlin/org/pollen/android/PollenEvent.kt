package org.pollen.android

import uniffi.pollen.ConversationInfo
import uniffi.pollen.KeyChangeInfo
import uniffi.pollen.MessageInfo
import uniffi.pollen.MessageStatus
import uniffi.pollen.NeighbourInfo

/** Something the node reports without being asked; one per `PollenListener` callback. */
sealed interface PollenEvent {
    /** A message from someone else was opened. */
    data class NewMessage(val message: MessageInfo) : PollenEvent

    /** A message of ours was delivered or read (or went back to pending). */
    data class MessageStatusChanged(
        val conversationId: String,
        val messageId: String,
        val status: MessageStatus,
    ) : PollenEvent

    /** A conversation changed: an edit, a deletion, a reaction, membership. */
    data class ConversationChanged(val conversation: ConversationInfo) : PollenEvent

    /** A neighbour connected over some link. */
    data class NeighbourAppeared(val neighbour: NeighbourInfo) : PollenEvent

    /** A neighbour is gone. */
    data class NeighbourLeft(val neighbour: NeighbourInfo) : PollenEvent

    /** A contact offered a different key; it was refused and must be checked in person. */
    data class KeyChanged(val change: KeyChangeInfo) : PollenEvent
}
