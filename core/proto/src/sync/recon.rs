//! Range-based set reconciliation over envelope ids.
//!
//! Two neighbours find which envelopes one holds and the other lacks with the
//! negentropy protocol (version 1, the `negentropy` crate): the initiator
//! splits the sorted set into ranges and sends their fingerprints, the peer
//! answers with finer fingerprints or id lists where its own ranges differ, and
//! so on until every range either matches or has been listed. Items are
//! `(expiry, envelope id)`; expiries are the same on every holder and recent
//! envelopes expire last, so fresh differences sit at the end of the range.
//!
//! Messages are negentropy's own, unchanged (see `docs/PROTOCOL.md`, "Set
//! reconciliation"): they start with negentropy's version byte `0x61`.
//! Negentropy refuses frame limits under [`MIN_MESSAGE`] (4096) bytes, so that
//! is the smallest message cap; the session fragments messages over link
//! records, which may be much smaller.
//!
//! Nothing here trusts the peer: every message is checked against the cap and
//! parsed strictly before negentropy sees it, the number of rounds and the
//! number of ids learned are capped, and the work per message is linear in the
//! local set.

use crate::codec::{DecodeError, Reader};
use negentropy::{Id, Negentropy, NegentropyStorageBase, NegentropyStorageVector};
use std::collections::HashSet;
use thiserror::Error;

/// Negentropy's protocol version byte, the first byte of every message.
pub const PROTOCOL_VERSION: u8 = 0x61;

/// The smallest message cap negentropy accepts (its frame size limit).
pub const MIN_MESSAGE: usize = 4096;

// Fail the build rather than speak a version the docs do not describe.
const _: () = assert!(negentropy::PROTOCOL_VERSION == PROTOCOL_VERSION as u64);

const FINGERPRINT_SIZE: usize = 16;
const ID_SIZE: usize = 32;

/// One element of the reconciled set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReconItem {
    /// The envelope's expiry in unix seconds (the same on every holder).
    pub timestamp: u64,
    /// The envelope id.
    pub id: [u8; 32],
}

/// Caps that bound what a peer can make us do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconLimits {
    /// Largest message we send or accept, in bytes; at least [`MIN_MESSAGE`].
    pub max_message: usize,
    /// Most peer messages processed before giving up.
    pub max_rounds: u32,
    /// Most items in the local set (counted before deduplication).
    pub max_items: usize,
    /// Most distinct ids (have + need) reported over the whole reconciliation.
    pub max_ids_learned: usize,
}

impl Default for ReconLimits {
    /// Sized for a phone: 4 KiB messages, a million envelopes.
    fn default() -> Self {
        Self {
            max_message: MIN_MESSAGE,
            max_rounds: 64,
            max_items: 1_000_000,
            max_ids_learned: 200_000,
        }
    }
}

