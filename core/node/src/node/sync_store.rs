//! The node's storage as seen by a sync session.

use super::Node;
use super::ingest::{Batch, IngestOutcome, Rejection};
use crate::attachments::{ChunkOutcome, HeldChunk};
use crate::routing;
use crate::store::EnvelopeIndex;
use pollen_proto::chunk::BlobId;
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId, MAX_TTL_SECS, RoutingTag};
use pollen_proto::sync::encounter::EncounterSummary;
use pollen_proto::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, Received, SyncStore, SyncStoreError, Toward,
    WantedBlob, proof_item_id,
};

const DAY: u64 = 86_400;

fn err(e: impl std::fmt::Display) -> SyncStoreError {
    SyncStoreError(e.to_string())
}

impl Node {
    /// Whether the proof for `commitment` matched something held here, as
    /// the last `items` listed it (what [`routing::offers_proof`] decides
    /// on). A proof it did not list counts as matched, the side that spreads
    /// it: telling would cost a query.
    pub fn proof_matched(&self, commitment: &Commitment) -> bool {
        self.proof_ids
            .get(&commitment.0)
            .is_none_or(|&(_, matched)| matched)
    }
}

impl SyncStore for Node {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let now = self.now();
        self.store.release_proofs(now).map_err(err)?;
        let mut items: Vec<LocalItem> = self
            .store
            .envelope_index(now)
            .map_err(err)?
            .into_iter()
            .map(envelope_item)
            .collect();
        let proofs = self.store.proof_index(now).map_err(err)?;
        if self.proof_ids.len() > 2 * proofs.len() + 1024 {
            // Expired proofs leave the store; forget their ids too.
            self.proof_ids.clear();
        }
        items.extend(
            self.store
                .chunk_index(now)
                .map_err(err)?
                .into_iter()
                .map(chunk_item),
        );
        for (commitment, expires_at, matched) in proofs {
            let known = self
                .proof_ids
                .entry(commitment.0)
                .or_insert_with(|| (proof_item_id(&commitment), matched));
            // A proof dropped and learnt again may match this time.
            known.1 = matched;
            let id = known.0;
            items.push(LocalItem {
                id,
                expires_at,
                kind: ItemKind::Proof { commitment },
            });
        }
        Ok(items)
    }

    fn own_items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let now = self.now();
        Ok(self
            .store
            .own_envelope_index(now)
            .map_err(err)?
            .into_iter()
            .map(envelope_item)
            .collect())
    }

    fn items_matching(
        &mut self,
        wanted: &mut dyn FnMut(&RoutingTag) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        // Each distinct tag is tested once; only matching envelopes are read.
        let now = self.now();
        self.store.release_proofs(now).map_err(err)?;
        let mut out = Vec::new();
        for tag in self.store.envelope_tags(now).map_err(err)? {
            if !wanted(&tag) {
                continue;
            }
            for e in self.store.envelope_index_for_tag(&tag, now).map_err(err)? {
                out.push(envelope_item(e));
            }
        }
        Ok(out)
    }

    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        // Tags rotate daily by expiry, and an envelope in flight expires
        // within the longest TTL (plus a day of clock skew).
        let today = self.now() / DAY;
        let days: Vec<u64> = (today..=today + MAX_TTL_SECS / DAY + 1)
            .map(|d| d * DAY)
            .collect();
        let direct = days
            .iter()
            .map(|&t| (RoutingTag::day_of(t), RoutingTag::direct(&self.public, t)))
            .collect();
        let mut shared = Vec::new();
        for (key, _, _) in self.store.shared_keys().map_err(err)? {
            // A removed member's placeholder key opens nothing.
            if key.0 == [0u8; 32] {
                continue;
            }
            shared.extend(
                days.iter()
                    .map(|&t| (RoutingTag::day_of(t), RoutingTag::shared(&key, t))),
            );
        }
        Ok(Interests { direct, shared })
    }

    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.store.envelope_bytes(id).map_err(err)
    }

    fn chunk(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.store.chunk_bytes(id).map_err(err)
    }

    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        let now = self.now();
        self.store.proof_secret(commitment, now).map_err(err)
    }

    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        self.store.was_seen(id).map_err(err)
    }

    fn claim(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        // Another session may have brought it since this one listed its set.
        if self.store.holds_or_saw(id).map_err(err)? {
            return Ok(false);
        }
        let now = self.now();
        Ok(self.asked.claim(*id, now))
    }

    fn unclaim(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        self.asked.release(ids);
        Ok(())
    }

    fn offer_to(&mut self, item: &LocalItem, to: Toward) -> Result<bool, SyncStoreError> {
        match item.kind {
            ItemKind::Proof { commitment } => {
                Ok(routing::offers_proof(self.proof_matched(&commitment)))
            }
            // Chunks are sprayed like envelopes (a peer that wants the blob
            // is their recipient), without encounter routing: a carrier
            // cannot tell whose a chunk is.
            ItemKind::Chunk { .. } => {
                let copies = self.store.chunk_copies(&item.id).map_err(err)?;
                Ok(routing::offers(copies.unwrap_or(1), to.role))
            }
            // Mail for this node, held only while its proof waits, is in
            // every set as a carrier's copy: a peer holding it too finds no
            // difference and does not send it here again.
            ItemKind::Envelope { tag, .. }
                if tag == self.direct_tags.of(&self.public, item.expires_at) =>
            {
                Ok(true)
            }
            ItemKind::Envelope { tag, .. } => {
                let copies = self
                    .store
                    .listed_envelope_copies(&EnvelopeId(item.id))
                    .map_err(err)?
                    .unwrap_or(1);
                Ok(if self.encounter_routing {
                    let mine = self.encounters.predict(&tag, self.now());
                    routing::encounter::offers(copies, to, mine)
                } else {
                    routing::offers(copies, to.role)
                })
            }
        }
    }

    fn handover(
        &mut self,
        items: &[(EnvelopeId, Toward)],
    ) -> Result<Vec<Option<u32>>, SyncStoreError> {
        let encounter = self.encounter_routing;
        self.store
            .spend_without_waiting(|s| {
                let mut given = Vec::with_capacity(items.len());
                for (id, to) in items {
                    let Some(held) = s.envelope_copies(id)? else {
                        given.push(None);
                        continue;
                    };
                    let (kept, gives) = if encounter {
                        routing::encounter::split(held, *to)
                    } else {
                        routing::split(held, to.role)
                    };
                    if kept != held {
                        s.set_envelope_copies(id, kept)?;
                    }
                    given.push(Some(gives));
                }
                Ok(given)
            })
            .map_err(err)
    }

    fn refund(&mut self, id: &EnvelopeId, copies: u32) -> Result<(), SyncStoreError> {
        self.store.refund_envelope_copies(id, copies).map_err(err)
    }

    fn refund_chunk(&mut self, id: &[u8; 32], copies: u32) -> Result<(), SyncStoreError> {
        self.store.refund_chunk_copies(id, copies).map_err(err)
    }

    fn chunk_handover(&mut self, id: &[u8; 32], to: Toward) -> Result<Option<u32>, SyncStoreError> {
        let Some(held) = self.store.chunk_copies(id).map_err(err)? else {
            return Ok(None);
        };
        let (kept, given) = routing::split(held, to.role);
        if kept != held {
            self.store.spend_chunk_copies(id, kept).map_err(err)?;
        }
        Ok(Some(given))
    }

    fn wanted_blobs(&mut self, slow_link: bool) -> Result<Vec<WantedBlob>, SyncStoreError> {
        Ok(self
            .store
            .incomplete_wanted_blobs(slow_link)
            .map_err(err)?
            .into_iter()
            .map(|(blob, blob_len)| WantedBlob {
                blob: blob.0,
                blob_len,
            })
            .collect())
    }

    fn missing_chunks(&mut self, blob: &WantedBlob) -> Result<Vec<[u8; 32]>, SyncStoreError> {
        self.store
            .missing_chunk_ids(&BlobId(blob.blob), blob.blob_len)
            .map_err(err)
    }

    fn chunks_matching(
        &mut self,
        wanted: &mut dyn FnMut(&[u8; 32]) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        // Match the distinct blobs first: a relay may hold many chunks.
        let now = self.now();
        let mut out = Vec::new();
        for blob in self.store.held_blobs(now).map_err(err)? {
            if wanted(&blob.0) {
                let chunks = self.store.chunks_of_blob(&blob, now).map_err(err)?;
                out.extend(chunks.into_iter().map(chunk_item));
            }
        }
        Ok(out)
    }

    fn chunks_handed_over(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        let node: &Node = self;
        node.transaction(|s| Ok(s.note_chunks_given(ids)?))
            .map_err(err)
    }

    fn encounter_summary(&mut self) -> Result<Option<EncounterSummary>, SyncStoreError> {
        Ok(self
            .encounter_routing
            .then(|| self.encounters.summary(&self.public, self.now())))
    }

    fn met(&mut self, summary: &EncounterSummary) -> Result<(), SyncStoreError> {
        if self.encounter_routing {
            let now = self.now();
            self.encounters.meet(summary, now);
        }
        Ok(())
    }

    fn handed_over(&mut self, ids: &[EnvelopeId]) -> Result<(), SyncStoreError> {
        let node: &Node = self;
        node.transaction(|_| {
            for (conversation, message) in node.store.note_carried(ids)? {
                node.events.raise(super::NodeEvent::Carried {
                    conversation,
                    message,
                });
            }
            Ok::<_, super::NodeError>(())
        })
        .map_err(err)
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        let node: &Node = self;
        node.transaction(|_| {
            let mut batch = Batch::new(node)?;
            let mut results = Vec::with_capacity(items.len());
            let mut proofs = Vec::new();
            for item in items {
                let r = match item {
                    Incoming::Envelope(_) | Incoming::Copy { .. } => {
                        let copies = match item {
                            Incoming::Copy { copies, .. } => *copies,
                            _ => 1,
                        };
                        let bytes = item.envelope().unwrap_or_default();
                        let outcome = batch.ingest_copy(bytes, None, origin, copies)?;
                        received(outcome, origin, &mut proofs)
                    }
                    Incoming::Chunk(_) | Incoming::ChunkCopy { .. } => {
                        let (bytes, copies) = item.chunk().unwrap_or_default();
                        let now = node.now();
                        match node.store.receive_chunk(
                            bytes,
                            copies,
                            origin,
                            now,
                            &node.chunk_limits,
                        )? {
                            Ok(ChunkOutcome::Stored { .. }) => Received::Carried,
                            Ok(ChunkOutcome::Duplicate) => Received::Duplicate,
                            Err(rejection) => {
                                tracing::debug!(%origin, reason = %rejection, "chunk refused");
                                Received::Rejected(rejection.reason())
                            }
                        }
                    }
                    Incoming::Proof(secret) => {
                        let o = batch.ingest_proof(*secret)?;
                        if o.new {
                            Received::Proof {
                                purged: o.purged,
                                delivered: o.delivered,
                            }
                        } else {
                            Received::ProofKnown
                        }
                    }
                };
                results.push(r);
            }
            batch.flush()?;
            Ok::<_, super::NodeError>((results, proofs))
        })
        .map_err(err)
    }
}

