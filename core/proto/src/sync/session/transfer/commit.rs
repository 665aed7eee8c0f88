//! The receiving side of a transfer: received items batched into store
//! commits, acknowledged, and answered with delivery proofs.

use super::{SendItem, Transfer, WANTED_VERSION};
use crate::chunk::companion::MAX_CHUNK_WIRE_BYTES;
use crate::sync::message::Message;
use crate::sync::session::{Offer, SessionError, SessionEvent, SessionStats};
use crate::sync::store::{Incoming, Received, SyncStore};

impl Transfer {
    pub(super) fn receive(
        &mut self,
        cost: u64,
        item: Incoming,
        now_ms: u64,
    ) -> Result<(), SessionError> {
        self.pending_bytes += cost;
        self.pending.push(item);
        // One item may always be in flight whatever its size (an envelope or
        // the larger chunk), so a small window cannot wedge the link.
        if self.pending_bytes > self.window as u64 + MAX_CHUNK_WIRE_BYTES as u64 {
            return Err(SessionError::WindowExceeded(self.window));
        }
        self.commit_at
            .get_or_insert(now_ms + self.limits.commit_delay_ms);
        Ok(())
    }

    /// Received items to commit right away (a full batch, half the window,
    /// a chunk, or the peer is done). A chunk is committed and acknowledged
    /// at once: it is large, so the cost is small beside its transfer, and
    /// its sender learns what this side holds before a cut link could hide it.
    pub(in crate::sync::session) fn commit_now(&self, now_ms: u64) -> bool {
        !self.pending.is_empty()
            && (self.pending.len() >= self.limits.commit_batch
                || self.pending.last().is_some_and(|i| i.chunk().is_some())
                || self.pending_bytes >= self.window as u64 / 2
                || self.peer_done
                || self.commit_due(now_ms))
    }

    /// The commit delay of a partial batch has passed.
    pub(in crate::sync::session) fn commit_due(&self, now_ms: u64) -> bool {
        self.commit_at.is_some_and(|t| now_ms >= t)
    }

    /// When a partial batch must be committed.
    pub(in crate::sync::session) fn commit_deadline(&self) -> Option<u64> {
        self.commit_at
    }

    /// Whether received items await a commit.
    pub(in crate::sync::session) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Commits received items and acknowledges them; queues the delivery
    /// proofs of envelopes that opened here, for the peer to purge its copies.
    pub(in crate::sync::session) fn commit(
        &mut self,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<Option<SessionEvent>, SessionError> {
        if self.pending.is_empty() {
            self.commit_at = None;
            return Ok(None);
        }
        let items = std::mem::take(&mut self.pending);
        let (results, proofs) = store.ingest(&items, &self.origin)?;
        let (mut opened, mut delivered) = (0, 0);
        for r in results {
            match r {
                Received::Opened => {
                    opened += 1;
                    stats.opened += 1;
                }
                Received::Carried => stats.carried += 1,
                Received::Duplicate | Received::ProofKnown => stats.duplicates += 1,
                Received::Rejected(reason) => *stats.rejected.entry(reason).or_default() += 1,
                Received::Proof {
                    purged,
                    delivered: d,
                } => {
                    stats.new_proofs += 1;
                    stats.purged += purged as u64;
                    if d {
                        delivered += 1;
                        stats.delivered += 1;
                    }
                }
            }
        }
        if opened > 0 && self.version >= WANTED_VERSION && self.offer != Offer::Interests {
            // A message that opened may bring an attachment this side now
            // fetches: ask for its chunks before the peer can call it done.
            let wanted = store.wanted_blobs(self.slow_link)?;
            self.announce(&wanted, true, store)?;
        }
        self.control.push_back(Message::Ack(items.len() as u32));
        for secret in proofs {
            self.enqueue(SendItem::Fresh(secret.0), store)?;
        }
        self.pending_bytes = 0;
        self.commit_at = None;
        Ok((opened > 0 || delivered > 0).then_some(SessionEvent::Committed { opened, delivered }))
    }
}
