//! The app model both apps draw: pure logic over a [`pollen_node::Node`],
//! sans-IO, with time passed in.
//!
//! - [`chats`]: the chat list (title, preview, unread count, time), kept
//!   current by applying [`NodeEvent`](pollen_node::node::NodeEvent)s.
//! - [`timeline`]: one chat's items, edits/reactions/deletes folded, day
//!   separators for the viewer's UTC offset, delivery state per message.
//! - [`attachment`]: an attachment's kind, state, progress and label.
//! - [`app_access`]: which other apps on the phone may read or change which
//!   shared documents, and the checked calls those apps make.
//! - [`app_group`]: the same, on iOS, through a folder in the App Group
//!   container (requests in, granted documents out).
//! - [`board`]: the needs-and-offers board, a shared document.
//! - [`bundles`]: what a sneakernet export or import did, in words.
//! - [`cards`]: adding a contact from a scanned or pasted card or link, and
//!   starting a chat with a contact, group or channel.
//! - [`notify`]: which events warrant a notification.
//! - [`erase`]: what the panic wipe asks first.
//! - [`members`]: a group's members, and adding and removing them.
//! - [`mute`]: muted chats.
//! - [`nearby`]: the Nearby screen's summary.
//! - [`power`]: the Bluetooth power mode the screen and the app's state call for.
//! - [`privacy`]: whether the screens are kept out of screenshots.
//! - [`relays`]: the relays the user gave, kept across restarts.
//! - [`transports`]: which transports the user allows.
//!
//! Arrows: `pollen-ffi → pollen-app → pollen-node`.

pub mod app_access;
pub mod app_group;
pub mod attachment;
pub mod board;
pub mod bundles;
pub mod cards;
pub mod chats;
pub mod erase;
pub mod members;
pub mod mute;
pub mod nearby;
pub mod notify;
pub mod power;
pub mod privacy;
pub mod relays;
pub mod timeline;
pub mod transports;

#[cfg(test)]
mod test_support;

use pollen_node::NodeError;

/// Why an app-model call failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The node refused or failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// What was scanned or pasted is not a usable contact card.
    #[error("not a contact card: {reason}")]
    MalformedCard {
        /// What is wrong with it, for the user.
        reason: String,
    },
    /// A board item could not be posted or found.
    #[error("{0}")]
    BadItem(String),
    /// No conversation with this id.
    #[error("no conversation {0}")]
    UnknownConversation(String),
}

impl From<pollen_node::store::StoreError> for AppError {
    fn from(e: pollen_node::store::StoreError) -> Self {
        AppError::Node(NodeError::from(e))
    }
}