/// What a session offers of a held envelope.
fn envelope_item(e: EnvelopeIndex) -> LocalItem {
    LocalItem {
        id: e.id.0,
        expires_at: e.expires_at,
        kind: ItemKind::Envelope {
            tag: e.tag,
            commitment: e.commitment,
        },
    }
}

/// What a session offers of a held chunk.
fn chunk_item(c: HeldChunk) -> LocalItem {
    LocalItem {
        id: c.id,
        expires_at: c.expires_at,
        kind: ItemKind::Chunk {
            blob: c.blob.0,
            given: c.given,
        },
    }
}

/// What a session is told about one envelope; proofs to send back go to
/// `proofs`.
fn received(
    outcome: Result<IngestOutcome, Rejection>,
    origin: &str,
    proofs: &mut Vec<DeliveryProof>,
) -> Received {
    match outcome {
        Ok(IngestOutcome::Opened { proof, .. }) => {
            proofs.extend(proof);
            Received::Opened
        }
        Ok(IngestOutcome::Carried) => Received::Carried,
        Ok(IngestOutcome::Duplicate) => Received::Duplicate,
        Ok(IngestOutcome::AlreadyDelivered { proof }) => {
            // The sender still carries it: send the proof back.
            proofs.extend(proof);
            Received::Duplicate
        }
        Err(rejection) => {
            tracing::debug!(%origin, reason = %rejection, "envelope refused");
            Received::Rejected(rejection.reason())
        }
    }
}

impl Node {
    /// A number that changes whenever another process committed a write to
    /// this node's database (SQLite's `data_version`).
    pub fn data_version(&mut self) -> u64 {
        self.store.data_version().unwrap_or(0)
    }
}
