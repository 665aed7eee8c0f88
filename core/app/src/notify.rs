//! Which events warrant a notification (muted chats: [`crate::mute`]).

use crate::AppError;
pub use crate::mute::{is_muted, set_muted};
use pollen_node::Node;
use pollen_node::node::{ConversationId, NodeEvent};
use pollen_node::store::ConversationKind;

/// A notification to post (or replace): one per chat, carrying the count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The chat it opens; the platform's notification tag (one per chat).
    pub conversation: ConversationId,
    /// Direct, group or channel (a notification channel per kind).
    pub kind: ConversationKind,
    /// The chat's title.
    pub title: String,
    /// The newest message, "Author: text" in groups and channels.
    pub body: String,
    /// Unread messages in the chat (at least 1).
    pub count: u64,
    /// The message that raised it, hex.
    pub message: String,
}

/// The notification `event` warrants, if any: a new message from someone
/// else, in a chat that is not open on screen and not muted.
pub fn notification_for(
    node: &Node,
    event: &NodeEvent,
    open_chat: Option<&ConversationId>,
) -> Result<Option<Notification>, AppError> {
    let NodeEvent::MessageAdded {
        conversation,
        message,
        own: false,
    } = event
    else {
        return Ok(None);
    };
    if open_chat == Some(conversation) || is_muted(node, conversation)? {
        return Ok(None);
    }
    let Some(row) = node.conversation(conversation)? else {
        return Ok(None);
    };
    let Some(msg) = node.message(conversation, message)? else {
        return Ok(None);
    };
    if msg.deleted || msg.author == node.public().signing {
        return Ok(None);
    }
    let text = crate::chats::preview(&msg);
    let body = match row.kind {
        ConversationKind::Direct => text,
        ConversationKind::Group | ConversationKind::Channel => format!("{}: {text}", msg.from),
    };
    Ok(Some(Notification {
        conversation: *conversation,
        kind: row.kind,
        title: row.name,
        body,
        count: row.unread.max(1),
        message: hex::encode(message.0),
    }))
}

/// The notifications a batch of events warrants, one per chat (the last
/// message of each chat wins, its count is the chat's unread count).
pub fn notifications_for(
    node: &Node,
    events: &[NodeEvent],
    open_chat: Option<&ConversationId>,
) -> Result<Vec<Notification>, AppError> {
    let mut out: Vec<Notification> = Vec::new();
    for e in events {
        if let Some(n) = notification_for(node, e, open_chat)? {
            match out.iter_mut().find(|o| o.conversation == n.conversation) {
                Some(o) => *o = n,
                None => out.push(n),
            }
        }
    }
    Ok(out)
}
