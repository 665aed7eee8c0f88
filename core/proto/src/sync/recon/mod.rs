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

mod bench;
mod reconciler;
#[cfg(test)]
mod tests;
mod wire;

pub use bench::{BenchError, ReconBenchReport, bench};
pub use reconciler::Reconciler;

use crate::codec::DecodeError;
use thiserror::Error;

/// Negentropy's protocol version byte, the first byte of every message.
pub const PROTOCOL_VERSION: u8 = 0x61;

/// The smallest message cap negentropy accepts (its frame size limit).
pub const MIN_MESSAGE: usize = 4096;

// Fail the build rather than speak a version the docs do not describe.
const _: () = assert!(negentropy::PROTOCOL_VERSION == PROTOCOL_VERSION as u64);

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
