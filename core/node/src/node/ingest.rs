//! Taking envelopes and delivery proofs in: the admission rules (see
//! [`crate::admission`]), then opening what is ours ([`open`]), applying it to
//! conversations ([`apply`]), and carrying the rest within quotas.

mod apply;
mod doc_change;
#[cfg(test)]
mod hardening_tests;
mod open;

use super::{Node, NodeError};
use crate::admission::{self, MAX_UNMATCHED_PROOFS, Prior};
use crate::conversation::ConversationDoc;
use crate::node::events::{ConversationId, NodeEvent};
use crate::store::{EnvelopeClass, EnvelopeRecord, InsertOutcome, StoreError};
use pollen_proto::envelope::{self, DeliveryProof, Envelope, EnvelopeId, RoutingTag, SharedKey};

pub use crate::admission::Rejection;

/// What happened to an envelope that was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    /// It was for this node (directly, or a group/channel it is in) and was opened.
    Opened {
        /// Conversation it belongs to.
        conversation: ConversationId,
        /// The delivery proof this node now publishes (direct envelopes only).
        proof: Option<DeliveryProof>,
    },
    /// Stored to carry on for others.
    Carried,
    /// Already held.
    Duplicate,
    /// Delivered or purged before: a replay, not stored again.
    AlreadyDelivered {
        /// Its delivery proof, when known here: the sender still carries the
        /// envelope and should get the proof to drop it.
        proof: Option<DeliveryProof>,
    },
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
        NodeError::Doc(d) => Ok(Rejection::Content(d.to_string())),
        NodeError::NotAdmin(g) => Ok(Rejection::Content(format!(
            "group key for {g:?} not from its admin"
        ))),
        NodeError::BadName(n, why) => Ok(Rejection::Content(format!("name {n:?}: {why}"))),
        other => Err(other),
    }
}

/// Ingest state for one transaction (a change is applied to its root key's
/// document, built from the key's stored changes: `apply.rs`).
pub(crate) struct Batch<'n> {
    node: &'n Node,
    shared: Vec<(SharedKey, ConversationId)>,
    direct_tags: super::direct_tags::DirectTags,
    /// The copy budget that came with the envelope being taken in.
    copies: u32,
    /// Envelopes were stored (`Some(false)`) or refused for want of room
    /// (`Some(true)`): storage pressure is checked when the batch is saved.
    stored: Option<bool>,
}

impl<'n> Batch<'n> {
    pub(crate) fn new(node: &'n Node) -> Result<Self, NodeError> {
        let shared = node
            .store
            .shared_keys()?
            .into_iter()
            .map(|(k, c, _)| (k, c))
            .collect();
        Ok(Self {
            node,
            shared,
            direct_tags: Default::default(),
            copies: 1,
            stored: None,
        })
    }

    /// Takes one envelope. The outer error is fatal (storage); the inner one
    /// is this envelope's rejection.
    pub(crate) fn ingest(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<EnvelopeId>,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        self.ingest_copy(bytes, claimed_id, origin, 1)
    }

    /// Takes one envelope that came with a budget of `copies` (kept if it
    /// is stored to carry on).
    pub(crate) fn ingest_copy(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<EnvelopeId>,
        origin: &str,
        copies: u32,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        self.copies = admission::admit_copies(copies);
        let outcome = self.take(bytes, claimed_id, origin);
        self.copies = 1;
        outcome
    }

    fn take(
        &mut self,
        bytes: &[u8],
        claimed_id: Option<EnvelopeId>,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        let node = self.node;
        let (mut env, id) = match admission::decode_fresh(bytes, claimed_id, node.now()) {
            Ok(checked) => checked,
            Err(r) => return Ok(Err(r)),
        };
        let header = *env.header();
        let (held, seen, proven) = node.store.envelope_state(&id, &header.commitment)?;
        match Prior::of(held, seen, proven) {
            Prior::Held => return Ok(Ok(IngestOutcome::Duplicate)),
            Prior::Seen => {
                let proof = node.store.proof_secret(&header.commitment, node.now())?;
                return Ok(Ok(IngestOutcome::AlreadyDelivered { proof }));
            }
            Prior::Proven => {
                // Known here without the envelope, so not offered on
                // (`routing::offers_proof`): the peer carrying it gets the
                // proof now, and spreads it among the carriers.
                node.store.mark_seen(&id, header.expires_at)?;
                let proof = node.store.proof_secret(&header.commitment, node.now())?;
                return Ok(Ok(IngestOutcome::AlreadyDelivered { proof }));
            }
            Prior::New => {}
        }
        // The tag says the envelope is ours (a stranger's tag matching by chance
        // is a 2^-64 event), so a seal that does not open means tampering.
        if header.tag == self.direct_tag(header.expires_at) {
            return match envelope::open_direct(&node.me, &env) {
                Ok(opened) => self.accept_direct(&env, opened, origin),
                Err(e) => Ok(Err(e.into())),
            };
        }
        if let Some((key, conv)) = self.shared_key_for(&header.tag, header.expires_at) {
            return match envelope::open_shared(&key, &env) {
                Ok(opened) => self.accept_shared(&mut env, &key, &conv, opened, origin),
                Err(e) => Ok(Err(e.into())),
            };
        }
        let keep_max = admission::hop_coin(&node.hop_key(), &id);
        if let Err(r) = admission::spend_hop(&mut env, keep_max) {
            return Ok(Err(r));
        }
        match self.store_envelope(&env, &id, EnvelopeClass::Carried, origin)? {
            Ok(InsertOutcome::Duplicate) => Ok(Ok(IngestOutcome::Duplicate)),
            Ok(InsertOutcome::Stored { .. }) => Ok(Ok(IngestOutcome::Carried)),
            Err(r) => Ok(Err(r)),
        }
    }

