//! The sending side of a transfer: the next message from the control
//! queue or the priority queue, within the peer's window, with the copy
//! budget that goes with it.

use super::{COPY_VERSION, Handed, PROOF_COST, Ready, SendItem, Transfer, WANTED_VERSION};
use crate::envelope::EnvelopeId;
use crate::sync::message::Message;
use crate::sync::session::{Offer, SessionError, SessionStats};
use crate::sync::store::{ItemKind, SyncStore, Toward};
use std::cmp::Reverse;

impl Transfer {
    /// The next message to send: control first, then items as the peer's
    /// window allows, then `Done` once everything is settled.
    pub(in crate::sync::session) fn next_message(
        &mut self,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<Option<Message>, SessionError> {
        if !self.started {
            return Ok(None);
        }
        if let Some(msg) = self.control.pop_front() {
            self.last_sent_done = false;
            return Ok(Some(msg));
        }
        if self.peer_hello {
            if self.ready.is_empty() {
                self.load_next(store)?;
            }
            if let Some((_, cost, _)) = self.ready.front()
                && (self.in_flight.is_empty() || self.in_flight_bytes + cost <= self.peer_window)
                && let Some((msg, cost, envelope)) = self.ready.pop_front()
            {
                match msg {
                    Message::Proof(_) => stats.proofs_sent += 1,
                    Message::Chunk(_) | Message::ChunkCopy { .. } => stats.chunks_sent += 1,
                    _ => stats.envelopes_sent += 1,
                }
                self.in_flight.push_back((cost, envelope));
                self.in_flight_bytes += cost;
                self.last_sent_done = false;
                return Ok(Some(msg));
            }
        }
        if self.idle() && !self.last_sent_done {
            self.last_sent_done = true;
            return Ok(Some(Message::Done));
        }
        Ok(None)
    }

    /// Pops queued items still held here into `ready`: as many as the
    /// peer's window has room for now, and at least one. The copy budgets
    /// of the envelopes among them are spent in one [`SyncStore::handover`]:
    /// one store write for a window's worth instead of one per envelope.
    /// The price: an item loaded early still goes if a proof that arrives
    /// before it is sent makes it needless, as a sent one would have.
    fn load_next(&mut self, store: &mut dyn SyncStore) -> Result<(), SessionError> {
        let room = self.peer_window.saturating_sub(self.in_flight_bytes);
        let mut loaded = 0u64;
        // Loaded envelopes whose budget is still to be spent: their place
        // in `ready`, and whom each goes to.
        let mut spends: Vec<(usize, EnvelopeId, Toward)> = Vec::new();
        while self.ready.is_empty() || loaded < room {
            let Some(Reverse((_, _, _, item))) = self.queue.pop() else {
                break;
            };
            let ready = match item {
                SendItem::Fresh(secret) => (Message::Proof(secret), PROOF_COST, None),
                SendItem::Local(id) => {
                    let Some(local) = self.local.get(&id) else {
                        continue;
                    };
                    let Some(ready) = self.load_local(store, id, local.kind, &mut spends)? else {
                        continue;
                    };
                    ready
                }
            };
            loaded += ready.1;
            self.ready.push_back(ready);
        }
        if spends.is_empty() {
            return Ok(());
        }
        let asked: Vec<(EnvelopeId, Toward)> = spends.iter().map(|&(_, id, to)| (id, to)).collect();
        let budgets = store.handover(&asked)?;
        for ((at, id, _), budget) in spends.into_iter().zip(budgets) {
            let Some(copies) = budget else {
                continue;
            };
            if let Some((msg, _, handed)) = self.ready.get_mut(at)
                && let Message::Envelope(bytes) = msg
            {
                let envelope = std::mem::take(bytes);
                *msg = Message::Copy {
                    copies: copies.max(1),
                    envelope,
                };
                *handed = Some(Handed::Envelope(id.0, Some(copies)));
            }
        }
        Ok(())
    }

    /// One local item's message, if it is still held here; an envelope whose
    /// budget is to be spent joins `spends` (at the place it will take in
    /// `ready`) and goes as a plain `Envelope` until the spend says more.
    fn load_local(
        &self,
        store: &mut dyn SyncStore,
        id: [u8; 32],
        kind: ItemKind,
        spends: &mut Vec<(usize, EnvelopeId, Toward)>,
    ) -> Result<Option<Ready>, SessionError> {
        let routed = self.offer == Offer::Routed;
        Ok(match kind {
            ItemKind::Envelope { .. } => {
                let Some(bytes) = store.envelope(&EnvelopeId(id))? else {
                    return Ok(None);
                };
                // Budgets are spent between neighbours only: a relay hands
                // everything to whoever asks.
                if self.version >= COPY_VERSION && routed {
                    let to = self.toward(&self.local[&id]);
                    spends.push((self.ready.len(), EnvelopeId(id), to));
                }
                let cost = bytes.len() as u64;
                Some((
                    Message::Envelope(bytes),
                    cost,
                    Some(Handed::Envelope(id, None)),
                ))
            }
            ItemKind::Proof { commitment } => store
                .proof(&commitment)?
                .map(|secret| (Message::Proof(secret.0), PROOF_COST, None)),
            ItemKind::Chunk { .. } => {
                let Some(bytes) = store.chunk(&id)? else {
                    return Ok(None);
                };
                let cost = bytes.len() as u64;
                let budget = if self.version >= WANTED_VERSION && routed {
                    store.chunk_handover(&id, self.toward(&self.local[&id]))?
                } else {
                    None
                };
                let msg = match budget {
                    Some(copies) => Message::ChunkCopy {
                        copies: copies.max(1),
                        chunk: bytes,
                    },
                    None => Message::Chunk(bytes),
                };
                Some((msg, cost, Some(Handed::Chunk(id, budget))))
            }
        })
    }

    /// The link went: the copies that went with what the peer did not
    /// acknowledge, or that waited for room, come back to the store.
    pub(in crate::sync::session) fn refund_unacked(
        &mut self,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        let waiting: Vec<Handed> = self.ready.drain(..).filter_map(|(_, _, h)| h).collect();
        let unacked: Vec<Handed> = self.in_flight.drain(..).filter_map(|(_, h)| h).collect();
        self.in_flight_bytes = 0;
        for handed in unacked.into_iter().chain(waiting) {
            match handed {
                Handed::Envelope(id, Some(copies)) => store.refund(&EnvelopeId(id), copies)?,
                Handed::Chunk(id, Some(copies)) => store.refund_chunk(&id, copies)?,
                Handed::Envelope(_, None) | Handed::Chunk(_, None) => {}
            }
        }
        Ok(())
    }
}
