//! One side of a reconciliation: the negentropy engine over the local set,
//! behind the caps that bound what the peer can make it do.

use super::wire::{FINGERPRINT_SIZE, validate};
use super::{MIN_MESSAGE, PROTOCOL_VERSION, ReconError, ReconItem, ReconLimits, ReconStep};
use negentropy::{Id, Negentropy, NegentropyStorageBase, NegentropyStorageVector};
use std::collections::HashSet;

/// The initiator's first message: version, one range ending at infinity
/// (timestamp 0, no id prefix), fingerprint mode, the whole set's
/// fingerprint. A valid negentropy v1 message of 20 bytes: a peer holding
/// the same set answers the lone version byte; one that differs either
/// splits the range (as negentropy would) or answers the same message with
/// its own fingerprint, which negentropy on the initiator splits exactly as
/// its own opening would have (see `lists_on_odd_split`).
pub(super) fn whole_set_message(fingerprint: &[u8; FINGERPRINT_SIZE]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(4 + FINGERPRINT_SIZE);
    msg.extend_from_slice(&[PROTOCOL_VERSION, 0x00, 0x00, 0x01]);
    msg.extend_from_slice(fingerprint);
    msg
}

/// Whether a set of `len` items reaches ranges under 32 items (which are
/// listed) on the 1st, 3rd, 5th… split of 16. The side that lists a range
/// should be the responder: it lists once and the initiator learns; when
/// the initiator lists, the responder lists the range back a round later.
/// The responder to a whole-set opening splits first when this holds, else
/// hands the first split back to the initiator.
fn lists_on_odd_split(len: usize) -> bool {
    let (mut range, mut split) = (len, 1u32);
    while range >= 32 {
        range = range.div_ceil(16);
        split += 1;
    }
    split % 2 == 1
}

/// True for a message shaped like [`whole_set_message`]. Negentropy's own
/// opening never is: it lists a set under 32 items and splits a larger one
/// into 16 ranges.
fn is_whole_set_message(msg: &[u8]) -> bool {
    msg.len() == 4 + FINGERPRINT_SIZE && msg[..4] == [PROTOCOL_VERSION, 0x00, 0x00, 0x01]
}

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
    /// The fingerprint of the whole local set.
    whole: [u8; FINGERPRINT_SIZE],
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
    /// Initiator side: returns the first message to send, one range over
    /// the whole set in fingerprint mode (see [`whole_set_message`]). Only a
    /// version-4 responder answers it in one byte when the sets match;
    /// towards older peers use [`Reconciler::initiate_split`].
    pub fn initiate(
        items: Vec<ReconItem>,
        limits: ReconLimits,
    ) -> Result<(Self, Vec<u8>), ReconError> {
        let mut this = Self::build(items, limits, true)?;
        // Negentropy keeps no state between rounds but the initiator flag, so
        // the crafted first message stands in for its own `initiate()`.
        this.engine.set_initiator();
        let first = whole_set_message(&this.whole);
        this.check_outgoing(&first)?;
        Ok((this, first))
    }

    /// Initiator side, negentropy's own first message: the set split into
    /// 16 fingerprinted ranges (or listed, under 32 items).
    pub fn initiate_split(
        items: Vec<ReconItem>,
        limits: ReconLimits,
    ) -> Result<(Self, Vec<u8>), ReconError> {
        let mut this = Self::build(items, limits, true)?;
        let first = this.engine.initiate()?;
        this.check_outgoing(&first)?;
        Ok((this, first))
    }

    /// Responder side: waits for the initiator's first message.
    pub fn respond_to(items: Vec<ReconItem>, limits: ReconLimits) -> Result<Self, ReconError> {
        Self::build(items, limits, false)
    }

    fn build(
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
        let whole = storage.fingerprint(0, len)?.to_bytes();
        let frame = u64::try_from(limits.max_message).unwrap_or(u64::MAX);
        Ok(Self {
            engine: Negentropy::owned(storage, frame)?,
            limits,
            initiator,
            len,
            state: State::Open,
            rounds: 0,
            learned: HashSet::new(),
            whole,
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
        if !self.initiator && self.rounds == 1 && is_whole_set_message(msg) {
            if msg[4..] == self.whole {
                self.state = State::Done;
                return Ok(ReconStep {
                    reply: Some(vec![PROTOCOL_VERSION]),
                    ..ReconStep::default()
                });
            }
            if !lists_on_odd_split(self.len) {
                // Let the initiator split first, as in negentropy's own
                // opening, so that the id lists come from this side.
                return Ok(ReconStep {
                    reply: Some(whole_set_message(&self.whole)),
                    ..ReconStep::default()
                });
            }
            // Otherwise negentropy splits the range here, below.
        }
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
