//! One conversation's document: applying changes in any order and reading
//! back what every replica agrees on, believing each key only from its owner.

use super::{ConversationError, MessageId, am, message_key, validate};
use automerge::{Automerge, Change, ChangeHash, ObjType, ROOT, ReadDoc, Value, iter::Keys};
use pollen_proto::identity::ContactKey;
use std::collections::BTreeSet;

/// One message as every replica sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageView {
    /// Its id.
    pub id: MessageId,
    /// The author's signing key.
    pub author: ContactKey,
    /// The author's send time.
    pub sent_at: u64,
    /// Current text ("" once deleted).
    pub text: String,
    /// The message it replies to.
    pub reply_to: Option<MessageId>,
    /// Time of the last edit.
    pub edited_at: Option<u64>,
    /// Deleted by its author.
    pub deleted: bool,
    /// (reactor key, emoji), sorted by reactor; removed reactions left out.
    pub reactions: Vec<(ContactKey, String)>,
    /// The attachment the post names (key `a`), if any.
    pub attachment: Option<pollen_proto::chunk::AttachmentRef>,
}

/// One conversation's Automerge document.
#[derive(Debug, Default)]
pub struct ConversationDoc {
    doc: Automerge,
    /// Changes Automerge holds back until their dependencies arrive.
    pending: BTreeSet<ChangeHash>,
}

/// The author key of the actor that wrote an operation.
fn writer(id: &automerge::ObjId) -> Option<ContactKey> {
    match id {
        automerge::ObjId::Id(_, actor, _) => {
            actor.to_bytes().get(..32)?.try_into().ok().map(ContactKey)
        }
        automerge::ObjId::Root => None,
    }
}

impl ConversationDoc {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads a saved document. Changes still waiting for their dependencies
    /// are part of the save and stay queued (tested); [`Self::queued`] counts
    /// only those queued since this load.
    /// A corrupt save is a typed error: the chunks are checked first, and a
    /// panic inside Automerge's parser is caught rather than taking the
    /// node down (the bytes come from our own database, but a damaged file
    /// must not crash the app).
    pub fn load(bytes: &[u8]) -> Result<Self, ConversationError> {
        super::bounds::check_saved_chunks(bytes)?;
        let loaded = std::panic::catch_unwind(|| Automerge::load(bytes)).map_err(|_| {
            ConversationError::Automerge("saved conversation refused: unparsable".into())
        })?;
        Ok(Self {
            doc: loaded.map_err(am)?,
            pending: BTreeSet::new(),
        })
    }