/// Why reconciliation failed. After any error the [`Reconciler`] is closed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReconError {
    /// The peer's message is not a well-formed negentropy message.
    #[error("malformed reconciliation message: {0}")]
    Malformed(#[from] DecodeError),
    /// The peer speaks another protocol version.
    #[error("unsupported reconciliation version {0:#04x}")]
    UnsupportedVersion(u8),
    /// A message (the peer's, or one we built) is over the cap.
    #[error("reconciliation message of {len} bytes exceeds the cap of {max}")]
    MessageTooLarge {
        /// The message length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The configured message cap is below what negentropy accepts.
    #[error("message cap of {0} bytes is below the minimum of {MIN_MESSAGE}")]
    CapTooSmall(usize),
    /// The peer kept the reconciliation going past the round cap.
    #[error("reconciliation not finished after {0} rounds")]
    TooManyRounds(u32),
    /// The local set is larger than the cap.
    #[error("local set of {len} items exceeds the cap of {max}")]
    TooManyItems {
        /// Items given.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The peer made us learn more ids than the cap.
    #[error("reconciliation learned more than {0} ids")]
    TooManyIds(usize),
    /// The reconciler finished or failed earlier and takes no more messages.
    #[error("reconciliation already ended")]
    Closed,
    /// Negentropy refused the message or the set.
    #[error("negentropy: {0}")]
    Protocol(#[from] negentropy::Error),
}

/// The outcome of one peer message. Each id is reported at most once per
/// reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconStep {
    /// What to send back. `None` on the initiator once reconciliation is
    /// finished; the responder always has a reply.
    pub reply: Option<Vec<u8>>,
    /// Ids we hold that the peer lacks (initiator only).
    pub have: Vec<[u8; 32]>,
    /// Ids the peer holds that we lack (initiator only).
    pub need: Vec<[u8; 32]>,
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

/// Checks that `msg` is a complete negentropy v1 message, strictly: the crate
/// reads a varint that runs off the end as if it were complete, and silently
/// drops the high bits of an overlong one.
fn validate(msg: &[u8]) -> Result<(), ReconError> {
    let mut r = Reader::new(msg);
    let version = r
        .u8("version")
        .map_err(|_| DecodeError::Truncated { what: "version" })?;
    if version != PROTOCOL_VERSION {
        return Err(ReconError::UnsupportedVersion(version));
    }
    while r.remaining() > 0 {
        varint(&mut r, "bound timestamp")?;
        let id_len = varint(&mut r, "bound id length")?;
        if id_len > ID_SIZE as u64 {
            return Err(DecodeError::TooLong {
                what: "bound id prefix",
                len: usize::try_from(id_len).unwrap_or(usize::MAX),
                max: ID_SIZE,
            }
            .into());
        }
        r.bytes(id_len as usize, "bound id prefix")?;
        match varint(&mut r, "range mode")? {
            0 => {}
            1 => {
                r.bytes(FINGERPRINT_SIZE, "fingerprint")?;
            }
            2 => {
                let count = varint(&mut r, "id count")?;
                let room = (r.remaining() / ID_SIZE) as u64;
                if count > room {
                    return Err(DecodeError::Truncated { what: "id list" }.into());
                }
                r.bytes(count as usize * ID_SIZE, "id list")?;
            }
            mode => {
                return Err(DecodeError::Invalid {
                    what: "range mode",
                    value: mode,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Negentropy's varint: big-endian groups of 7 bits, high bit = more follow.
fn varint(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    let mut value: u64 = 0;
    for _ in 0..10 {
        let byte = r.u8(what)?;
        if value >> 57 != 0 {
            return Err(DecodeError::Invalid { what, value });
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::TooLong {
        what,
        len: 11,
        max: 10,
    })
}

/// What one benchmark reconciliation cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconBenchReport {
    /// Sum of `wire_cost(len)` over every message, both ways.
    pub bytes_total: usize,
    /// Initiator → responder → initiator exchanges.
    pub round_trips: u32,
    /// Messages sent, both ways.
    pub messages: u32,
    /// Ids the initiator found it holds and the responder lacks.
    pub have: usize,
    /// Ids the initiator found the responder holds and it lacks.
    pub need: usize,
}

/// Why a benchmark run failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BenchError {
    /// Reconciliation itself failed.
    #[error(transparent)]
    Recon(#[from] ReconError),
    /// Reconciliation finished with the wrong differences.
    #[error("reconciliation found {have} have / {need} need ids, expected exactly {expected} each")]
    Mismatch {
        /// Ids reported as have.
        have: usize,
        /// Ids reported as need.
        need: usize,
        /// The true difference on each side.
        expected: usize,
    },
    /// The responder produced no reply (it always must).
    #[error("responder gave no reply")]
    NoReply,
}

/// Start of the benchmark's expiry window: a fixed date, so runs repeat.
const BENCH_BASE: u64 = 1_800_000_000;
/// Shared envelopes expire over 14 days.
const BENCH_SPAN: u64 = 14 * 24 * 3600;
/// Differing envelopes expire within the hour after the newest shared one.
const BENCH_RECENT: u64 = 3600;

/// A deterministic pseudo-random item: the id and the expiry offset come from
/// the BLAKE3 output stream of `(side, counter)`.
fn bench_item(side: u8, counter: u64, from: u64, span: u64) -> ReconItem {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"pollen recon bench");
    hasher.update(&[side]);
    hasher.update(&counter.to_le_bytes());
    let mut out = [0u8; ID_SIZE + 8];
    hasher.finalize_xof().fill(&mut out);
    let mut id = [0u8; ID_SIZE];
    id.copy_from_slice(&out[..ID_SIZE]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&out[ID_SIZE..]);
    ReconItem {
        timestamp: from + u64::from_le_bytes(offset) % span,
        id,
    }
}

/// Reconciles two sets holding `items` shared ids plus `diff` ids of their
/// own each (the newest), checks that the initiator learned exactly the true
/// differences, and reports what it cost on the wire. `wire_cost` maps a
/// message length to the bytes the link spends on it (identity for none).
pub fn bench(
    items: usize,
    diff: usize,
    wire_cost: impl Fn(usize) -> usize,
) -> Result<ReconBenchReport, BenchError> {
    let shared = (0..items as u64).map(|i| bench_item(0, i, BENCH_BASE, BENCH_SPAN));
    let recent = BENCH_BASE + BENCH_SPAN;
    let a_only: Vec<ReconItem> = (0..diff as u64)
        .map(|i| bench_item(1, i, recent, BENCH_RECENT))
        .collect();
    let b_only: Vec<ReconItem> = (0..diff as u64)
        .map(|i| bench_item(2, i, recent, BENCH_RECENT))
        .collect();
    let mut a: Vec<ReconItem> = shared.collect();
    let mut b = a.clone();
    a.extend(&a_only);
    b.extend(&b_only);
    let limits = ReconLimits {
        max_message: MIN_MESSAGE,
        max_rounds: 10_000,
        max_items: items + diff,
        max_ids_learned: 2 * diff,
    };

    let (mut initiator, mut msg) = Reconciler::initiate(a, limits)?;
    let mut responder = Reconciler::respond_to(b, limits)?;
    let mut bytes_total = wire_cost(msg.len());
    let mut messages = 1;
    let mut have = HashSet::new();
    let mut need = HashSet::new();
    let mut reported = 0;
    loop {
        let reply = responder.receive(&msg)?.reply.ok_or(BenchError::NoReply)?;
        bytes_total += wire_cost(reply.len());
        messages += 1;
        let step = initiator.receive(&reply)?;
        reported += step.have.len() + step.need.len();
        have.extend(step.have);
        need.extend(step.need);
        match step.reply {
            None => break,
            Some(next) => {
                bytes_total += wire_cost(next.len());
                messages += 1;
                msg = next;
            }
        }
    }

    let exact = |found: &HashSet<[u8; 32]>, truth: &[ReconItem]| {
        found.len() == truth.len() && truth.iter().all(|item| found.contains(&item.id))
    };
    if reported != 2 * diff || !exact(&have, &a_only) || !exact(&need, &b_only) {
        return Err(BenchError::Mismatch {
            have: have.len(),
            need: need.len(),
            expected: diff,
        });
    }
    Ok(ReconBenchReport {
        bytes_total,
        round_trips: initiator.rounds(),
        messages,
        have: have.len(),
        need: need.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn limits(max_message: usize) -> ReconLimits {
        ReconLimits {
            max_message,
            max_rounds: 1_000,
            max_items: 10_000,
            max_ids_learned: 10_000,
        }
    }

    fn item(timestamp: u64, byte: u8) -> ReconItem {
        ReconItem {
            timestamp,
            id: [byte; 32],
        }
    }

    struct Outcome {
        have: Vec<[u8; 32]>,
        need: Vec<[u8; 32]>,
        largest: usize,
        round_trips: u32,
    }

    /// Runs a whole reconciliation between honest sides.
    fn reconcile(a: Vec<ReconItem>, b: Vec<ReconItem>, limits: ReconLimits) -> Outcome {
        let (mut initiator, mut msg) = Reconciler::initiate(a, limits).unwrap();
        let mut responder = Reconciler::respond_to(b, limits).unwrap();
        let mut out = Outcome {
            have: Vec::new(),
            need: Vec::new(),
            largest: msg.len(),
            round_trips: 0,
        };
        loop {
            let reply = responder.receive(&msg).unwrap().reply.unwrap();
            out.largest = out.largest.max(reply.len());
            let step = initiator.receive(&reply).unwrap();
            out.have.extend(step.have);
            out.need.extend(step.need);
            match step.reply {
                None => break,
                Some(next) => {
                    out.largest = out.largest.max(next.len());
                    msg = next;
                }
            }
        }
        assert!(initiator.is_done());
        out.round_trips = initiator.rounds();
        out
    }

    /// Negentropy's varint, to build hostile messages.
    fn push_varint(out: &mut Vec<u8>, mut value: u64) {
        let mut groups = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            groups.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        out.extend(groups.iter().rev());
    }

    fn sorted(mut ids: Vec<[u8; 32]>) -> Vec<[u8; 32]> {
        ids.sort_unstable();
        ids
    }

    #[test]
    fn identical_sets_finish_in_one_round_trip() {
        let set: Vec<ReconItem> = (0..500).map(|i| item(i / 3, (i % 251) as u8)).collect();
        let out = reconcile(set.clone(), set, limits(MIN_MESSAGE));
        assert_eq!(out.round_trips, 1);
        assert!(out.have.is_empty() && out.need.is_empty());
    }

    #[test]
    fn responder_knows_it_is_done_when_nothing_differs() {
        // Over 32 items, so the initiator sends fingerprints: a responder always
        // answers an id list with its own.
        let set: Vec<ReconItem> = (0..40).map(|i| item(i, i as u8)).collect();
        let (_, msg) = Reconciler::initiate(set.clone(), limits(MIN_MESSAGE)).unwrap();
        let mut responder = Reconciler::respond_to(set, limits(MIN_MESSAGE)).unwrap();
        assert_eq!(
            responder.receive(&msg).unwrap().reply,
            Some(vec![PROTOCOL_VERSION])
        );
        assert!(responder.is_done());
        assert_eq!(responder.receive(&msg), Err(ReconError::Closed));
    }

    #[test]
    fn unordered_duplicated_input_and_extreme_expiry() {
        let a = vec![
            item(u64::MAX, 9),
            item(3, 1),
            item(1, 2),
            item(3, 1),
            item(0, 7),
        ];
        let b = vec![item(0, 7), item(u64::MAX, 8), item(1, 2), item(1, 2)];
        let out = reconcile(a, b, limits(MIN_MESSAGE));
        assert_eq!(sorted(out.have), vec![[1; 32], [9; 32]]);
        assert_eq!(out.need, vec![[8; 32]]);
    }

    #[test]
    fn limits_are_enforced_at_construction() {
        assert!(matches!(
            Reconciler::respond_to(vec![], limits(MIN_MESSAGE - 1)),
            Err(ReconError::CapTooSmall(4095))
        ));
        let small = ReconLimits {
            max_items: 2,
            ..limits(MIN_MESSAGE)
        };
        assert!(matches!(
            Reconciler::initiate(vec![item(1, 1); 3], small),
            Err(ReconError::TooManyItems { len: 3, max: 2 })
        ));
    }

    #[test]
    fn learning_too_many_ids_is_an_error() {
        let a: Vec<ReconItem> = (0..40).map(|i| item(i, i as u8)).collect();
        let capped = ReconLimits {
            max_ids_learned: 39,
            ..limits(MIN_MESSAGE)
        };
        let (mut initiator, msg) = Reconciler::initiate(a, capped).unwrap();
        let mut responder = Reconciler::respond_to(vec![], capped).unwrap();
        let mut msg = msg;
        let err = loop {
            let reply = responder.receive(&msg).unwrap().reply.unwrap();
            match initiator.receive(&reply) {
                Ok(step) => msg = step.reply.expect("not done before the cap"),
                Err(e) => break e,
            }
        };
        assert_eq!(err, ReconError::TooManyIds(39));
        assert_eq!(initiator.receive(&msg), Err(ReconError::Closed));
    }

    #[test]
    fn oversized_wrong_version_and_truncated_messages_are_refused() {
        let set: Vec<ReconItem> = (0..100).map(|i| item(i, i as u8)).collect();
        let (_, msg) = Reconciler::initiate(set.clone(), limits(MIN_MESSAGE)).unwrap();
        let fresh = || Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();

        assert!(matches!(
            fresh().receive(&[]),
            Err(ReconError::Malformed(_))
        ));
        let mut other = msg.clone();
        other[0] = 0x62;
        assert_eq!(
            fresh().receive(&other),
            Err(ReconError::UnsupportedVersion(0x62))
        );
        assert_eq!(
            fresh().receive(&[0x01]),
            Err(ReconError::UnsupportedVersion(0x01))
        );
        // Cut inside the last fingerprint.
        assert!(matches!(
            fresh().receive(&msg[..msg.len() - 1]),
            Err(ReconError::Malformed(_))
        ));
        // A bound whose timestamp varint never ends.
        assert!(matches!(
            fresh().receive(&[PROTOCOL_VERSION, 0x81]),
            Err(ReconError::Malformed(_))
        ));
        // An overlong varint negentropy would silently truncate.
        let mut overlong = vec![PROTOCOL_VERSION];
        overlong.extend([0xff; 10]);
        overlong.push(0x7f);
        assert!(matches!(
            fresh().receive(&overlong),
            Err(ReconError::Malformed(_))
        ));
        // Unknown mode, and an id list claiming more ids than it carries.
        assert!(matches!(
            fresh().receive(&[PROTOCOL_VERSION, 0, 0, 3]),
            Err(ReconError::Malformed(DecodeError::Invalid { value: 3, .. }))
        ));
        assert!(matches!(
            fresh().receive(&[PROTOCOL_VERSION, 0, 0, 2, 1]),
            Err(ReconError::Malformed(_))
        ));
        assert!(matches!(
            fresh().receive(&[PROTOCOL_VERSION, 0, 33]),
            Err(ReconError::Malformed(DecodeError::TooLong { .. }))
        ));
        let big = vec![PROTOCOL_VERSION; MIN_MESSAGE + 1];
        assert_eq!(
            fresh().receive(&big),
            Err(ReconError::MessageTooLarge {
                len: MIN_MESSAGE + 1,
                max: MIN_MESSAGE
            })
        );
    }

    /// A responder that answers every message with "the whole range differs".
    #[test]
    fn a_peer_that_never_finishes_hits_max_rounds() {
        let mut endless = vec![PROTOCOL_VERSION, 0, 0, 1];
        endless.extend([0xab; FINGERPRINT_SIZE]);
        let capped = ReconLimits {
            max_rounds: 8,
            ..limits(MIN_MESSAGE)
        };
        let set: Vec<ReconItem> = (0..1000).map(|i| item(i, (i % 256) as u8)).collect();
        let (mut initiator, _) = Reconciler::initiate(set.clone(), capped).unwrap();
        let mut ok = 0;
        let err = loop {
            match initiator.receive(&endless) {
                Ok(step) => {
                    assert!(step.reply.is_some());
                    ok += 1;
                }
                Err(e) => break e,
            }
        };
        assert_eq!(err, ReconError::TooManyRounds(8));
        assert_eq!(ok, 7);

        // And an initiator that keeps asking about a range that differs.
        let (_, first) = Reconciler::initiate(set.clone(), capped).unwrap();
        let mut responder = Reconciler::respond_to(set[1..].to_vec(), capped).unwrap();
        for _ in 0..8 {
            responder.receive(&first).unwrap();
        }
        assert_eq!(responder.receive(&first), Err(ReconError::TooManyRounds(8)));
    }

    #[test]
    fn bench_reports_exact_differences() {
        let report = bench(3_000, 25, |len| len).unwrap();
        assert_eq!((report.have, report.need), (25, 25));
        assert!(report.round_trips >= 1);
        assert_eq!(bench(1_000, 0, |len| len).unwrap().round_trips, 1);
    }

    /// Up to 2000 distinct items, each in A only, B only, or both.
    fn two_sets() -> impl Strategy<Value = (Vec<ReconItem>, Vec<ReconItem>)> {
        // Few distinct expiries, so ranges split on id prefixes as well.
        prop::collection::btree_map(any::<[u8; 32]>(), (0u64..64, 1u8..=3), 0..2000).prop_map(
            |pool: BTreeMap<[u8; 32], (u64, u8)>| {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for (id, (timestamp, member)) in pool {
                    let it = ReconItem {
                        timestamp: 1_800_000_000 + timestamp * 1000,
                        id,
                    };
                    if member & 1 != 0 {
                        a.push(it);
                    }
                    if member & 2 != 0 {
                        b.push(it);
                    }
                }
                // Any order in, with a duplicate: the reconciler sorts.
                a.reverse();
                if let Some(&first) = b.first() {
                    b.push(first);
                }
                (a, b)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn finds_exactly_the_differences(
            (a, b) in two_sets(),
            max_message in prop::sample::select(vec![MIN_MESSAGE, 5_000, 8_192, 65_536]),
        ) {
            let ids = |s: &[ReconItem]| s.iter().map(|i| i.id).collect::<HashSet<_>>();
            let (sa, sb) = (ids(&a), ids(&b));
            let out = reconcile(a, b, limits(max_message));
            prop_assert!(out.largest <= max_message);
            prop_assert_eq!(sorted(out.have), sorted(sa.difference(&sb).copied().collect()));
            prop_assert_eq!(sorted(out.need), sorted(sb.difference(&sa).copied().collect()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            data in prop::collection::vec(any::<u8>(), 0..600),
            version_ok in any::<bool>(),
        ) {
            let mut data = data;
            if version_ok && !data.is_empty() {
                data[0] = PROTOCOL_VERSION;
            }
            let set: Vec<ReconItem> = (0..300).map(|i| item(i / 2, (i % 256) as u8)).collect();
            let mut responder = Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();
            if let Ok(step) = responder.receive(&data) {
                prop_assert!(step.reply.unwrap().len() <= MIN_MESSAGE);
            }
            let (mut initiator, _) = Reconciler::initiate(set, limits(MIN_MESSAGE)).unwrap();
            if let Ok(step) = initiator.receive(&data) {
                prop_assert!(step.reply.map_or(0, |r| r.len()) <= MIN_MESSAGE);
                prop_assert!(step.have.len() + step.need.len() <= 300 + data.len() / 32);
            }
            if data.first() != Some(&PROTOCOL_VERSION) {
                prop_assert!(Reconciler::respond_to(vec![], limits(MIN_MESSAGE)).unwrap().receive(&data).is_err());
            }
        }

        /// Well-formed but hostile messages: bounds in any order, any mode,
        /// fingerprints and id lists that match nothing.
        #[test]
        fn hostile_well_formed_messages_never_panic(
            ranges in prop::collection::vec(
                (any::<u64>(), prop::collection::vec(any::<u8>(), 0..=32), 0u8..3, 0usize..4),
                0..60,
            ),
        ) {
            let mut msg = vec![PROTOCOL_VERSION];
            for (timestamp, prefix, mode, ids) in &ranges {
                push_varint(&mut msg, *timestamp);
                push_varint(&mut msg, prefix.len() as u64);
                msg.extend(prefix);
                push_varint(&mut msg, u64::from(*mode));
                match mode {
                    1 => msg.extend([prefix.len() as u8; FINGERPRINT_SIZE]),
                    2 => {
                        push_varint(&mut msg, *ids as u64);
                        for k in 0..*ids {
                            msg.extend([k as u8 ^ (*timestamp as u8); ID_SIZE]);
                        }
                    }
                    _ => {}
                }
            }
            prop_assume!(msg.len() <= MIN_MESSAGE);
            let set: Vec<ReconItem> = (0..500).map(|i| item(i % 7, (i % 256) as u8)).collect();
            let mut responder = Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();
            let step = responder.receive(&msg);
            prop_assert!(step.is_ok(), "{:?}", step);
            let (mut initiator, _) = Reconciler::initiate(set, limits(MIN_MESSAGE)).unwrap();
            let step = initiator.receive(&msg);
            prop_assert!(step.is_ok(), "{:?}", step);
        }

        #[test]
        fn truncated_honest_messages_never_panic(cut in 0usize..2000, seed in any::<u8>()) {
            let a: Vec<ReconItem> = (0..900u64).map(|i| item(i / 4, (i as u8) ^ seed)).collect();
            let b: Vec<ReconItem> = a.iter().skip(7).copied().collect();
            let (_, msg) = Reconciler::initiate(a, limits(MIN_MESSAGE)).unwrap();
            let cut = cut.min(msg.len());
            let mut responder = Reconciler::respond_to(b, limits(MIN_MESSAGE)).unwrap();
            let _ = responder.receive(&msg[..cut]);
        }
    }
}
