//! Reconciliation inside a session: the set this side offers, the rounds,
//! and turning the differences into sends and wants.

use super::{FOR_PEER, PEER_GROUPS, SendItem, Transfer, WANTED_CHUNKS};
use crate::sync::message::{MAX_WANT_IDS, Message};
use crate::sync::recon::{ReconItem, Reconciler};
use crate::sync::session::{Offer, SessionError, SessionStats};
use crate::sync::store::{ItemKind, LocalItem, SyncStore, proof_item_id};
use std::collections::HashSet;

/// An item's reconciliation timestamp. Every holder of an envelope has the
/// same expiry (it is in the header), but a proof's expiry is each node's
/// own (a node that learns one without its envelope keeps it a default
/// time), so proofs reconcile at 0: otherwise two holders of one proof
/// disagree on its item and exchange it again at every encounter.
fn recon_timestamp(item: &LocalItem) -> u64 {
    match item.kind {
        // A chunk's expiry is not authenticated: holders may disagree.
        ItemKind::Proof { .. } | ItemKind::Chunk { .. } => 0,
        ItemKind::Envelope { .. } => item.expires_at,
    }
}

/// The first session version whose reconciliation opens with one
/// fingerprint of the whole set (`docs/PROTOCOL.md`, *Set reconciliation*),
/// and whose routed sessions reconcile only what each side offers the peer,
/// the initiator offering ids rather than pushing envelopes.
const WHOLE_SET_VERSION: u8 = 4;

impl Transfer {
    pub(super) fn initiate(
        &mut self,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        let items = self.recon_items(store)?;
        let (rec, first) = if self.version >= WHOLE_SET_VERSION {
            Reconciler::initiate(items, self.limits.recon)?
        } else {
            Reconciler::initiate_split(items, self.limits.recon)?
        };
        stats.recon_bytes += first.len() as u64;
        self.recon = Some(rec);
        self.control.push_back(Message::Recon(first));
        Ok(())
    }

    /// A routed session of version 4 or later: each side reconciles only
    /// what its policy offers this peer, and the initiator offers ids.
    pub(super) fn offers_only(&self) -> bool {
        self.offer == Offer::Routed && self.version >= WHOLE_SET_VERSION
    }

    /// The set this side reconciles: everything held; or (a relay) only what
    /// the peer asked for in its Hello, so a client never learns of, or has
    /// to skip, the rest of the relay's mail; or (routed, version 4) only
    /// what the policy would send this peer, so that a copy held back from
    /// it is not found different at every encounter.
    fn recon_items(&self, store: &mut dyn SyncStore) -> Result<Vec<ReconItem>, SessionError> {
        let mut items = Vec::with_capacity(self.local.len());
        for i in self.local.values() {
            let class = self.class_of(i);
            let keep = match self.offer {
                Offer::Interests => matches!(class, FOR_PEER | PEER_GROUPS | WANTED_CHUNKS),
                _ if self.offers_only() => store.offer_to(i, self.toward(i))?,
                _ => true,
            };
            if keep {
                items.push(ReconItem {
                    timestamp: recon_timestamp(i),
                    id: i.id,
                });
            }
        }
        Ok(items)
    }

    /// Whether to ask the peer for `id`: not in this side's set, and the
    /// store lets this session have it ([`SyncStore::claim`]). Claimed ids
    /// are remembered so that the session's end frees them.
    fn claim(&mut self, id: &[u8; 32], store: &mut dyn SyncStore) -> Result<bool, SessionError> {
        if self.local.contains_key(id) || !store.claim(id)? {
            return Ok(false);
        }
        self.claimed.push(*id);
        Ok(true)
    }

    /// The session finished or its link broke: the items it asked for and
    /// did not get may be asked of another neighbour.
    pub(in crate::sync::session) fn unclaim(
        &mut self,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        let ids = std::mem::take(&mut self.claimed);
        if !ids.is_empty() {
            store.unclaim(&ids)?;
        }
        Ok(())
    }

