//! Taking envelopes and delivery proofs in: validate, deduplicate, open what
//! is ours, apply it to conversations, carry the rest within quotas.

use super::{DEFAULT_HOPS, DEFAULT_TTL_SECS, Node, NodeError, check_name};
use crate::conversation::{self, ConversationDoc, ConversationError, MessageId};
use crate::store::{
    ConversationKind, EnvelopeClass, EnvelopeRecord, InsertOutcome, KeyChange, ProjectedMessage,
    StoreError,
};
use pollen_proto::envelope::{
    self, DeliveryProof, Envelope, EnvelopeError, Opened, RoutingTag, SharedKey,
};
use pollen_proto::identity::PublicIdentity;
use pollen_proto::payload::{Member, Payload, PayloadError};
use std::collections::{HashMap, HashSet};
use thiserror::Error;

/// Proofs kept for envelopes this node never held; bounds what a flood of
/// made-up proofs can cost.
const MAX_UNMATCHED_PROOFS: u64 = 50_000;

/// What happened to an envelope that was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    /// It was for this node (directly, or a group/channel it is in) and was opened.
    Opened {
        /// Conversation it belongs to.
        conversation: [u8; 16],
        /// The delivery proof this node now publishes (direct envelopes only).
        proof: Option<[u8; 32]>,
    },
    /// Stored to carry on for others.
    Carried,
    /// Already held.
    Duplicate,
    /// Delivered or purged before: a replay, not stored again.
    AlreadyDelivered {
        /// Its delivery proof, when known here: the sender still carries the
        /// envelope and should get the proof to drop it.
        proof: Option<[u8; 32]>,
    },
}

/// Why an envelope was refused (nothing stored for it).
#[derive(Debug, Error)]
pub enum Rejection {
    /// Malformed, expired, unsupported version, tampered…
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The id a bundle or peer gave does not match the bytes.
    #[error("envelope bytes do not match the id they came with (corrupted in transit)")]
    IdMismatch,
    /// No hop budget left for carrying it further.
    #[error("envelope has no hops left to be carried")]
    NoHopsLeft,
    /// Opened, but what was inside is malformed or not allowed.
    #[error("invalid content: {0}")]
    Content(String),
    /// Quota or global cap reached.
    #[error(transparent)]
    Store(StoreError),
}

impl Rejection {
    /// A short stable name for counting rejections in reports.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Envelope(e) => match e {
                EnvelopeError::Decode(_) => "malformed",
                EnvelopeError::BadLength(_) => "bad_length",
                EnvelopeError::TooLarge(_) => "oversized",
                EnvelopeError::UnsupportedVersion(_) => "unsupported_version",
                EnvelopeError::Expired { .. } => "expired",
                EnvelopeError::ExpiryTooFar { .. } => "expiry_too_far",
                EnvelopeError::PayloadTooLarge(_) => "oversized",
                EnvelopeError::NotForMe => "tampered",
                EnvelopeError::BadCommitment | EnvelopeError::BadPadding => "tampered",
                EnvelopeError::BadSignature | EnvelopeError::BadAuthorName(_) => "bad_signature",
                EnvelopeError::Crypto(_) => "crypto",
            },
            Rejection::IdMismatch => "id_mismatch",
            Rejection::NoHopsLeft => "no_hops_left",
            Rejection::Content(_) => "invalid_content",
            Rejection::Store(StoreError::QuotaExceeded { .. }) => "quota_exceeded",
            Rejection::Store(_) => "store_full",
        }
    }
}

/// What happened to a delivery proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProofOutcome {
    /// It was not known before.
    pub new: bool,
    /// Envelopes it purged.
    pub purged: usize,
    /// It marked one of this node's messages delivered.
    pub delivered: bool,
}

