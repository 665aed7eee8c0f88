//! The foreign traits the app implements: events and platform links.

use crate::records::{ConversationInfo, KeyChangeInfo, MessageInfo, MessageStatus, NeighbourInfo};

/// What a callback into the app can fail with. Any exception the app throws
/// arrives as `Failed`, so it is logged instead of becoming a Rust panic.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The app's code failed.
    #[error("callback failed: {detail}")]
    Failed {
        /// What the app reported.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Failed { detail: e.reason }
    }
}

/// Events for the UI, called in order on the `pollen-events` thread (never the
/// core thread), so an implementation may call back into the node.
#[uniffi::export(with_foreign)]
pub trait PollenListener: Send + Sync {
    /// A message from someone else arrived.
    fn on_new_message(&self, message: MessageInfo) -> Result<(), CallbackError>;
    /// One of this node's messages was delivered or read (or a status moved).
    fn on_message_status_changed(
        &self,
        conversation_id: String,
        message_id: String,
        status: MessageStatus,
    ) -> Result<(), CallbackError>;
    /// A conversation's list entry or messages changed (edits, reactions,
    /// deletions, own sends, unread count).
    fn on_conversation_changed(&self, conversation: ConversationInfo) -> Result<(), CallbackError>;
    /// A neighbour was found (mDNS on the LAN, or a platform link's peer).
    fn on_neighbour_appeared(&self, neighbour: NeighbourInfo) -> Result<(), CallbackError>;
    /// A neighbour went away.
    fn on_neighbour_left(&self, neighbour: NeighbourInfo) -> Result<(), CallbackError>;
    /// A card with other keys was offered for a pinned contact and refused.
    fn on_key_changed(&self, change: KeyChangeInfo) -> Result<(), CallbackError>;
}

/// Links the platform opens (BLE, Bonjour, a test loopback). Called on the
/// core thread: implementations queue the work and return at once, and may
/// call only the non-blocking `link_*` methods of the node from here.
#[uniffi::export(with_foreign)]
pub trait PlatformTransport: Send + Sync {
    /// Writes `bytes` (at most the link's `max_write`) to the link, in order.
    fn send(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), CallbackError>;
    /// Closes the link; the core already treats it as gone.
    fn disconnect(&self, link_id: u64) -> Result<(), CallbackError>;
    /// Asks for a link to `peer` (a name the platform gave in `link_up`); the
    /// platform answers with `link_up(.., initiator = true, ..)` if it can.
    fn connect(&self, peer: String) -> Result<(), CallbackError>;
}
