//! What a sync session needs from the node's storage, as a trait, so the
//! session stays sans-IO and runs unchanged on the SQLite node, in tests and
//! in the simulator.

use crate::envelope::{Commitment, DeliveryProof, EnvelopeId, RoutingTag};
use crate::sync::encounter::EncounterSummary;
use thiserror::Error;

/// A local storage failure; the session closes with it (the peer did nothing wrong).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("local storage error: {0}")]
pub struct SyncStoreError(pub String);

/// What a reconciliation item stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A held envelope, with its header's routing tag and commitment.
    Envelope {
        /// The envelope's routing tag.
        tag: RoutingTag,
        /// The envelope's delivery-proof commitment.
        commitment: Commitment,
    },
    /// A known delivery proof for this commitment.
    Proof {
        /// The commitment the proof opens.
        commitment: Commitment,
    },
    /// An attachment chunk (its id is [`crate::chunk::chunk_item_id`]);
    /// offered only in sessions of version 3 and later, after every envelope.
    Chunk {
        /// The blob it is part of: a peer that names the blob in its
        /// `Wanted` list gets it whatever the copy budget.
        blob: [u8; 32],
        /// How many peers this side has handed it to: the least spread go
        /// first, so carriers met one after another take different parts
        /// of a file when none can stay for all of it.
        given: u32,
    },
}

/// One thing this side holds and offers: an envelope or a delivery proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalItem {
    /// Reconciliation id: the envelope id, [`proof_item_id`] of the
    /// commitment, or the chunk's item id (one 32-byte space, so raw bytes).
    pub id: [u8; 32],
    /// Expiry in unix seconds (the reconciliation timestamp).
    pub expires_at: u64,
    /// What the item is.
    pub kind: ItemKind,
}

/// Routing tags this side wants first: its own direct tags and those of its
/// groups and channels, for every expiry day an envelope may still have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interests {
    /// Tags of envelopes addressed to this node, each with its tag day
    /// ([`RoutingTag::day_of`]): a version 8 peer asks for some days only.
    pub direct: Vec<(u64, RoutingTag)>,
    /// Tags of its groups' and channels' envelopes, each with its day.
    pub shared: Vec<(u64, RoutingTag)>,
}

/// A transfer item received from the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Envelope bytes.
    Envelope(Vec<u8>),
    /// Envelope bytes with the copy budget the sender handed over with them.
    Copy {
        /// Copies this node now holds (at least 1).
        copies: u32,
        /// The envelope bytes.
        envelope: Vec<u8>,
    },
    /// A delivery proof secret.
    Proof(DeliveryProof),
    /// An encoded attachment chunk.
    Chunk(Vec<u8>),
    /// An encoded attachment chunk with the copy budget handed over with it
    /// (session version 6 and later).
    ChunkCopy {
        /// Copies this node now holds (at least 1).
        copies: u32,
        /// The encoded chunk.
        chunk: Vec<u8>,
    },
}

impl Incoming {
    /// The envelope bytes, for an envelope with or without a budget.
    pub fn envelope(&self) -> Option<&[u8]> {
        match self {
            Incoming::Envelope(bytes)
            | Incoming::Copy {
                envelope: bytes, ..
            } => Some(bytes),
            Incoming::Proof(_) | Incoming::Chunk(_) | Incoming::ChunkCopy { .. } => None,
        }
    }

    /// The chunk bytes and the copies that came with them (1 without a
    /// budget), for a chunk.
    pub fn chunk(&self) -> Option<(&[u8], u32)> {
        match self {
            Incoming::Chunk(bytes) => Some((bytes, 1)),
            Incoming::ChunkCopy { copies, chunk } => Some((chunk, *copies)),
            _ => None,
        }
    }
}

/// An attachment this node fetches and does not hold whole: named, blinded,
/// in its `Wanted` messages (session version 6 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WantedBlob {
    /// The blob id.
    pub blob: [u8; 32],
    /// Its padded length (part of each chunk's item id).
    pub blob_len: u64,
}

