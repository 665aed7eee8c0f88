//! The Automerge state of one conversation (a direct chat, a group or a
//! public channel), and the changes that carry it between replicas.
//!
//! Document shape (see `docs/ARCHITECTURE.md` for why):
//! - root key `m:<message id hex>` → map created by the message's author with
//!   `s` (sent_at), `t` (text), optional `r` (reply-to id hex), `e`
//!   (edited_at), `d` (deleted) and `x:<reactor key hex>` → emoji;
//! - root key `read:<reader key hex>` → the reader's read marker.
//!
//! Every change's actor id is the author's Ed25519 key followed by 8 random
//! bytes, so every change is the first (and only) change of its actor and
//! never waits for another change of the same actor; a new message is built on
//! an empty document, so it has no dependencies and shows the moment it
//! arrives.

pub(crate) mod bounds;
mod doc;

pub use automerge::ChangeHash;
pub use doc::{ConversationDoc, MessageView};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjType, ROOT, ReadDoc, Value};
use pollen_proto::identity::ContactKey;
use thiserror::Error;

/// Longest message text.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Longest reaction.
pub const MAX_EMOJI_BYTES: usize = 32;
/// Largest change accepted from anyone.
pub const MAX_CHANGE_BYTES: usize = 16 * 1024;
/// Most dependencies a change may declare (an edit depends on its message's
/// few earlier changes; thousands would only be a way to pin memory).
pub const MAX_DEPS: usize = 256;
/// Actor id length: author key (32) + random suffix (8).
pub const ACTOR_LEN: usize = 40;

/// Why a change was refused or could not be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConversationError {
    /// Automerge refused the bytes or the operation.
    #[error("invalid change: {0}")]
    Automerge(String),
    /// The change is larger than allowed.
    #[error("change is {0} bytes, more than {MAX_CHANGE_BYTES}")]
    TooLarge(usize),
    /// The change declares too many dependencies.
    #[error("change declares {0} dependencies, more than {MAX_DEPS}")]
    TooManyDeps(usize),
    /// The change's actor is not the author who signed the envelope.
    #[error("change was not written by the envelope's author")]
    WrongAuthor,
    /// The actor id does not have Pollen's shape, or is not the actor's first change.
    #[error("change has a malformed actor id or sequence number")]
    BadActor,
    /// A text is too long.
    #[error("text is {0} bytes, more than {MAX_TEXT_BYTES}")]
    TextTooLong(usize),
    /// A reaction is too long.
    #[error("reaction is {0} bytes, more than {MAX_EMOJI_BYTES}")]
    EmojiTooLong(usize),
    /// Not a message id.
    #[error("not a message id: {0:?}")]
    BadMessageId(String),
    /// A key a change may not write (not its author's to write).
    #[error("change writes a key it may not write: {0:?}")]
    BadKey(String),
    /// The operation would change nothing (e.g. the same reaction again).
    #[error("nothing to change")]
    NoChange,
    /// An edit, deletion or reaction whose message is not in the given base.
    #[error("the message to change is not known here")]
    MissingBase,
    /// The OS random generator failed.
    #[error("random generator failed: {0}")]
    Random(String),
    /// The attachment reference (key `a`) does not decode or breaks a limit.
    #[error("bad attachment reference: {0}")]
    BadAttachment(String),
}

/// The part of a message id bound to its author's key.
fn author_tag(author: &ContactKey) -> [u8; 8] {
    let h = blake3::derive_key("pollen 2026 message id author tag", author.as_bytes());
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&h[..8]);
    tag
}

fn am(e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Automerge(e.to_string())
}

/// Conversations are named by the protocol's id (group keys carry it).
pub use pollen_proto::payload::ConversationId;

pollen_proto::byte_id!(
    /// A message's id: 16 bytes, the first 8 bound to its author's key.
    MessageId,
    16,
    "message id"
);

impl MessageId {
    /// A fresh id for a message by `author`: the first 8 bytes are bound to
    /// the author's key (see [`MessageId::is_by`]), the rest are random. A
    /// change that creates a message under an id not bound to its writer is
    /// refused, so nobody can reuse (and so hide) someone else's message.
    pub fn for_author(author: &ContactKey) -> MessageId {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&author_tag(author));
        // Message ids only need to be unique, not secret; if the OS generator
        // fails we fall back on a hash of the time so sending still works.
        if pollen_proto::random::fill(&mut id[8..]).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            id[8..].copy_from_slice(&blake3::hash(&t.to_le_bytes()).as_bytes()[..8]);
        }
        MessageId(id)
    }

    /// True when this id may name a message by `author` (finding another
    /// key with the same 64-bit tag costs about 2^64 hashes).
    pub fn is_by(&self, author: &ContactKey) -> bool {
        self.0[..8] == author_tag(author)
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Result<MessageId, ConversationError> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s, &mut id)
            .map_err(|_| ConversationError::BadMessageId(s.to_owned()))?;
        Ok(MessageId(id))
    }
}

/// Root key of a message.
pub fn message_key(id: &MessageId) -> String {
    format!("m:{}", id.to_hex())
}

