//! Reconciliation inside a session: the set this side offers, the rounds,
//! and turning the differences into sends and wants.

use super::{FOR_PEER, PEER_GROUPS, SendItem, Transfer};
use crate::envelope::EnvelopeId;
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
        ItemKind::Proof { .. } | ItemKind::Chunk => 0,
        ItemKind::Envelope { .. } => item.expires_at,
    }
}

/// The first session version whose reconciliation opens with one
/// fingerprint of the whole set (`docs/PROTOCOL.md`, *Set reconciliation*).
const WHOLE_SET_VERSION: u8 = 4;

impl Transfer {
    pub(super) fn initiate(&mut self, stats: &mut SessionStats) -> Result<(), SessionError> {
        let (rec, first) = if self.version >= WHOLE_SET_VERSION {
            Reconciler::initiate(self.recon_items(), self.limits.recon)?
        } else {
            Reconciler::initiate_split(self.recon_items(), self.limits.recon)?
        };
        stats.recon_bytes += first.len() as u64;
        self.recon = Some(rec);
        self.control.push_back(Message::Recon(first));
        Ok(())
    }

    /// The set this side reconciles: everything held, or (a relay) only what
    /// the peer asked for in its Hello, so a client never learns of, or has
    /// to skip, the rest of the relay's mail.
    fn recon_items(&self) -> Vec<ReconItem> {
        self.local
            .values()
            .filter(|i| {
                self.offer != Offer::Interests || matches!(self.class_of(i), FOR_PEER | PEER_GROUPS)
            })
            .map(|i| ReconItem {
                timestamp: recon_timestamp(i),
                id: i.id,
            })
            .collect()
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
            let rec = Reconciler::respond_to(self.recon_items(), self.limits.recon)?;
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

    /// The initiator knows both differences: push what the peer lacks, ask
    /// for what this side lacks.
    fn finish_recon(&mut self, store: &mut dyn SyncStore) -> Result<(), SessionError> {
        let need: HashSet<[u8; 32]> = std::mem::take(&mut self.need).into_iter().collect();
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
            self.enqueue(SendItem::Local(id), store)?;
        }
        let mut wants = Vec::new();
        for id in need {
            if !store.seen(&EnvelopeId(id))? {
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