/// What became of one received item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// An envelope opened here (it was for this node or one of its groups).
    Opened,
    /// An envelope stored to carry on.
    Carried,
    /// Already held, seen or delivered; nothing changed.
    Duplicate,
    /// Refused, with the acceptance rule's reason (see `docs/PROTOCOL.md`).
    Rejected(&'static str),
    /// A new delivery proof; `purged` carried copies were dropped.
    Proof {
        /// Copies this proof purged.
        purged: usize,
        /// Whether it marked one of this node's own messages delivered.
        delivered: bool,
    },
    /// A proof already known or matching nothing worth keeping.
    ProofKnown,
}

/// What the peer is for one held item, as far as its Hello tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerRole {
    /// The item is addressed to the peer (one of its direct tags).
    Recipient,
    /// The item belongs to one of the peer's groups or channels.
    Member,
    /// Neither: the peer could only carry it on (or it is a delivery proof).
    Carrier,
}

/// Whom one held item would go to: what the peer is for it, and how likely
/// the peer is to meet its recipient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Toward {
    /// What the peer is for the item, as far as its Hello tells.
    pub role: PeerRole,
    /// The peer's predictability (0..=1) of meeting the envelope's
    /// recipient, from the encounter summary in its Hello; `None` when it
    /// sent none (or the item is not an envelope).
    pub meets: Option<f32>,
}

impl Toward {
    /// A peer that is `role` and told nothing of whom it meets.
    pub fn blind(role: PeerRole) -> Toward {
        Toward { role, meets: None }
    }
}