    /// The document's compact encoding.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// True when the change is applied (not merely queued).
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.doc.get_change_meta_by_hash(hash).is_some()
    }

    /// Changes queued since this document was created or loaded, waiting for
    /// dependencies that have not arrived.
    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    /// Current heads.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Validates (see [`super::check_change`]) and applies changes in any
    /// order, ignoring duplicates. Returns every change
    /// that became applied, including queued ones these unblocked. On error the
    /// document is unchanged.
    pub fn apply(&mut self, changes: &[Vec<u8>]) -> Result<Vec<ChangeHash>, ConversationError> {
        let mut fresh = Vec::with_capacity(changes.len());
        for bytes in changes {
            let (change, _) = validate(bytes)?;
            let hash = change.hash();
            if !self.has_change(&hash) && !self.pending.contains(&hash) {
                fresh.push(change);
            }
        }
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let mut candidates = self.pending.clone();
        candidates.extend(fresh.iter().map(Change::hash));
        let heads = self.doc.get_heads();
        if let Err(e) = self.doc.apply_changes(fresh) {
            // Put the document back exactly as it was before this call.
            self.doc = self.doc.fork_at(&heads).map_err(am)?;
            return Err(am(e));
        }
        let (done, waiting): (Vec<ChangeHash>, Vec<ChangeHash>) =
            candidates.into_iter().partition(|h| self.has_change(h));
        self.pending = waiting.into_iter().collect();
        Ok(done)
    }

    /// The last value of `prop` on `obj` written by `owner`.
    fn owned<'a>(
        &'a self,
        obj: &automerge::ObjId,
        prop: &str,
        owner: &ContactKey,
    ) -> Option<Value<'a>> {
        self.doc
            .get_all(obj, prop)
            .ok()?
            .into_iter()
            .filter(|(_, id)| writer(id).as_ref() == Some(owner))
            .map(|(v, _)| v)
            .next_back()
    }

    /// One message, if its post has been applied.
    pub fn message(&self, id: &MessageId) -> Option<MessageView> {
        let maps: Vec<_> = self
            .doc
            .get_all(ROOT, message_key(id))
            .ok()?
            .into_iter()
            .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
            .map(|(_, obj)| obj)
            .collect();
        // The map of the author the id is bound to; ids written before ids
        // were bound fall back on the last map.
        let obj = maps
            .iter()
            .rev()
            .find(|o| writer(o).is_some_and(|w| id.is_by(&w)))
            .or(maps.last())?
            .clone();
        let author = writer(&obj)?;
        let sent_at = self.owned(&obj, "s", &author)?.as_u64()?;
        let deleted = self
            .owned(&obj, "d", &author)
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let text = if deleted {
            String::new()
        } else {
            self.owned(&obj, "t", &author)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let reply_to = self
            .owned(&obj, "r", &author)
            .and_then(|v| v.as_str().and_then(|s| MessageId::from_hex(s).ok()));
        let edited_at = self.owned(&obj, "e", &author).and_then(|v| v.as_u64());
        let attachment = self.owned(&obj, "a", &author).and_then(|v| match v {
            Value::Scalar(s) => match s.as_ref() {
                automerge::ScalarValue::Bytes(b) => super::check_attachment(b).ok(),
                _ => None,
            },
            _ => None,
        });
        let mut reactions = Vec::new();
        for key in self.doc.keys(&obj) {
            let Some(hex_key) = key.strip_prefix("x:") else {
                continue;
            };
            let mut reactor = ContactKey([0u8; 32]);
            if hex::decode_to_slice(hex_key, &mut reactor.0).is_err() {
                continue;
            }
            if let Some(emoji) = self
                .owned(&obj, &key, &reactor)
                .and_then(|v| v.as_str().map(str::to_owned))
                && !emoji.is_empty()
            {
                reactions.push((reactor, emoji));
            }
        }
        reactions.sort();
        Some(MessageView {
            id: *id,
            author,
            sent_at,
            text,
            reply_to,
            edited_at,
            deleted,
            reactions,
            attachment,
        })
    }

    fn root_keys(&self) -> Keys<'_> {
        self.doc.keys(ROOT)
    }

    /// Every message, ordered by (sent_at, id).
    pub fn messages(&self) -> Vec<MessageView> {
        let mut out: Vec<MessageView> = self
            .root_keys()
            .filter_map(|k| {
                k.strip_prefix("m:")
                    .and_then(|h| MessageId::from_hex(h).ok())
            })
            .filter_map(|id| self.message(&id))
            .collect();
        out.sort_by_key(|m| (m.sent_at, m.id));
        out
    }

    /// (reader key, read up to) for every member who sent a read marker.
    pub fn read_markers(&self) -> Vec<(ContactKey, u64)> {
        let mut out = Vec::new();
        for key in self.root_keys() {
            let Some(hex_key) = key.strip_prefix("read:") else {
                continue;
            };
            let mut reader = ContactKey([0u8; 32]);
            if hex::decode_to_slice(hex_key, &mut reader.0).is_err() {
                continue;
            }
            let Some(v) = self
                .doc
                .get_all(ROOT, &key)
                .ok()
                .and_then(|all| {
                    all.into_iter()
                        .filter(|(_, id)| writer(id) == Some(reader))
                        .map(|(v, _)| v.as_u64())
                        .next_back()
                })
                .flatten()
            else {
                continue;
            };
            out.push((reader, v));
        }
        out.sort();
        out
    }
}