    /// The responder's answer to an Offer: a Want for the ids it neither
    /// holds nor has seen, so that nothing it holds is sent to it.
    pub(super) fn on_offer(
        &mut self,
        last: bool,
        ids: Vec<[u8; 32]>,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        if self.version < WHOLE_SET_VERSION {
            return Err(SessionError::Protocol(
                "offer in a session before version 4",
            ));
        }
        if self.initiator || self.recon_done {
            return Err(SessionError::Protocol("unexpected offer"));
        }
        let mut wants = Vec::new();
        for id in ids {
            if self.claim(&id, store)? {
                wants.push(id);
            }
        }
        self.control.push_back(Message::Want { last, ids: wants });
        Ok(())
    }

    pub(super) fn on_recon(
        &mut self,
        bytes: &[u8],
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        stats.recon_bytes += bytes.len() as u64;
        if self.recon_done {
            return Err(SessionError::Protocol("reconciliation after it ended"));
        }
        if self.recon.is_none() {
            if self.initiator {
                return Err(SessionError::Protocol(
                    "reconciliation reply before it started",
                ));
            }
            let rec = Reconciler::respond_to(self.recon_items(store)?, self.limits.recon)?;
            self.recon = Some(rec);
        }
        let Some(rec) = self.recon.as_mut() else {
            return Ok(());
        };
        let step = rec.receive(bytes)?;
        stats.recon_rounds = rec.rounds();
        self.have.extend(step.have);
        self.need.extend(step.need);
        match step.reply {
            Some(reply) => {
                stats.recon_bytes += reply.len() as u64;
                self.control.push_back(Message::Recon(reply));
            }
            None if self.initiator => self.finish_recon(store)?,
            None => {}
        }
        Ok(())
    }

    /// The initiator knows both differences: push (or, routed from version
    /// 4, offer) what the peer lacks, ask for what this side lacks.
    fn finish_recon(&mut self, store: &mut dyn SyncStore) -> Result<(), SessionError> {
        let need: HashSet<[u8; 32]> = std::mem::take(&mut self.need).into_iter().collect();
        let mut offers = Vec::new();
        for id in std::mem::take(&mut self.have) {
            let Some(item) = self.local.get(&id) else {
                continue;
            };
            // The peer knows this envelope was delivered: sending it is waste.
            if let ItemKind::Envelope { commitment, .. } = item.kind
                && need.contains(&proof_item_id(&commitment))
            {
                continue;
            }
            if self.offers_only() && self.class_of(item) != FOR_PEER {
                // The peer left out what it holds but would not send this
                // side: it may hold this one, so it says what it wants. Mail
                // for the peer goes at once, as before: a recipient that
                // holds it has opened it, and its proof (in its set) stopped
                // the push above.
                offers.push(id);
            } else {
                self.enqueue(SendItem::Local(id), store)?;
            }
        }
        offers.sort_unstable();
        let mut chunks = offers.chunks(MAX_WANT_IDS).peekable();
        while let Some(chunk) = chunks.next() {
            self.control.push_back(Message::Offer {
                last: chunks.peek().is_none(),
                ids: chunk.to_vec(),
            });
        }
        self.awaiting_wants = !offers.is_empty();
        let mut wants = Vec::new();
        for id in need {
            // Left out of this side's set need not mean missing here.
            if self.claim(&id, store)? {
                wants.push(id);
            }
        }
        wants.sort_unstable();
        let mut chunks = wants.chunks(MAX_WANT_IDS).peekable();
        if chunks.peek().is_none() {
            self.control.push_back(Message::Want {
                last: true,
                ids: Vec::new(),
            });
        }
        while let Some(chunk) = chunks.next() {
            self.control.push_back(Message::Want {
                last: chunks.peek().is_none(),
                ids: chunk.to_vec(),
            });
        }
        self.recon_done = true;
        Ok(())
    }
}