/// Errors inside opened content are the sender's fault: reject the envelope.
/// Anything else (disk, database) is ours: stop.
fn content_error(e: NodeError) -> Result<Rejection, NodeError> {
    match e {
        NodeError::Conversation(c) => Ok(Rejection::Content(c.to_string())),
        NodeError::Payload(p) => Ok(Rejection::Content(p.to_string())),
        NodeError::NotAdmin(g) => Ok(Rejection::Content(format!(
            "group key for {g:?} not from its admin"
        ))),
        NodeError::BadName(n, why) => Ok(Rejection::Content(format!("name {n:?}: {why}"))),
        other => Err(other),
    }
}

/// Ingest state for one transaction: conversation documents are loaded once,
/// changed in memory, and saved by [`Batch::flush`].
pub(crate) struct Batch<'n> {
    node: &'n Node,
    docs: HashMap<[u8; 16], ConversationDoc>,
    dirty: HashSet<[u8; 16]>,
    shared: Vec<(SharedKey, [u8; 16])>,
    direct_tags: HashMap<u64, RoutingTag>,
    /// The copy budget that came with the envelope being taken in.
    copies: u32,
}

impl<'n> Batch<'n> {
    pub(crate) fn new(node: &'n Node) -> Result<Self, NodeError> {
        let shared = node
            .store
            .shared_keys()?
            .into_iter()
            .map(|(k, c, _)| (SharedKey(k), c))
            .collect();
        Ok(Self {
            node,
            docs: HashMap::new(),
            dirty: HashSet::new(),
            shared,
            direct_tags: HashMap::new(),
            copies: 1,
        })
    }

    /// Takes one envelope. The outer error is fatal (storage); the inner one
    /// is this envelope's rejection.
    pub(crate) fn ingest(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<[u8; 32]>,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        self.ingest_copy(bytes, claimed_id, origin, 1)
    }

    /// Takes one envelope that came with a budget of `copies` (kept if it
    /// is stored to carry on).
    pub(crate) fn ingest_copy(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<[u8; 32]>,
        origin: &str,
        copies: u32,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        self.copies = copies.max(1);
        let outcome = self.take(bytes, claimed_id, origin);
        self.copies = 1;
        outcome
    }

    fn take(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<[u8; 32]>,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        let node = self.node;
        let now = node.now();
        let mut env = match Envelope::decode(bytes) {
            Ok(env) => env,
            Err(e) => return Ok(Err(e.into())),
        };
        let id = env.id().0;
        if claimed_id.is_some_and(|c| c != id) {
            return Ok(Err(Rejection::IdMismatch));
        }
        if let Err(e) = env.check_fresh(now) {
            return Ok(Err(e.into()));
        }
        let header = *env.header();
        match node.store.envelope_state(&id, &header.commitment)? {
            (true, _, _) => return Ok(Ok(IngestOutcome::Duplicate)),
            (_, true, _) => {
                let proof = node.store.proof_secret(&header.commitment)?;
                return Ok(Ok(IngestOutcome::AlreadyDelivered { proof }));
            }
            (_, _, true) => {
                node.store.mark_seen(&id, header.expires_at)?;
                return Ok(Ok(IngestOutcome::AlreadyDelivered { proof: None }));
            }
            _ => {}
        }
        // The tag says the envelope is ours (a stranger's tag matching by chance
        // is a 2^-64 event), so a seal that does not open means tampering.
        if header.tag == self.direct_tag(header.expires_at) {
            return match envelope::open_direct(&node.me, &env) {
                Ok(opened) => self.accept_direct(&env, opened),
                Err(e) => Ok(Err(e.into())),
            };
        }
        if let Some((key, conv)) = self.shared_key_for(&header.tag, header.expires_at) {
            return match envelope::open_shared(&key, &env) {
                Ok(opened) => self.accept_shared(&mut env, &key, &conv, opened, origin),
                Err(e) => Ok(Err(e.into())),
            };
        }
        if header.hops == 0 {
            return Ok(Err(Rejection::NoHopsLeft));
        }
        env.set_hops(header.hops - 1);
        match self.store_envelope(&env, EnvelopeClass::Carried, origin)? {
            Ok(InsertOutcome::Duplicate) => Ok(Ok(IngestOutcome::Duplicate)),
            Ok(InsertOutcome::Stored { .. }) => Ok(Ok(IngestOutcome::Carried)),
            Err(r) => Ok(Err(r)),
        }
    }

