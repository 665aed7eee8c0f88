//! Muted chats. The flags live in the node's `meta` table
//! (`app.mute.<conversation hex>`), so they survive restarts and travel with
//! the data directory.

use crate::AppError;
use pollen_node::Node;
use pollen_node::node::ConversationId;

fn mute_key(id: &ConversationId) -> String {
    format!("app.mute.{}", id.to_hex())
}

/// Whether notifications are off for a chat.
pub fn is_muted(node: &Node, id: &ConversationId) -> Result<bool, AppError> {
    Ok(node.store().meta(&mute_key(id))?.as_deref() == Some(&[1u8][..]))
}

/// Turns notifications for a chat off (`true`) or back on.
pub fn set_muted(node: &Node, id: &ConversationId, muted: bool) -> Result<(), AppError> {
    node.store().set_meta(&mute_key(id), &[u8::from(muted)])?;
    Ok(())
}
