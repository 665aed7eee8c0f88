//! The figures `pollen status` and the apps show: identity, storage,
//! delivery and attachment chunks.

use super::{Node, NodeError};

/// Figures `pollen status` shows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The node's display name.
    pub name: String,
    /// Fingerprint of the node's identity (hex).
    pub fingerprint: String,
    /// Envelopes held, all classes.
    pub envelopes_stored: u64,
    /// Envelopes held for other people (carried and shared).
    pub carried_for_others: u64,
    /// Own direct messages not yet delivered.
    pub own_undelivered: u64,
    /// Own direct messages delivered (proof seen).
    pub own_delivered: u64,
    /// Bytes of envelopes held.
    pub envelope_bytes: u64,
    /// Size of the database.
    pub storage_bytes: u64,
    /// Storage cap for envelopes.
    pub storage_cap_bytes: u64,
    /// Contacts pinned.
    pub contacts: u64,
    /// Conversations.
    pub conversations: u64,
    /// Messages in the projection.
    pub messages: u64,
    /// Refused key changes.
    pub key_changes: u64,
    /// Attachment chunks carried for others, and their bytes.
    pub chunks_carried: (u64, u64),
    /// Chunks of this node's own and fetched attachments, and their bytes.
    pub chunks_mine: (u64, u64),
}

impl Node {
    /// Status figures.
    pub fn status(&self) -> Result<Status, NodeError> {
        let usage = self.store.usage()?;
        let (pending, delivered) = self.store.outbox_counts()?;
        let chunks = self.store.chunk_usage()?;
        Ok(Status {
            name: self.me.name().to_owned(),
            fingerprint: self.fingerprint().to_hex(),
            envelopes_stored: usage.count(),
            carried_for_others: usage.carried.0 + usage.shared.0,
            own_undelivered: pending,
            own_delivered: delivered,
            envelope_bytes: usage.bytes(),
            storage_bytes: self.store.file_bytes()?,
            storage_cap_bytes: self.store.limits().global_bytes,
            contacts: self.store.contacts()?.len() as u64,
            conversations: self.store.conversations(u32::MAX)?.len() as u64,
            messages: self.store.message_count()?,
            key_changes: self.store.key_changes()?.len() as u64,
            chunks_carried: chunks.carried,
            chunks_mine: (
                chunks.wanted.0 + chunks.own.0,
                chunks.wanted.1 + chunks.own.1,
            ),
        })
    }
}