    /// This node's direct tag for an expiry (one per day, cached).
    fn direct_tag(&mut self, expires_at: u64) -> RoutingTag {
        let day = expires_at / 86400;
        *self
            .direct_tags
            .entry(day)
            .or_insert_with(|| RoutingTag::direct(&self.node.public, expires_at))
    }

    fn shared_key_for(&self, tag: &RoutingTag, expires_at: u64) -> Option<(SharedKey, [u8; 16])> {
        self.shared
            .iter()
            .find(|(k, _)| RoutingTag::shared(k, expires_at) == *tag)
            .map(|(k, c)| (k.clone(), *c))
    }

    fn store_envelope(
        &self,
        env: &Envelope,
        class: EnvelopeClass,
        origin: &str,
    ) -> Result<Result<InsertOutcome, Rejection>, NodeError> {
        let h = env.header();
        let rec = EnvelopeRecord {
            id: env.id().0,
            bytes: env.encode(),
            expires_at: h.expires_at,
            tag: h.tag.0,
            commitment: h.commitment,
            class,
            copies: self.copies,
        };
        match self
            .node
            .store
            .insert_envelope(&rec, origin, self.node.now())
        {
            Ok(o) => Ok(Ok(o)),
            Err(e @ (StoreError::QuotaExceeded { .. } | StoreError::Full { .. })) => {
                Ok(Err(Rejection::Store(e)))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn accept_direct(
        &mut self,
        env: &Envelope,
        opened: Opened,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        let node = self.node;
        let header = env.header();
        let id = env.id().0;
        // Whatever happens next, this envelope was for us: never take it again.
        node.store.mark_seen(&id, header.expires_at)?;
        if opened.author == node.public {
            return Ok(Err(Rejection::Content(
                "sealed by this node to itself".into(),
            )));
        }
        let result = match Payload::decode(&opened.payload) {
            Err(e) => Err(NodeError::Payload(e)),
            Ok(Payload::Change { key, change }) => self
                .dm_conversation_for(&opened.author, &opened.author_name)
                .and_then(|conv| {
                    self.apply_change(&conv, &opened.author, &opened.author_name, &key, &change)?;
                    self.note_hops(&conv, &key, header.hops)?;
                    Ok(conv)
                }),
            Ok(Payload::GroupKey {
                group,
                name,
                epoch,
                key,
                members,
            }) => self
                .accept_group_key(&opened.author, group, &name, epoch, key, members)
                .map(|()| group),
        };
        match result {
            Ok(conversation) => {
                let proof = DeliveryProof(opened.proof_secret);
                node.store
                    .insert_proof(&proof.commitment(), &proof.0, header.expires_at)?;
                Ok(Ok(IngestOutcome::Opened {
                    conversation,
                    proof: Some(proof.0),
                }))
            }
            Err(e) => Ok(Err(content_error(e)?)),
        }
    }

    fn accept_shared(
        &mut self,
        env: &mut Envelope,
        key_used: &SharedKey,
        conv: &[u8; 16],
        opened: Opened,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        if let Some(epoch) = self.group_epoch_of(key_used, conv)?
            && !self
                .node
                .store
                .was_member(conv, epoch, &opened.author.signing)?
        {
            return Ok(Err(Rejection::Content(
                "author was not a member of the group in that epoch".into(),
            )));
        }
        let applied = match Payload::decode(&opened.payload) {
            Ok(Payload::Change { key, change }) => self
                .apply_change(conv, &opened.author, &opened.author_name, &key, &change)
                .and_then(|()| self.note_hops(conv, &key, env.header().hops)),
            Ok(Payload::GroupKey { .. }) => Err(NodeError::Payload(PayloadError::UnknownKind(2))),
            Err(e) => Err(NodeError::Payload(e)),
        };
        if let Err(e) = applied {
            return Ok(Err(content_error(e)?));
        }
        // Other members still need it: carry it on, above strangers' traffic.
        let hops = env.header().hops;
        env.set_hops(hops.saturating_sub(1));
        match self.store_envelope(env, EnvelopeClass::Shared, origin)? {
            Ok(_) => Ok(Ok(IngestOutcome::Opened {
                conversation: *conv,
                proof: None,
            })),
            Err(r) => Ok(Err(r)),
        }
    }

    /// For a group key, the epoch it belongs to (None for channels).
    fn group_epoch_of(&self, key: &SharedKey, conv: &[u8; 16]) -> Result<Option<u32>, NodeError> {
        if self.node.store.group(conv)?.is_none() {
            return Ok(None);
        }
        Ok(self
            .node
            .store
            .shared_keys()?
            .into_iter()
            .find(|(k, c, _)| k == &key.0 && c == conv)
            .map(|(_, _, e)| e))
    }

    /// The direct conversation with an author, flagging a claimed name that
    /// belongs to a pinned contact with other keys.
    fn dm_conversation_for(
        &self,
        author: &PublicIdentity,
        claimed: &str,
    ) -> Result<[u8; 16], NodeError> {
        let node = self.node;
        if let Some(c) = node.store.contact_by_key(&author.signing)? {
            if c.identity.agreement != author.agreement {
                self.record_key_change(&c.alias, &c.identity, author)?;
            }
            return Ok(node.direct_conversation(&c.identity, &c.alias)?.id);
        }
        for c in node.store.contacts_by_card_name(claimed)? {
            self.record_key_change(&c.alias, &c.identity, author)?;
        }
        let name = format!("{}~{}", claimed, &author.fingerprint().short()[..8]);
        Ok(node.direct_conversation(author, &name)?.id)
    }

    fn record_key_change(
        &self,
        alias: &str,
        pinned: &PublicIdentity,
        offered: &PublicIdentity,
    ) -> Result<(), NodeError> {
        tracing::warn!(
            alias,
            "a message claims a pinned contact's name with other keys"
        );
        self.node.store.record_key_change(&KeyChange {
            alias: alias.to_owned(),
            old_fingerprint: pinned.fingerprint().to_hex(),
            new_card: format!("key {}", offered.fingerprint().to_hex()),
            seen_at: self.node.now(),
        })?;
        Ok(())
    }

    fn accept_group_key(
        &mut self,
        author: &PublicIdentity,
        group: [u8; 16],
        name: &str,
        epoch: u32,
        key: [u8; 32],
        members: Vec<Member>,
    ) -> Result<(), NodeError> {
        let node = self.node;
        let name = check_name(name)?.to_owned();
        let member = members.iter().any(|m| m.identity == node.public);
        let known = node.store.group(&group)?;
        match &known {
            Some(g) if g.admin != author.signing => return Err(NodeError::NotAdmin(name)),
            Some(g) if g.epoch >= epoch => {}
            // A group we are not in and never were: nothing to keep.
            None if !member => return Err(NodeError::NotMember(node.me.name().to_owned(), name)),
            _ => {
                node.store
                    .ensure_conversation(&group, ConversationKind::Group, &name, None)?;
                node.store
                    .put_group(&group, &author.signing, epoch, &members)?;
            }
        }
        if !member {
            // A removal notice: the member list changes, no key comes with it.
            return Ok(());
        }
        node.store.insert_shared_key(&key, &group, epoch)?;
        self.adopt_key(&SharedKey(key), &group)
    }

    /// Starts using a shared key in this batch and opens what it can already.
    pub(crate) fn adopt_key(&mut self, key: &SharedKey, conv: &[u8; 16]) -> Result<(), NodeError> {
        if !self.shared.iter().any(|(k, _)| k == key) {
            self.shared.push((key.clone(), *conv));
            self.open_carried_with(key, conv)?;
        }
        Ok(())
    }

    /// A new key may open envelopes that arrived before it: open and apply
    /// them now, and keep carrying them as shared.
    pub(crate) fn open_carried_with(
        &mut self,
        key: &SharedKey,
        conv: &[u8; 16],
    ) -> Result<(), NodeError> {
        let node = self.node;
        for rec in node
            .store
            .envelopes_of_class(EnvelopeClass::Carried, node.now())?
        {
            if RoutingTag::shared(key, rec.expires_at).0 != rec.tag {
                continue;
            }
            let Ok(env) = Envelope::decode(&rec.bytes) else {
                continue;
            };
            let Ok(opened) = envelope::open_shared(key, &env) else {
                continue;
            };
            if let Some(epoch) = self.group_epoch_of(key, conv)?
                && !node.store.was_member(conv, epoch, &opened.author.signing)?
            {
                continue;
            }
            if let Ok(Payload::Change { key: k, change }) = Payload::decode(&opened.payload) {
                match self.apply_change(conv, &opened.author, &opened.author_name, &k, &change) {
                    Ok(()) => node
                        .store
                        .set_envelope_class(&rec.id, EnvelopeClass::Shared)?,
                    Err(e) => {
                        let r = content_error(e)?;
                        tracing::warn!(reason = %r, "carried envelope opened with a new key is invalid");
                    }
                }
            }
        }
        Ok(())
    }

    fn doc(&mut self, conv: &[u8; 16]) -> Result<&mut ConversationDoc, NodeError> {
        if !self.docs.contains_key(conv) {
            let doc = self.node.load_doc(conv)?;
            self.docs.insert(*conv, doc);
        }
        self.docs
            .get_mut(conv)
            .ok_or_else(|| NodeError::UnknownConversation(hex::encode(conv)))
    }

    /// Validates and applies one change, then refreshes the projection of
    /// every key the change (or changes it unblocked) wrote.
    pub(crate) fn apply_change(
        &mut self,
        conv: &[u8; 16],
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
        let applied = self.doc(conv)?.apply(&[bytes.to_vec()])?;
        store.insert_change(&info.hash, conv, key, bytes)?;
        self.dirty.insert(*conv);
        for hash in applied {
            let k = if hash == info.hash {
                Some(key.to_owned())
            } else {
                store.change_key(&hash)?
            };
            if let Some(k) = k {
                self.reproject(conv, &k, author, author_name)?;
            }
        }
        Ok(())
    }

    fn reproject(
        &mut self,
        conv: &[u8; 16],
        key: &str,
        author: &PublicIdentity,
        author_name: &str,
    ) -> Result<(), NodeError> {
        let node = self.node;
        if let Some(hex_id) = key.strip_prefix("m:") {
            let Ok(id) = MessageId::from_hex(hex_id) else {
                return Ok(());
            };
            let Some(view) = self.doc(conv)?.message(&id) else {
                return Ok(());
            };
            let is_new = !node.store.has_message(conv, &id.0)?;
            let fallback;
            let name = if view.author == author.signing {
                author_name
            } else {
                fallback = hex::encode(&view.author[..4]);
                &fallback
            };
            let reactions: Vec<(String, String)> = view
                .reactions
                .iter()
                .map(|(k, e)| (hex::encode(k), e.clone()))
                .collect();
            node.store.upsert_message(
                conv,
                &id.0,
                &ProjectedMessage {
                    author: &view.author,
                    author_name: name,
                    text: &view.text,
                    sent_at: view.sent_at,
                    reply_to: view.reply_to.map(|r| r.0),
                    edited_at: view.edited_at,
                    deleted: view.deleted,
                    reactions: &reactions,
                },
            )?;
            if is_new {
                let unread = u64::from(view.author != node.public.signing);
                node.store.touch_conversation(conv, view.sent_at, unread)?;
            }
        } else if key.starts_with("read:") {
            for (reader, up_to) in self.doc(conv)?.read_markers() {
                node.store.set_read_marker(conv, &reader, up_to)?;
            }
        }
        Ok(())
    }

    /// Remembers how far a message travelled, in links (author to first
    /// carrier is one): every carrier lowers the hop budget by one, and Pollen
    /// senders start from [`DEFAULT_HOPS`].
    fn note_hops(&self, conv: &[u8; 16], key: &str, hops_left: u8) -> Result<(), NodeError> {
        if let Some(id) = key
            .strip_prefix("m:")
            .and_then(|h| MessageId::from_hex(h).ok())
        {
            let travelled = DEFAULT_HOPS.saturating_sub(hops_left) as u32 + 1;
            self.node.store.set_message_hops(conv, &id.0, travelled)?;
        }
        Ok(())
    }

    /// Takes one delivery proof: marks own messages delivered and purges
    /// carried copies. A made-up proof matches no commitment and purges nothing.
    pub(crate) fn ingest_proof(&mut self, secret: [u8; 32]) -> Result<ProofOutcome, NodeError> {
        let store = &self.node.store;
        let now = self.node.now();
        let commitment = DeliveryProof(secret).commitment();
        if store.has_proof(&commitment)? {
            return Ok(ProofOutcome::default());
        }
        let held = store.commitment_expiry(&commitment)?;
        let delivered = store.mark_delivered(&commitment, now)?;
        if held.is_none() && !delivered && store.proof_count()? >= MAX_UNMATCHED_PROOFS {
            return Ok(ProofOutcome::default());
        }
        let purged = store.purge_commitment(&commitment)?;
        store.insert_proof(&commitment, &secret, held.unwrap_or(now + DEFAULT_TTL_SECS))?;
        Ok(ProofOutcome {
            new: true,
            purged,
            delivered,
        })
    }

    /// Saves every document this batch changed.
    pub(crate) fn flush(&mut self) -> Result<(), NodeError> {
        for conv in self.dirty.drain() {
            if let Some(doc) = self.docs.get_mut(&conv) {
                self.node.store.save_doc(&conv, &doc.save())?;
            }
        }
        Ok(())
    }
}

/// A change may only write a message key or its author's own read marker.
fn check_key(key: &str, author: &[u8; 32]) -> Result<(), NodeError> {
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

impl Node {
    /// The saved document of a conversation (empty if none yet).
    pub(crate) fn load_doc(&self, conv: &[u8; 16]) -> Result<ConversationDoc, NodeError> {
        match self.store.load_doc(conv)? {
            Some(bytes) => Ok(ConversationDoc::load(&bytes)?),
            None => Ok(ConversationDoc::new()),
        }
    }

    /// Ingests envelopes from one origin in one transaction; returns one result
    /// per envelope.
    pub fn ingest_envelopes(
        &self,
        envelopes: &[(Vec<u8>, Option<[u8; 32]>)],
        origin: &str,
    ) -> Result<Vec<Result<IngestOutcome, Rejection>>, NodeError> {
        self.store.transaction(|_| {
            let mut batch = Batch::new(self)?;
            let mut out = Vec::with_capacity(envelopes.len());
            for (bytes, id) in envelopes {
                out.push(batch.ingest(bytes, *id, origin)?);
            }
            batch.flush()?;
            Ok(out)
        })
    }

    /// Ingests delivery proofs in one transaction.
    pub fn ingest_proofs(&self, secrets: &[[u8; 32]]) -> Result<Vec<ProofOutcome>, NodeError> {
        self.store.transaction(|_| {
            let mut batch = Batch::new(self)?;
            secrets.iter().map(|s| batch.ingest_proof(*s)).collect()
        })
    }
}