/// Root key of a member's read marker.
pub fn read_key(reader: &ContactKey) -> String {
    format!("read:{}", hex::encode(reader))
}

/// What an author wants to do; turned into exactly one Automerge change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A new message.
    Post {
        /// Its id.
        id: MessageId,
        /// Its text.
        text: String,
        /// The message it replies to.
        reply_to: Option<MessageId>,
        /// An encoded attachment reference (`pollen_proto::chunk::AttachmentRef`).
        attachment: Option<Vec<u8>>,
    },
    /// Replace the text of one's own message.
    Edit {
        /// Which message.
        id: MessageId,
        /// The new text.
        text: String,
    },
    /// Delete one's own message (a tombstone).
    Delete {
        /// Which message.
        id: MessageId,
    },
    /// Set (or with "" remove) one's reaction to a message.
    React {
        /// Which message.
        id: MessageId,
        /// The reaction.
        emoji: String,
    },
    /// Everything up to this time was read.
    Read {
        /// Author time of the newest message read.
        up_to: u64,
    },
}

impl Op {
    /// The root key this op writes.
    pub fn key(&self, author: &ContactKey) -> String {
        match self {
            Op::Post { id, .. }
            | Op::Edit { id, .. }
            | Op::Delete { id }
            | Op::React { id, .. } => message_key(id),
            Op::Read { .. } => read_key(author),
        }
    }
}

/// A change ready to be sealed into an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltChange {
    /// The Automerge change bytes.
    pub bytes: Vec<u8>,
    /// Its hash.
    pub hash: ChangeHash,
    /// The root key it writes.
    pub key: String,
}

/// What [`check_change`] learned about a valid change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeInfo {
    /// The change hash.
    pub hash: ChangeHash,
    /// The changes it depends on.
    pub deps: Vec<ChangeHash>,
}

fn fresh_actor(author: &ContactKey) -> Result<ActorId, ConversationError> {
    let mut bytes = [0u8; ACTOR_LEN];
    bytes[..32].copy_from_slice(author.as_bytes());
    pollen_proto::random::fill(&mut bytes[32..])
        .map_err(|e| ConversationError::Random(e.to_string()))?;
    Ok(ActorId::from(&bytes[..]))
}

/// Builds the change for `op`. `base` holds the changes already known for the
/// op's key (empty for a post), so the new change depends on exactly those.
pub fn build_change(
    author: &ContactKey,
    op: &Op,
    sent_at: u64,
    base: &[Vec<u8>],
) -> Result<BuiltChange, ConversationError> {
    let key = op.key(author);
    let mut doc = AutoCommit::new();
    if !matches!(op, Op::Post { .. }) && !base.is_empty() {
        let changes = base
            .iter()
            .map(|b| Change::from_bytes(b.clone()).map_err(am))
            .collect::<Result<Vec<_>, _>>()?;
        doc.apply_changes(changes).map_err(am)?;
    }
    doc.set_actor(fresh_actor(author)?);
    match op {
        Op::Post {
            id,
            text,
            reply_to,
            attachment,
        } => {
            check_text(text)?;
            if !id.is_by(author) {
                return Err(ConversationError::BadMessageId(id.to_hex()));
            }
            let obj = doc.put_object(ROOT, &key, ObjType::Map).map_err(am)?;
            doc.put(&obj, "s", sent_at).map_err(am)?;
            doc.put(&obj, "t", text.as_str()).map_err(am)?;
            if let Some(r) = reply_to {
                doc.put(&obj, "r", r.to_hex()).map_err(am)?;
            }
            if let Some(a) = attachment {
                check_attachment(a)?;
                doc.put(&obj, "a", automerge::ScalarValue::Bytes(a.clone()))
                    .map_err(am)?;
            }
        }
        Op::Edit { text, .. } => {
            check_text(text)?;
            let obj = message_obj(&doc, &key)?;
            doc.put(&obj, "t", text.as_str()).map_err(am)?;
            doc.put(&obj, "e", sent_at).map_err(am)?;
        }
        Op::Delete { .. } => {
            let obj = message_obj(&doc, &key)?;
            doc.put(&obj, "t", "").map_err(am)?;
            doc.put(&obj, "d", true).map_err(am)?;
        }
        Op::React { emoji, .. } => {
            if emoji.len() > MAX_EMOJI_BYTES {
                return Err(ConversationError::EmojiTooLong(emoji.len()));
            }
            let obj = message_obj(&doc, &key)?;
            doc.put(&obj, format!("x:{}", hex::encode(author)), emoji.as_str())
                .map_err(am)?;
        }
        Op::Read { up_to } => {
            doc.put(ROOT, &key, *up_to).map_err(am)?;
        }
    }
    doc.commit_with(CommitOptions::default().with_time(sent_at.min(i64::MAX as u64) as i64));
    // Automerge records nothing for a put of the value already there.
    let mut change = doc
        .get_last_local_change()
        .ok_or(ConversationError::NoChange)?;
    Ok(BuiltChange {
        hash: change.hash(),
        bytes: change.bytes().into_owned(),
        key,
    })
}

