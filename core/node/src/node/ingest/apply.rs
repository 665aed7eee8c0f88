//! Applying opened changes: the document of the change's root key, built
//! from the changes stored for that key (so the cost of a change does not
//! grow with its conversation), the keys a change may write, and the
//! projection the UI reads.

use super::Batch;
use crate::admission::MAX_HOPS;
use crate::attachments::ChunkClass;
use crate::conversation::{self, ConversationDoc, ConversationError, MessageId};
use crate::node::NodeError;
use crate::node::events::{ConversationId, MessageChange, NodeEvent};
use crate::store::ProjectedMessage;
use pollen_proto::identity::{ContactKey, PublicIdentity};

impl Batch<'_> {
    /// Validates and applies one change, then refreshes the projection of
    /// every key the change (or changes it unblocked) wrote.
    pub(crate) fn apply_change(
        &mut self,
        conv: &ConversationId,
        author: &PublicIdentity,
        author_name: &str,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), NodeError> {
        let store = &self.node.store;
        check_key(key, &author.signing)?;
        let info = conversation::check_change(&author.signing, bytes)?;
        if store.change_key(&info.hash)?.is_some() {
            return Ok(());
        }
        // Built for this change only (queued changes of the key included):
        // keeping them for a batch of a thousand posts held a thousand
        // documents of about 9 KB each.
        let mut doc = self.node.key_doc(conv, key)?;
        let applied = doc.apply(&[bytes.to_vec()])?;
        store.insert_change(&info.hash, conv, key, bytes)?;
        // Every change a key's document holds writes that key: whatever this
        // one applied (itself, or changes it unblocked) shows in one view.
        if !applied.is_empty() {
            self.reproject(&doc, conv, key, author, author_name)?;
        }
        Ok(())
    }

    fn reproject(
        &mut self,
        doc: &ConversationDoc,
        conv: &ConversationId,
        key: &str,
        author: &PublicIdentity,
        author_name: &str,
    ) -> Result<(), NodeError> {
        let node = self.node;
        if let Some(hex_id) = key.strip_prefix("m:") {
            let Ok(id) = MessageId::from_hex(hex_id) else {
                return Ok(());
            };
            let Some(view) = doc.message(&id) else {
                return Ok(());
            };
            let before = node.store.message_state(conv, &id)?;
            let fallback;
            let name = if view.author == author.signing {
                author_name
            } else {
                fallback = hex::encode(&view.author.0[..4]);
                &fallback
            };
            let reactions: Vec<(String, String)> = view
                .reactions
                .iter()
                .map(|(k, e)| (hex::encode(k), e.clone()))
                .collect();
            let attachment = view.attachment.as_ref().map(|a| a.encode());
            node.store.upsert_message(
                conv,
                &id,
                &ProjectedMessage {
                    author: &view.author,
                    author_name: name,
                    text: &view.text,
                    sent_at: view.sent_at,
                    reply_to: view.reply_to,
                    edited_at: view.edited_at,
                    deleted: view.deleted,
                    reactions: &reactions,
                    attachment: attachment.as_deref(),
                },
            )?;
            let own = view.author == node.public.signing;
            let conversation = *conv;
            let event = match before {
                None => {
                    node.store
                        .touch_conversation(conv, view.sent_at, u64::from(!own))?;
                    if let Some(a) = &view.attachment
                        && !own
                        && node.store.contact_by_key(&view.author)?.is_some()
                    {
                        let limits = node.auto_fetch()?;
                        if a.preview.size <= limits.slow_link {
                            node.store
                                .want_blob(&a.blob, a.blob_len, ChunkClass::Wanted)?;
                        } else if a.preview.size <= limits.fast_link {
                            node.store.want_blob_on_fast_links(&a.blob, a.blob_len)?;
                        }
                    }
                    Some(NodeEvent::MessageAdded {
                        conversation,
                        message: id,
                        own,
                    })
                }
                Some((edited_at, deleted, old_reactions)) => {
                    let change = if view.deleted && !deleted {
                        Some(MessageChange::Deleted)
                    } else if view.edited_at != edited_at {
                        Some(MessageChange::Edited)
                    } else if serde_json::to_string(&reactions).ok() != Some(old_reactions) {
                        Some(MessageChange::Reacted)
                    } else {
                        None
                    };
                    change.map(|change| NodeEvent::MessageChanged {
                        conversation,
                        message: id,
                        change,
                    })
                }
            };
            if let Some(e) = event {
                node.events.raise(e);
            }
        } else if key.starts_with("read:") {
            for (reader, up_to) in doc.read_markers() {
                let before = node.store.read_marker(conv, &reader)?;
                if before >= Some(up_to) {
                    continue;
                }
                node.store.set_read_marker(conv, &reader, up_to)?;
                let conversation = *conv;
                node.events.raise(if reader == node.public.signing {
                    NodeEvent::ConversationChanged { conversation }
                } else {
                    NodeEvent::Read {
                        conversation,
                        after: before.unwrap_or(0),
                        up_to,
                    }
                });
            }
        }
        Ok(())
    }

    /// Remembers how far a message travelled at least, in links (author to
    /// first carrier is one): Pollen senders start from [`MAX_HOPS`] and
    /// every carrier lowers the budget by one, except that a carrier may keep
    /// the maximum (`crate::admission::spend_hop`, checklist P4).
    pub(super) fn note_hops(
        &self,
        conv: &ConversationId,
        key: &str,
        hops_left: u8,
    ) -> Result<(), NodeError> {
        if let Some(id) = key
            .strip_prefix("m:")
            .and_then(|h| MessageId::from_hex(h).ok())
        {
            let travelled = MAX_HOPS.saturating_sub(hops_left) as u32 + 1;
            self.node.store.set_message_hops(conv, &id, travelled)?;
        }
        Ok(())
    }
}

/// A change may only write a message key or its author's own read marker.
fn check_key(key: &str, author: &ContactKey) -> Result<(), NodeError> {
    let ok = match key.strip_prefix("m:") {
        Some(id) => MessageId::from_hex(id).is_ok(),
        None => key.strip_prefix("read:") == Some(hex::encode(author).as_str()),
    };
    if ok {
        Ok(())
    } else {
        Err(NodeError::Conversation(ConversationError::BadKey(
            key.to_owned(),
        )))
    }
}
