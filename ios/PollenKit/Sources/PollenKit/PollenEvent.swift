import PollenBindings

/// Something the node reports without being asked; one per `PollenListener` callback.
public enum PollenEvent {
    /// A message from someone else was opened.
    case newMessage(MessageInfo)
    /// A message of ours was delivered or read.
    case messageStatusChanged(conversationId: String, messageId: String, status: MessageStatus)
    /// A conversation changed: an edit, a deletion, a reaction, membership.
    case conversationChanged(ConversationInfo)
    /// A neighbour connected over some link.
    case neighbourAppeared(NeighbourInfo)
    /// A neighbour is gone.
    case neighbourLeft(NeighbourInfo)
    /// A contact offered a different key; it was refused.
    case keyChanged(KeyChangeInfo)
}

/// The listener the core calls on its `pollen-events` thread, feeding an `AsyncStream`.
final class EventForwarder: PollenListener, @unchecked Sendable {
    private let continuation: AsyncStream<PollenEvent>.Continuation

    init(_ continuation: AsyncStream<PollenEvent>.Continuation) {
        self.continuation = continuation
    }

    func onNewMessage(message: MessageInfo) throws {
        continuation.yield(.newMessage(message))
    }

    func onMessageStatusChanged(conversationId: String, messageId: String, status: MessageStatus) throws {
        continuation.yield(.messageStatusChanged(conversationId: conversationId, messageId: messageId, status: status))
    }

    func onConversationChanged(conversation: ConversationInfo) throws {
        continuation.yield(.conversationChanged(conversation))
    }

    func onNeighbourAppeared(neighbour: NeighbourInfo) throws {
        continuation.yield(.neighbourAppeared(neighbour))
    }

    func onNeighbourLeft(neighbour: NeighbourInfo) throws {
        continuation.yield(.neighbourLeft(neighbour))
    }

    func onKeyChanged(change: KeyChangeInfo) throws {
        continuation.yield(.keyChanged(change))
    }
}