fn message_obj(doc: &AutoCommit, key: &str) -> Result<automerge::ObjId, ConversationError> {
    match doc.get(ROOT, key).map_err(am)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(ConversationError::MissingBase),
    }
}

/// Decodes an attachment reference, enforcing its size and preview limits.
pub fn check_attachment(
    bytes: &[u8],
) -> Result<pollen_proto::chunk::AttachmentRef, ConversationError> {
    if bytes.len() > pollen_proto::chunk::MAX_REFERENCE_BYTES {
        return Err(ConversationError::BadAttachment(format!(
            "{} bytes, more than {}",
            bytes.len(),
            pollen_proto::chunk::MAX_REFERENCE_BYTES
        )));
    }
    pollen_proto::chunk::AttachmentRef::decode(bytes)
        .map_err(|e| ConversationError::BadAttachment(e.to_string()))
}

fn check_text(text: &str) -> Result<(), ConversationError> {
    if text.len() > MAX_TEXT_BYTES {
        Err(ConversationError::TextTooLong(text.len()))
    } else {
        Ok(())
    }
}

/// Parses untrusted change bytes. Automerge 0.12's parser panics on some
/// malformed changes that pass the bounds check (an op counter that does
/// not fit 32 bits in the key column, found by the `doc_change` fuzz
/// target): the panic is caught and refused like any other bad change, so
/// a hostile sender cannot take a receiver down.
pub fn parse_change(bytes: &[u8]) -> Result<Change, ConversationError> {
    std::panic::catch_unwind(|| Change::from_bytes(bytes.to_vec()))
        .map_err(|_| ConversationError::Automerge("unparsable change".into()))?
        .map_err(am)
}

/// Validates untrusted change bytes claimed by `author` without applying them:
/// see [`validate`], plus the actor must belong to `author`.
pub fn check_change(author: &ContactKey, bytes: &[u8]) -> Result<ChangeInfo, ConversationError> {
    let (change, writer) = validate(bytes)?;
    if writer != *author {
        return Err(ConversationError::WrongAuthor);
    }
    Ok(ChangeInfo {
        hash: change.hash(),
        deps: change.deps().to_vec(),
    })
}

/// Decodes a change and checks everything that does not depend on who sent
/// it: size, actor shape (author key + 8 bytes, first change of its actor),
/// dependency count, and that every operation writes only a key its writer
/// owns. Returns the change and its writer's key.
pub(crate) fn validate(bytes: &[u8]) -> Result<(Change, ContactKey), ConversationError> {
    // Caps Automerge does not have (inflated size, run-length counts),
    // checked before it parses anything.
    bounds::check_bounds(bytes)?;
    let change = parse_change(bytes)?;
    let actor = change.actor_id().to_bytes();
    if actor.len() != ACTOR_LEN || change.seq() != 1 {
        return Err(ConversationError::BadActor);
    }
    let mut writer = ContactKey([0u8; 32]);
    writer.0.copy_from_slice(&actor[..32]);
    if change.deps().len() > MAX_DEPS {
        return Err(ConversationError::TooManyDeps(change.deps().len()));
    }
    let own_read = read_key(&writer);
    let own_reaction = format!("x:{}", hex::encode(writer));
    for op in change.decode().operations {
        use automerge::legacy::{Key, ObjectId, OpType};
        let Key::Map(key) = &op.key else {
            return Err(ConversationError::BadKey("a list position".into()));
        };
        let key = key.as_str();
        let allowed = !op.insert
            && match (&op.obj, &op.action) {
                // A new message: a fresh map under its own key, never
                // replacing one, with an id bound to its writer.
                (ObjectId::Root, OpType::Make(ObjType::Map)) => {
                    op.pred.is_empty()
                        && key
                            .strip_prefix("m:")
                            .and_then(|id| MessageId::from_hex(id).ok())
                            .is_some_and(|id| id.is_by(&writer))
                }
                (ObjectId::Root, OpType::Put(_)) => key == own_read,
                (ObjectId::Id(obj), OpType::Put(_)) => {
                    let creator = obj.1.to_bytes();
                    let owns_message = creator.len() == ACTOR_LEN && creator[..32] == writer.0;
                    key == own_reaction
                        || (owns_message && matches!(key, "s" | "t" | "r" | "e" | "d" | "a"))
                }
                _ => false,
            };
        if !allowed {
            return Err(ConversationError::BadKey(key.to_owned()));
        }
        // The sender's limits hold on receive too.
        if key == "a" {
            match &op.action {
                OpType::Put(automerge::ScalarValue::Bytes(b)) => {
                    check_attachment(b)?;
                }
                _ => return Err(ConversationError::BadKey(key.to_owned())),
            }
        }
        if let OpType::Put(automerge::ScalarValue::Str(v)) = &op.action {
            if key == "t" && v.len() > MAX_TEXT_BYTES {
                return Err(ConversationError::TextTooLong(v.len()));
            }
            if key == own_reaction && v.len() > MAX_EMOJI_BYTES {
                return Err(ConversationError::EmojiTooLong(v.len()));
            }
        }
    }
    Ok((change, writer))
}

#[cfg(test)]
mod tests;