/// The storage side of a sync session.
pub trait SyncStore {
    /// Everything this node holds, unexpired, and is willing to offer.
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError>;
    /// The envelopes whose routing tag `wanted` accepts (no proofs): what a
    /// relay offers one client. The default filters [`SyncStore::items`];
    /// large stores override it to look at each distinct tag once.
    fn items_matching(
        &mut self,
        wanted: &mut dyn FnMut(&RoutingTag) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(self
            .items()?
            .into_iter()
            .filter(|i| matches!(i.kind, ItemKind::Envelope { tag, .. } if wanted(&tag)))
            .collect())
    }
    /// Whether a routed session ([`Offer::Routed`](crate::sync::Offer::Routed))
    /// sends `item`, which the peer lacks, to a peer that is `to.role` for
    /// it: the routing policy's one decision. The default sends everything
    /// (epidemic).
    fn offer_to(&mut self, item: &LocalItem, to: Toward) -> Result<bool, SyncStoreError> {
        let _ = (item, to);
        Ok(true)
    }
    /// Envelopes are about to be sent, each to a peer that is `to.role` for
    /// it: the copy budget that goes with each (in order), taken from this
    /// node's, or `None` when this node keeps no budgets (the envelope
    /// travels without one). A session asks for the envelopes its peer's
    /// window has room for at once, so that a store spends them in one
    /// write. Only asked in sessions whose version carries budgets.
    fn handover(
        &mut self,
        items: &[(EnvelopeId, Toward)],
    ) -> Result<Vec<Option<u32>>, SyncStoreError> {
        Ok(vec![None; items.len()])
    }
    /// The encounter summary this side puts in its Hello (session version 5
    /// and later), or `None` to tell nothing: the default, and a phone with
    /// encounter routing off.
    fn encounter_summary(&mut self) -> Result<Option<EncounterSummary>, SyncStoreError> {
        Ok(None)
    }
    /// A chunk is about to be sent to a peer that is `to.role` for it: the
    /// copy budget that goes with it, taken from this node's, or `None` when
    /// this node keeps no chunk budgets. Asked in routed sessions of
    /// version 6 and later.
    fn chunk_handover(&mut self, id: &[u8; 32], to: Toward) -> Result<Option<u32>, SyncStoreError> {
        let _ = (id, to);
        Ok(None)
    }
    /// The attachments this node fetches and lacks chunks of, most recently
    /// wanted first (session version 6 and later); over a `slow_link`
    /// (Bluetooth) only those it fetches there too. The default wants none.
    fn wanted_blobs(&mut self, slow_link: bool) -> Result<Vec<WantedBlob>, SyncStoreError> {
        let _ = slow_link;
        Ok(Vec::new())
    }
    /// The item ids of the chunks of `blob` this node lacks. The default
    /// lacks all of them.
    fn missing_chunks(&mut self, blob: &WantedBlob) -> Result<Vec<[u8; 32]>, SyncStoreError> {
        let id = crate::chunk::BlobId(blob.blob);
        let count = crate::chunk::chunk_count(blob.blob_len);
        Ok((0..count)
            .map(|i| crate::chunk::chunk_item_id(&id, blob.blob_len, i))
            .collect())
    }
    /// The chunks of blobs `wanted` accepts: what a relay offers a client
    /// that named them. The default filters [`SyncStore::items`].
    fn chunks_matching(
        &mut self,
        wanted: &mut dyn FnMut(&[u8; 32]) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(self
            .items()?
            .into_iter()
            .filter(|i| matches!(i.kind, ItemKind::Chunk { blob, .. } if wanted(&blob)))
            .collect())
    }
    /// The peer's Hello carried `summary`: whom it meets. The default
    /// ignores it.
    fn met(&mut self, summary: &EncounterSummary) -> Result<(), SyncStoreError> {
        let _ = summary;
        Ok(())
    }
    /// The peer acknowledged holding these envelopes, which this side sent
    /// it: hand-overs the author's app can show ("carried by 2"). The
    /// default notes nothing.
    fn handed_over(&mut self, ids: &[EnvelopeId]) -> Result<(), SyncStoreError> {
        let _ = ids;
        Ok(())
    }
    /// The peer acknowledged holding these chunks (item ids), which this
    /// side sent it: counted, to send the least spread first next time
    /// (see [`ItemKind::Chunk`]). Counted on acknowledgement, not on
    /// sending: a link cut mid-file then costs a chunk sent twice, never
    /// one that no carrier took. The default counts nothing.
    fn chunks_handed_over(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        let _ = ids;
        Ok(())
    }
    /// The link went before the peer acknowledged this envelope: the
    /// `copies` that went with it ([`SyncStore::handover`]) come back. It
    /// may have arrived (the acknowledgement was lost with the link): then
    /// a few more copies travel than the budget meant, never fewer. The
    /// default keeps no budgets.
    fn refund(&mut self, id: &EnvelopeId, copies: u32) -> Result<(), SyncStoreError> {
        let _ = (id, copies);
        Ok(())
    }
    /// [`SyncStore::refund`] for a chunk's copies ([`SyncStore::chunk_handover`]).
    fn refund_chunk(&mut self, id: &[u8; 32], copies: u32) -> Result<(), SyncStoreError> {
        let _ = (id, copies);
        Ok(())
    }
    /// This node's own unexpired envelopes (its messages not yet known
    /// delivered): a running session pushes those written after it began
    /// (`Session::take_news`). The default has none.
    fn own_items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(Vec::new())
    }
    /// The tags this node wants first (see [`Interests`]).
    fn interests(&mut self) -> Result<Interests, SyncStoreError>;
    /// The bytes of a held envelope, if it is still held.
    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError>;
    /// The bytes of a held attachment chunk, if still held. The default
    /// holds none (a store that offers no [`ItemKind::Chunk`] items).
    fn chunk(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        let _ = id;
        Ok(None)
    }
    /// The secret of a known proof, if still known.
    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError>;
    /// Whether an envelope id was already received and need not be asked for
    /// (delivered, opened or purged here, so no longer among the items).
    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError>;
    /// Whether to ask the peer for an item this session's set lacks: not
    /// [`SyncStore::seen`] and, for a node that runs several sessions at
    /// once, neither held by now nor already asked of another neighbour. A
    /// `true` answer reserves the item for the asking session until it
    /// arrives, [`SyncStore::unclaim`] frees it, or the node's own time
    /// limit passes, so that two neighbours offering the same item at once
    /// do not both send it. The default asks only `seen`.
    fn claim(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        Ok(!self.seen(&EnvelopeId(*id))?)
    }
    /// The link of the session that claimed these items broke: another
    /// session may ask for those that did not arrive.
    fn unclaim(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        let _ = ids;
        Ok(())
    }
    /// Commits received items durably, in one transaction. `origin` names the
    /// link for per-origin quotas. Returns one outcome per item, and the secrets
    /// of delivery proofs the sender should get at once (envelopes that opened
    /// here, or that arrived although their proof is known here), which the
    /// session sends straight back so carriers can drop their copies.
    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError>;
}

/// The reconciliation id of a delivery proof: distinct from every envelope id
/// and the same on every node that knows the proof.
pub fn proof_item_id(commitment: &Commitment) -> [u8; 32] {
    blake3::derive_key("pollen v1 proof item", commitment.as_bytes())
}
