//! The sending side of a transfer: the next message from the control
//! queue or the priority queue, within the peer's window, with the copy
//! budget that goes with it.

use super::{COPY_VERSION, Handed, PROOF_COST, Ready, SendItem, Transfer, WANTED_VERSION};
use crate::envelope::EnvelopeId;
use crate::sync::message::Message;
use crate::sync::session::{Offer, SessionError, SessionStats};
use crate::sync::store::{ItemKind, SyncStore};
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
            if self.ready.is_none() {
                self.ready = self.load_next(store)?;
            }
            if let Some((_, cost, _)) = &self.ready
                && (self.in_flight.is_empty() || self.in_flight_bytes + cost <= self.peer_window)
                && let Some((msg, cost, envelope)) = self.ready.take()
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

    /// Pops queued items until one is still held here.
    fn load_next(&mut self, store: &mut dyn SyncStore) -> Result<Option<Ready>, SessionError> {
        while let Some(Reverse((_, _, _, item))) = self.queue.pop() {
            match item {
                SendItem::Fresh(secret) => {
                    return Ok(Some((Message::Proof(secret), PROOF_COST, None)));
                }
                SendItem::Local(id) => {
                    let Some(local) = self.local.get(&id) else {
                        continue;
                    };
                    match local.kind {
                        ItemKind::Envelope { .. } => {
                            if let Some(bytes) = store.envelope(&EnvelopeId(id))? {
                                let cost = bytes.len() as u64;
                                let to = self.toward(local);
                                // Budgets are spent between neighbours only: a
                                // relay hands everything to whoever asks.
                                let budget = if self.version >= COPY_VERSION
                                    && self.offer == Offer::Routed
                                {
                                    store.handover(&EnvelopeId(id), to)?
                                } else {
                                    None
                                };
                                let msg = match budget {
                                    Some(copies) => Message::Copy {
                                        copies: copies.max(1),
                                        envelope: bytes,
                                    },
                                    None => Message::Envelope(bytes),
                                };
                                return Ok(Some((msg, cost, Some(Handed::Envelope(id, budget)))));
                            }
                        }
                        ItemKind::Proof { commitment } => {
                            if let Some(secret) = store.proof(&commitment)? {
                                return Ok(Some((Message::Proof(secret.0), PROOF_COST, None)));
                            }
                        }
                        ItemKind::Chunk { .. } => {
                            if let Some(bytes) = store.chunk(&id)? {
                                let cost = bytes.len() as u64;
                                let to = self.toward(local);
                                let budget = if self.version >= WANTED_VERSION
                                    && self.offer == Offer::Routed
                                {
                                    store.chunk_handover(&id, to)?
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
                                return Ok(Some((msg, cost, Some(Handed::Chunk(id, budget)))));
                            }
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// The link went: the copies that went with what the peer did not
    /// acknowledge, or that waited for room, come back to the store.
    pub(in crate::sync::session) fn refund_unacked(
        &mut self,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        let waiting = self.ready.take().and_then(|(_, _, handed)| handed);
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