    /// This node's direct tag for an expiry (one per day, cached).
    fn direct_tag(&mut self, expires_at: u64) -> RoutingTag {
        self.direct_tags.of(&self.node.public, expires_at)
    }

    fn shared_key_for(
        &self,
        tag: &RoutingTag,
        expires_at: u64,
    ) -> Option<(SharedKey, ConversationId)> {
        self.shared
            .iter()
            .find(|(k, _)| RoutingTag::shared(k, expires_at) == *tag)
            .map(|(k, c)| (k.clone(), *c))
    }

    /// Stores `env`, whose id (`id`, known from admission: it does not
    /// depend on the hops spent since) is not hashed again.
    fn store_envelope(
        &mut self,
        env: &Envelope,
        id: &EnvelopeId,
        class: EnvelopeClass,
        origin: &str,
    ) -> Result<Result<InsertOutcome, Rejection>, NodeError> {
        let h = env.header();
        let rec = EnvelopeRecord {
            id: *id,
            bytes: env.encode(),
            expires_at: h.expires_at,
            tag: h.tag,
            commitment: h.commitment,
            class,
            copies: self.copies,
        };
        match self
            .node
            .store
            .insert_envelope(&rec, origin, self.node.now())
        {
            Ok(o) => {
                self.stored.get_or_insert(false);
                Ok(Ok(o))
            }
            Err(e @ StoreError::Full { .. }) => {
                self.stored = Some(true);
                Ok(Err(Rejection::Store(e)))
            }
            Err(e @ StoreError::QuotaExceeded { .. }) => Ok(Err(Rejection::Store(e))),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes one delivery proof: marks own messages delivered and purges
    /// carried copies. A made-up proof matches no commitment and purges nothing.
    pub(crate) fn ingest_proof(
        &mut self,
        secret: DeliveryProof,
    ) -> Result<ProofOutcome, NodeError> {
        let store = &self.node.store;
        let now = self.node.now();
        let commitment = admission::proof_commitment(&secret);
        if store.has_proof(&commitment)? {
            return Ok(ProofOutcome::default());
        }
        let held = store.commitment_expiry(&commitment)?;
        let delivered = store.mark_delivered(&commitment, now)?;
        let matched = held.is_some() || delivered;
        let Some(expires_at) =
            admission::keep_proof(matched, held, now, MAX_UNMATCHED_PROOFS, || {
                store.unmatched_proof_count()
            })?
        else {
            return Ok(ProofOutcome::default());
        };
        let purged = store.purge_commitment(&commitment)?;
        store.insert_proof(&commitment, &secret, expires_at, matched, 0)?;
        if delivered && let Some((conv, msg)) = store.outbox_message(&commitment)? {
            self.node.events.raise(NodeEvent::Delivered {
                conversation: conv,
                message: msg,
            });
        }
        Ok(ProofOutcome {
            new: true,
            purged,
            delivered,
        })
    }

    /// Says whether storage is under pressure after what the batch stored.
    pub(crate) fn flush(&mut self) -> Result<(), NodeError> {
        if let Some(refused) = self.stored.take() {
            let used = self.node.store.usage()?.bytes();
            let cap = self.node.store.limits().global_bytes;
            if self.node.events.pressure(used, cap, refused) {
                self.node.events.raise(NodeEvent::StoragePressure {
                    used_bytes: used,
                    cap_bytes: cap,
                });
            }
        }
        Ok(())
    }
}

impl Node {
    /// The document of one root key of a conversation (a message and its
    /// edits, reactions and deletion, or one reader's marker), built from
    /// the changes stored for that key. Keys never depend on each other
    /// (an edit is built on its message's changes only), so a key's document
    /// reads the same as the whole conversation's would, at a cost that does
    /// not grow with the conversation.
    pub(crate) fn key_doc(
        &self,
        conv: &ConversationId,
        key: &str,
    ) -> Result<ConversationDoc, NodeError> {
        let mut doc = ConversationDoc::new();
        doc.apply(&self.store.changes_for_key(conv, key)?)?;
        Ok(doc)
    }

    /// Ingests envelopes from one origin in one transaction; returns one result
    /// per envelope.
    pub fn ingest_envelopes(
        &self,
        envelopes: &[(Vec<u8>, Option<EnvelopeId>)],
        origin: &str,
    ) -> Result<Vec<Result<IngestOutcome, Rejection>>, NodeError> {
        self.transaction(|_| {
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
    pub fn ingest_proofs(&self, secrets: &[DeliveryProof]) -> Result<Vec<ProofOutcome>, NodeError> {
        self.transaction(|_| {
            let mut batch = Batch::new(self)?;
            secrets.iter().map(|s| batch.ingest_proof(*s)).collect()
        })
    }
}
