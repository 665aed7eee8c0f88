//! The chat list: one summary per conversation, most recent first, kept
//! current by applying the node's events instead of reloading.

use crate::AppError;
use crate::mute::is_muted;
use pollen_node::Node;
use pollen_node::node::{ConversationId, NodeEvent};
use pollen_node::store::{ConversationKind, ConversationRow, MessageRow};
use pollen_proto::identity::ContactKey;
use std::collections::BTreeSet;

/// Longest preview, in characters (the list shows one line).
pub const PREVIEW_CHARS: usize = 80;

/// What the chat list shows for a deleted last message.
pub const DELETED_PREVIEW: &str = "Message deleted";

/// One row of the chat list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSummary {
    /// The conversation.
    pub id: ConversationId,
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// Contact alias, group name or `#channel`.
    pub title: String,
    /// The last message on one line, shortened; empty for a new chat.
    pub preview: String,
    /// Who wrote the last message: `None` when it was this node, else
    /// their name (the apps prefix groups' and channels' previews with it).
    pub preview_author: Option<String>,
    /// Whether this node wrote the last message.
    pub preview_own: bool,
    /// Unix milliseconds of the last message, `None` for a new chat.
    pub last_at_ms: Option<u64>,
    /// Messages received since the user last read it.
    pub unread: u64,
    /// Notifications are off for it.
    pub muted: bool,
}

/// The summary of one conversation row.
pub fn summary_of(node: &Node, row: ConversationRow) -> Result<ChatSummary, AppError> {
    let me = node.public().signing;
    let last = node.store().messages(Some(&row.id), &me, 1, None)?;
    let id = row.id;
    let muted = is_muted(node, &id)?;
    Ok(summarise(row, last.first(), &me, muted))
}

/// The summary of a row and its last message (pure).
pub fn summarise(
    row: ConversationRow,
    last: Option<&MessageRow>,
    me: &ContactKey,
    muted: bool,
) -> ChatSummary {
    let own = last.is_some_and(|m| &m.author == me);
    ChatSummary {
        id: row.id,
        kind: row.kind,
        title: row.name,
        preview: last.map(preview).unwrap_or_default(),
        preview_author: last.filter(|_| !own).map(|m| m.from.clone()),
        preview_own: own,
        last_at_ms: last.map(|m| m.sent_at),
        unread: row.unread,
        muted,
    }
}

/// A message on one line, at most [`PREVIEW_CHARS`] characters.
pub fn preview(m: &MessageRow) -> String {
    if m.deleted {
        return DELETED_PREVIEW.to_owned();
    }
    let text: String = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = match (&m.attachment, text.is_empty()) {
        (Some(a), true) => crate::attachment::headline(a),
        (Some(a), false) => format!("{} · {text}", crate::attachment::headline(a)),
        (None, _) => text,
    };
    if line.chars().count() <= PREVIEW_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The chat list, most recent first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatList {
    chats: Vec<ChatSummary>,
}

impl ChatList {
    /// Loads up to `limit` chats.
    pub fn load(node: &Node, limit: u32) -> Result<ChatList, AppError> {
        let mut chats = Vec::new();
        for row in node.conversations(limit)? {
            chats.push(summary_of(node, row)?);
        }
        let mut list = ChatList { chats };
        list.sort();
        Ok(list)
    }

    /// The chats, most recent first.
    pub fn chats(&self) -> &[ChatSummary] {
        &self.chats
    }

    /// Total unread messages (for a badge).
    pub fn unread_total(&self) -> u64 {
        self.chats.iter().map(|c| c.unread).sum()
    }

    /// Brings the list up to date with what the node reported; returns the
    /// conversations whose rows changed (empty when nothing did).
    pub fn apply(
        &mut self,
        node: &Node,
        events: &[NodeEvent],
    ) -> Result<Vec<ConversationId>, AppError> {
        let touched: BTreeSet<ConversationId> = events.iter().filter_map(conversation_of).collect();
        let mut changed = Vec::new();
        for id in touched {
            let fresh = match node.conversation(&id)? {
                Some(row) => Some(summary_of(node, row)?),
                None => None,
            };
            self.replace(id, fresh, &mut changed);
        }
        self.sort();
        Ok(changed)
    }

    /// Re-reads one chat (after muting it, say).
    pub fn refresh(&mut self, node: &Node, id: &ConversationId) -> Result<bool, AppError> {
        let fresh = match node.conversation(id)? {
            Some(row) => Some(summary_of(node, row)?),
            None => None,
        };
        let mut changed = Vec::new();
        self.replace(*id, fresh, &mut changed);
        self.sort();
        Ok(!changed.is_empty())
    }

    fn replace(
        &mut self,
        id: ConversationId,
        fresh: Option<ChatSummary>,
        changed: &mut Vec<ConversationId>,
    ) {
        let at = self.chats.iter().position(|c| c.id == id);
        match (at, fresh) {
            (Some(i), Some(s)) if self.chats[i] != s => {
                self.chats[i] = s;
                changed.push(id);
            }
            (Some(_), Some(_)) => {}
            (Some(i), None) => {
                self.chats.remove(i);
                changed.push(id);
            }
            (None, Some(s)) => {
                self.chats.push(s);
                changed.push(id);
            }
            (None, None) => {}
        }
    }

    /// Newest last message first; new chats (no message) after those, by
    /// title; the id breaks ties so the order never flickers.
    fn sort(&mut self) {
        self.chats.sort_by(|a, b| {
            b.last_at_ms
                .cmp(&a.last_at_ms)
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.id.cmp(&b.id))
        });
    }
}

/// The conversation an event is about, if any.
pub fn conversation_of(e: &NodeEvent) -> Option<ConversationId> {
    match e {
        NodeEvent::MessageAdded { conversation, .. }
        | NodeEvent::MessageChanged { conversation, .. }
        | NodeEvent::Delivered { conversation, .. }
        | NodeEvent::Carried { conversation, .. }
        | NodeEvent::Read { conversation, .. }
        | NodeEvent::ConversationChanged { conversation } => Some(*conversation),
        NodeEvent::KeyChanged { .. }
        | NodeEvent::StoragePressure { .. }
        | NodeEvent::DocChanged { .. }
        | NodeEvent::DocRefused { .. } => None,
    }
}
