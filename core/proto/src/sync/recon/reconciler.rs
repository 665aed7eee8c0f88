//! One side of a reconciliation: the negentropy engine over the local set,
//! behind the caps that bound what the peer can make it do.

use super::wire::validate;
use super::{MIN_MESSAGE, ReconError, ReconItem, ReconLimits, ReconStep};
use negentropy::{Id, Negentropy, NegentropyStorageBase, NegentropyStorageVector};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Done,
    Failed,
}

/// One side of a reconciliation, sans-IO: bytes in, bytes and ids out.
///
/// The initiator learns the differences; the responder only answers. The
/// initiator knows it is done when [`ReconStep::reply`] is `None`. The
/// responder is done once its reply carried no ranges (the sets matched
/// everywhere still open); otherwise it cannot tell the last round from the
/// others, and the session learns the end from the initiator's next message.
pub struct Reconciler {
    engine: Negentropy<'static, NegentropyStorageVector>,
    limits: ReconLimits,
    initiator: bool,
    len: usize,
    state: State,
    rounds: u32,
    /// Every id reported so far (initiator only), to report each once.
    learned: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for Reconciler {
    // The engine holds the whole set: print the state, not the items.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("initiator", &self.initiator)
            .field("len", &self.len)
            .field("state", &self.state)
            .field("rounds", &self.rounds)
            .field("learned", &self.learned.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Reconciler {
    /// Initiator side: returns the first message to send.
    pub fn initiate(
        items: Vec<ReconItem>,
        limits: ReconLimits,
    ) -> Result<(Self, Vec<u8>), ReconError> {
        let mut this = Self::new(items, limits, true)?;
        let first = this.engine.initiate()?;
        this.check_outgoing(&first)?;
        Ok((this, first))
    }

    /// Responder side: waits for the initiator's first message.
    pub fn respond_to(items: Vec<ReconItem>, limits: ReconLimits) -> Result<Self, ReconError> {
        Self::new(items, limits, false)
    }

    fn new(
        items: Vec<ReconItem>,
        limits: ReconLimits,
        initiator: bool,
    ) -> Result<Self, ReconError> {
        if limits.max_message < MIN_MESSAGE {
            return Err(ReconError::CapTooSmall(limits.max_message));
        }
        if items.len() > limits.max_items {
            return Err(ReconError::TooManyItems {
                len: items.len(),
                max: limits.max_items,
            });
        }
        let mut storage = NegentropyStorageVector::with_capacity(items.len());
        for item in items {
            // u64::MAX is negentropy's "end of the range" bound: an item there
            // would fall outside every range. Both sides clamp alike, so the
            // item still matches its peer copy.
            let timestamp = item.timestamp.min(u64::MAX - 1);
            storage.insert(timestamp, Id::from_byte_array(item.id))?;
        }
        // Sorts by (timestamp, id) and drops duplicates, as the protocol needs.
        storage.seal()?;
        let len = storage.size()?;
        let frame = u64::try_from(limits.max_message).unwrap_or(u64::MAX);
        Ok(Self {
            engine: Negentropy::owned(storage, frame)?,
            limits,
            initiator,
            len,
            state: State::Open,
            rounds: 0,
            learned: HashSet::new(),
        })
    }

    /// Feeds one message from the peer. Returns what to send back and, on the
    /// initiator, the ids learned in this step. An error closes the
    /// reconciler; ids reported by earlier steps stay valid.
    pub fn receive(&mut self, msg: &[u8]) -> Result<ReconStep, ReconError> {
        if self.state != State::Open {
            return Err(ReconError::Closed);
        }
        let result = self.step(msg);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step(&mut self, msg: &[u8]) -> Result<ReconStep, ReconError> {
        if self.rounds >= self.limits.max_rounds {
            return Err(ReconError::TooManyRounds(self.rounds));
        }
        self.rounds += 1;
        if msg.len() > self.limits.max_message {
            return Err(ReconError::MessageTooLarge {
                len: msg.len(),
                max: self.limits.max_message,
            });
        }
        validate(msg)?;
        if !self.initiator {
            let reply = self.engine.reconcile(msg)?;
            self.check_outgoing(&reply)?;
            if reply.len() == 1 {
                self.state = State::Done;
            }
            return Ok(ReconStep {
                reply: Some(reply),
                ..ReconStep::default()
            });
        }
        let mut have = Vec::new();
        let mut need = Vec::new();
        let reply = self.engine.reconcile_with_ids(msg, &mut have, &mut need)?;
        let have = self.first_seen(have)?;
        let need = self.first_seen(need)?;
        match &reply {
            None => self.state = State::Done,
            Some(reply) => {
                self.check_outgoing(reply)?;
                // Sending this reply would open a round the peer may not use.
                if self.rounds >= self.limits.max_rounds {
                    return Err(ReconError::TooManyRounds(self.rounds));
                }
            }
        }
        Ok(ReconStep { reply, have, need })
    }

    /// Keeps the ids not reported before, counting them against the cap.
    // After an initiator message is cut at the frame limit, negentropy 0.5.3
    // fingerprints the rest of the set from the last range it wrote, which
    // can precede id-list ranges it already settled silently; the peer then
    // lists those ranges again and the same ids come back in a later round.
    fn first_seen(&mut self, ids: Vec<Id>) -> Result<Vec<[u8; 32]>, ReconError> {
        let mut fresh = Vec::with_capacity(ids.len());
        for id in ids {
            if self.learned.insert(id.to_bytes()) {
                if self.learned.len() > self.limits.max_ids_learned {
                    return Err(ReconError::TooManyIds(self.limits.max_ids_learned));
                }
                fresh.push(id.to_bytes());
            }
        }
        Ok(fresh)
    }

    // Negentropy keeps its output under the frame limit; checking costs
    // nothing and turns a broken promise into an error rather than an
    // oversized message.
    fn check_outgoing(&self, msg: &[u8]) -> Result<(), ReconError> {
        if msg.len() > self.limits.max_message {
            return Err(ReconError::MessageTooLarge {
                len: msg.len(),
                max: self.limits.max_message,
            });
        }
        Ok(())
    }

    /// True once reconciliation finished (see the type's docs for the
    /// responder).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Peer messages processed so far; on the initiator, round trips.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Items in the local set after deduplication.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the local set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
