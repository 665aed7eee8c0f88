//! Sending and fetching attachments: the file is sealed into chunks held as
//! this node's own, the post carries the reference (message key `a`), and a
//! recipient marks the blob wanted, follows its progress and saves it once
//! every chunk is here.

use super::send::Sent;
use super::{Node, NodeError};
use crate::admission::AutoFetch;
use crate::attachments::{ChunkClass, Progress};
use crate::conversation::{self, MessageId, Op};
use pollen_proto::chunk::{AttachmentRef, BlobId, MAX_ATTACHMENT_BYTES, Preview, seal_attachment};

/// Where the automatic-fetch limits are kept.
const AUTO_FETCH_KEY: &str = "attachments.auto_fetch";
use std::path::Path;

/// How long an attachment's chunks are kept by those who carry them.
pub const ATTACHMENT_TTL_SECS: u64 = 30 * 24 * 3600;

impl Node {
    /// Sends `data` as an attachment with an optional text, to a contact,
    /// group or channel by name. `preview.size` is set from `data`; a name
    /// with a path, an oversized file or thumbnail is refused.
    pub fn send_file(
        &self,
        to: &str,
        data: &[u8],
        preview: Preview,
        text: &str,
    ) -> Result<(Sent, AttachmentRef), NodeError> {
        let conv = self.resolve_conversation(to)?;
        self.post_file(&conv, data, preview, text)
    }

    /// [`Node::send_file`] into the conversation with this id (what an app
    /// whose screen shows one conversation uses).
    pub fn send_file_in(
        &self,
        conversation: &super::ConversationId,
        data: &[u8],
        preview: Preview,
        text: &str,
    ) -> Result<(Sent, AttachmentRef), NodeError> {
        let conv = self
            .store
            .conversation(conversation)?
            .ok_or_else(|| NodeError::UnknownConversation(conversation.to_hex()))?;
        self.post_file(&conv, data, preview, text)
    }

    fn post_file(
        &self,
        conv: &crate::store::ConversationRow,
        data: &[u8],
        preview: Preview,
        text: &str,
    ) -> Result<(Sent, AttachmentRef), NodeError> {
        let now = self.now();
        let sealed = seal_attachment(data, preview, now + ATTACHMENT_TTL_SECS)
            .map_err(|e| NodeError::Attachment(e.to_string()))?;
        let reference = sealed.reference;
        self.transaction(|s| -> Result<(), NodeError> {
            s.want_blob(&reference.blob, reference.blob_len, ChunkClass::Own)?;
            for chunk in &sealed.chunks {
                s.put_own_chunk(chunk, now)?;
            }
            Ok(())
        })?;
        let op = Op::Post {
            id: MessageId::for_author(&self.public.signing),
            text: text.to_owned(),
            reply_to: None,
            attachment: Some(reference.encode()),
        };
        Ok((self.write(conv, op)?, reference))
    }

    /// The attachment whose blob id starts with `prefix` (hex, at least 8
    /// digits), among the messages of every conversation.
    pub fn find_attachment(&self, prefix: &str) -> Result<AttachmentRef, NodeError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 8 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NodeError::UnknownAttachment(prefix.to_owned()));
        }
        let mut hits: Vec<AttachmentRef> = Vec::new();
        // One small document per message: a lookup the CLI makes, not a path
        // that runs per message received.
        for conv in self.store.conversations(u32::MAX)? {
            for key in self.store.message_keys(&conv.id)? {
                let Some(id) = key
                    .strip_prefix("m:")
                    .and_then(|h| MessageId::from_hex(h).ok())
                else {
                    continue;
                };
                if let Some(a) = self
                    .key_doc(&conv.id, &key)?
                    .message(&id)
                    .and_then(|m| m.attachment)
                    && hex::encode(a.blob.0).starts_with(&p)
                    && !hits.iter().any(|h| h.blob == a.blob)
                {
                    hits.push(a);
                }
            }
        }
        match hits.len() {
            1 => Ok(hits.remove(0)),
            0 => Err(NodeError::UnknownAttachment(prefix.to_owned())),
            _ => Err(NodeError::AmbiguousAttachment(prefix.to_owned())),
        }
    }

    /// The attachment a message carries, if any.
    pub fn message_attachment(
        &self,
        conversation: &super::ConversationId,
        message: &MessageId,
    ) -> Result<Option<AttachmentRef>, NodeError> {
        Ok(self
            .key_doc(conversation, &conversation::message_key(message))?
            .message(message)
            .and_then(|m| m.attachment))
    }

    /// Marks an attachment wanted: its chunks are kept as this node's and
    /// asked for in every session until it is complete.
    pub fn fetch(&self, reference: &AttachmentRef) -> Result<Progress, NodeError> {
        self.store
            .want_blob(&reference.blob, reference.blob_len, ChunkClass::Wanted)?;
        self.attachment_progress(reference)
    }

    /// The automatic-fetch limits (the defaults until the app sets them).
    pub fn auto_fetch(&self) -> Result<AutoFetch, NodeError> {
        // Two u64 LE, Bluetooth then Wi-Fi; anything else is the default.
        Ok(match self.store.meta(AUTO_FETCH_KEY)? {
            Some(b) if b.len() == 16 => AutoFetch {
                slow_link: u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
                fast_link: u64::from_le_bytes(b[8..].try_into().unwrap_or_default()),
            },
            _ => AutoFetch::default(),
        })
    }

    /// Sets how large an attachment from a contact may be to be fetched
    /// without asking, over Bluetooth and over Wi-Fi; kept across restarts.
    /// Limits above the largest attachment are cut to it, and the
    /// Bluetooth one to the Wi-Fi one. Applies to messages that open from
    /// now on.
    pub fn set_auto_fetch(&self, limits: AutoFetch) -> Result<AutoFetch, NodeError> {
        let fast = limits.fast_link.min(MAX_ATTACHMENT_BYTES);
        let limits = AutoFetch {
            slow_link: limits.slow_link.min(fast),
            fast_link: fast,
        };
        let mut bytes = limits.slow_link.to_le_bytes().to_vec();
        bytes.extend_from_slice(&limits.fast_link.to_le_bytes());
        self.store.set_meta(AUTO_FETCH_KEY, &bytes)?;
        Ok(limits)
    }

    /// (chunks held, chunks needed) of an attachment.
    pub fn attachment_progress(&self, reference: &AttachmentRef) -> Result<Progress, NodeError> {
        Ok(self.store.attachment_progress(reference)?)
    }

    /// Writes a complete attachment to `path`: every chunk is verified
    /// against the blob id again and decrypted before anything is written.
    pub fn save_attachment(
        &self,
        reference: &AttachmentRef,
        path: &Path,
    ) -> Result<u64, NodeError> {
        let progress = self.attachment_progress(reference)?;
        if !progress.complete() {
            return Err(NodeError::Incomplete(progress.have, progress.need));
        }
        let data = self
            .store
            .assemble_attachment(reference)
            .map_err(|e| NodeError::Attachment(e.to_string()))?;
        std::fs::write(path, &data).map_err(|e| NodeError::io(path, e))?;
        Ok(data.len() as u64)
    }
}

/// The hex id of a blob, as the CLI shows it.
pub fn blob_hex(blob: &BlobId) -> String {
    hex::encode(blob.0)
}
