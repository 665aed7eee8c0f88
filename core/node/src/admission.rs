//! Admission: every rule that decides whether a node or a relay accepts an
//! envelope, a delivery proof or a copy budget, and every limit those rules
//! use, defined once.
//!
//! Node ingest (`node::ingest`, `node::sync_store`), the carrier checks
//! (`relay::check_envelope`) and the PostgreSQL relay store
//! (`relay::postgres`) all call these functions, so a phone and a relay apply
//! the same rules and report the same words (`docs/PROTOCOL.md`, "Acceptance
//! rules"). The rules run in the protocol's order:
//!
//! 1. [`decode_fresh`]: decode, the announced id, freshness;
//! 2. [`Prior`]: a duplicate (held, seen, or its proof known) is accepted
//!    and changes nothing, whatever the later rules would say;
//! 3. (node only) opening what is addressed to the node;
//! 4. [`spend_hop`]: a carried envelope needs a hop left;
//! 5. [`within_quota`] and [`room_needed`]: the sender's quota, then the
//!    global cap (evicting what matters less).
//!
//! Proofs: [`proof_commitment`] is the only check a proof gets (a made-up one
//! matches nothing), and [`keep_proof`] decides whether and how long a new
//! one is kept.

use crate::node::DEFAULT_TTL_SECS;
use crate::store::StoreError;
use pollen_proto::envelope::{Commitment, DeliveryProof, Envelope, EnvelopeError, EnvelopeId};
use thiserror::Error;

/// Largest attachments fetched without asking, when a message opens and its
/// author is a contact; larger ones, and any from a stranger, wait for an
/// explicit fetch. The app chooses them ([`crate::node::Node::set_auto_fetch`]);
/// a session over Bluetooth asks only for those under `slow_link`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoFetch {
    /// Over Bluetooth (about 20 KB/s: 2 MiB is two minutes of a link).
    pub slow_link: u64,
    /// Over Wi-Fi or a cable.
    pub fast_link: u64,
}

impl Default for AutoFetch {
    fn default() -> Self {
        AutoFetch {
            slow_link: 2 * 1024 * 1024,
            fast_link: 16 * 1024 * 1024,
        }
    }
}

/// Bytes of envelopes a node holds by default, all classes together: room
/// for weeks of a busy phone's traffic without crowding the phone.
pub const NODE_GLOBAL_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes of carried envelopes one origin may leave on a node by default: a
/// quarter of the store, so one sender cannot fill it.
pub const NODE_PER_ORIGIN_BYTES: u64 = 64 * 1024 * 1024;
/// Bytes of envelopes a relay holds by default: a relay is a node with large
/// storage.
pub const RELAY_GLOBAL_BYTES: u64 = 10 * 1024 * 1024 * 1024;
/// Bytes one origin may leave on a relay by default, so one sender cannot
/// fill it.
pub const RELAY_PER_ORIGIN_BYTES: u64 = 256 * 1024 * 1024;

/// Most delivery proofs for envelopes it never held ("unmatched") a node or
/// a relay keeps; beyond it such proofs are dropped (they still purge and
/// deliver what they match). Unmatched proofs travel on as anti-packets; the
/// cap bounds what a flood of made-up ones costs, where every held proof is
/// an item in every sync session (50,000 proofs are about 4 MB). Matched
/// proofs are not counted: they are bounded by the envelopes that were held.
/// One rule ([`keep_proof`]), one constant, for phones and relays alike.
pub const MAX_UNMATCHED_PROOFS: u64 = 50_000;
/// How long a proof is kept when no held envelope tells how long copies may
/// still be around: the longest a Pollen sender lets a message live.
pub const UNMATCHED_PROOF_TTL_SECS: u64 = DEFAULT_TTL_SECS;

/// Reason: the bytes are not an envelope.
pub const MALFORMED: &str = "malformed";
/// Reason: an envelope of impossible length.
pub const BAD_LENGTH: &str = "bad_length";
/// Reason: an envelope or payload over the size limit.
pub const OVERSIZED: &str = "oversized";
/// Reason: an envelope version this build does not know.
pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
/// Reason: the envelope's lifetime is over.
pub const EXPIRED: &str = "expired";
/// Reason: the envelope claims to live longer than any sender may set.
pub const EXPIRY_TOO_FAR: &str = "expiry_too_far";
/// Reason: addressed to the receiver, but the seal, commitment or padding is wrong.
pub const TAMPERED: &str = "tampered";
/// Reason: the signature or the author name is invalid.
pub const BAD_SIGNATURE: &str = "bad_signature";
/// Reason: a cryptographic operation failed.
pub const CRYPTO: &str = "crypto";
/// Reason: the announced id is not the id of the bytes.
pub const ID_MISMATCH: &str = "id_mismatch";
/// Reason: the envelope may not be carried any further.
pub const NO_HOPS_LEFT: &str = "no_hops_left";
/// Reason: what was inside the envelope is malformed or not allowed.
pub const INVALID_CONTENT: &str = "invalid_content";
/// Reason: opened here, but its author is blocked on this node (local only:
/// the peer's acknowledgement does not tell it from any other).
pub const BLOCKED: &str = "blocked";
/// Reason: the sender's origin used up its share of the store.
pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
/// Reason: the store is full and nothing could be evicted.
pub const STORE_FULL: &str = "store_full";

/// Why an envelope was refused (nothing stored for it).
#[derive(Debug, Error)]
pub enum Rejection {
    /// Malformed, expired, unsupported version, tampered…
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The id a bundle or peer gave does not match the bytes.
    #[error("envelope bytes do not match the id they came with (corrupted in transit)")]
    IdMismatch,
    /// No hop budget left for carrying it further.
    #[error("envelope has no hops left to be carried")]
    NoHopsLeft,
    /// Opened, but what was inside is malformed or not allowed.
    #[error("invalid content: {0}")]
    Content(String),
    /// Opened, but its author is blocked here: dropped, no proof.
    #[error("its author is blocked here")]
    Blocked,
    /// Quota or global cap reached.
    #[error(transparent)]
    Store(StoreError),
}

impl Rejection {
    /// A short stable name for counting rejections in reports.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Envelope(e) => match e {
                EnvelopeError::Decode(_) => MALFORMED,
                EnvelopeError::BadLength(_) => BAD_LENGTH,
                EnvelopeError::TooLarge(_) => OVERSIZED,
                EnvelopeError::UnsupportedVersion(_) => UNSUPPORTED_VERSION,
                EnvelopeError::Expired { .. } => EXPIRED,
                EnvelopeError::ExpiryTooFar { .. } => EXPIRY_TOO_FAR,
                EnvelopeError::PayloadTooLarge(_) => OVERSIZED,
                EnvelopeError::NotForMe => TAMPERED,
                EnvelopeError::BadCommitment | EnvelopeError::BadPadding => TAMPERED,
                EnvelopeError::BadSignature
                | EnvelopeError::BadAuthorName(_)
                | EnvelopeError::WeakAuthorKey => BAD_SIGNATURE,
                EnvelopeError::Crypto(_) => CRYPTO,
            },
            Rejection::IdMismatch => ID_MISMATCH,
            Rejection::NoHopsLeft => NO_HOPS_LEFT,
            Rejection::Content(_) => INVALID_CONTENT,
            Rejection::Blocked => BLOCKED,
            Rejection::Store(StoreError::QuotaExceeded { .. }) => QUOTA_EXCEEDED,
            Rejection::Store(_) => STORE_FULL,
        }
    }
}

/// Rules 1 (decode, the id a carrier announced if any) and 2 (freshness
/// against `now`); returns the envelope and its id.
pub fn decode_fresh(
    bytes: &[u8],
    claimed_id: Option<EnvelopeId>,
    now: u64,
) -> Result<(Envelope, EnvelopeId), Rejection> {
    let env = Envelope::decode(bytes)?;
    let id = env.id();
    if claimed_id.is_some_and(|c| c != id) {
        return Err(Rejection::IdMismatch);
    }
    env.check_fresh(now)?;
    Ok((env, id))
}

/// What the receiver already knows of an envelope: the duplicate rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prior {
    /// Held now.
    Held,
    /// Opened, delivered or purged before (its id is remembered).
    Seen,
    /// Never seen, but its delivery proof is known: delivered elsewhere.
    Proven,
    /// Nothing: the later rules decide.
    New,
}

impl Prior {
    /// Classifies what a store found, in the order the node has always
    /// answered (held, then seen, then proven).
    pub fn of(held: bool, seen: bool, proven: bool) -> Prior {
        match (held, seen, proven) {
            (true, _, _) => Prior::Held,
            (_, true, _) => Prior::Seen,
            (_, _, true) => Prior::Proven,
            _ => Prior::New,
        }
    }

    /// True for a duplicate: accepted, and nothing changes.
    pub fn is_duplicate(self) -> bool {
        self != Prior::New
    }
}

/// The hop budget every author's envelope starts with, and the most a
/// carrier accepts: a larger claim is clamped to it.
pub const MAX_HOPS: u8 = 12;

/// Rule 4: a carrier spends one hop of the envelope's budget and refuses it
/// when none is left. The id ignores hops, so it does not change. A claim
/// above [`MAX_HOPS`] is clamped. At `MAX_HOPS`, a carrier whose
/// [`hop_coin`] for this envelope says `keep_max` keeps it there (Freenet's
/// probabilistic decrement, checklist P4): a neighbour handed an envelope at
/// the maximum cannot tell its author from a carrier.
pub fn spend_hop(env: &mut Envelope, keep_max: bool) -> Result<(), Rejection> {
    match env.header().hops.min(MAX_HOPS) {
        0 => Err(Rejection::NoHopsLeft),
        MAX_HOPS if keep_max => {
            env.set_hops(MAX_HOPS);
            Ok(())
        }
        hops => {
            env.set_hops(hops - 1);
            Ok(())
        }
    }
}

/// This carrier's coin for envelope `id`: a keyed hash, so the same carrier
/// always decides the same way for the same envelope (asking again learns
/// nothing) and other carriers cannot predict it.
pub fn hop_coin(key: &[u8; 32], id: &EnvelopeId) -> bool {
    blake3::keyed_hash(key, id.as_bytes()).as_bytes()[0] & 1 == 1
}

/// Rule 5, the quota: true when an origin already holding `used` bytes may
/// leave `size` more under its `quota`.
pub fn within_quota(used: u64, size: u64, quota: u64) -> bool {
    used.checked_add(size).is_some_and(|after| after <= quota)
}

/// Rule 5, the global cap: bytes to evict before `size` more fit beside the
/// `total` held under `cap` (0 when they fit already).
pub fn room_needed(total: u64, size: u64, cap: u64) -> u64 {
    total.saturating_add(size).saturating_sub(cap)
}

/// Most copies of one envelope a receiver takes from a neighbour's claim:
/// the budget a private message starts with (`crate::routing::COPIES`), so
/// a neighbour cannot make carriers flood what they cannot read. (Channel
/// posts flood among their readers: a member that opens one gives it the
/// flooding budget itself, knowing what it is.)
pub const MAX_COPIES: u32 = crate::routing::COPIES;

/// The copy budget an arriving envelope is kept with: at least the one copy
/// that arrived, and never more than the policy maximum ([`MAX_COPIES`]),
/// whatever the neighbour claimed.
pub fn admit_copies(claimed: u32) -> u32 {
    claimed.clamp(1, MAX_COPIES)
}

/// The commitment a delivery proof answers: the only check a proof needs, as
/// a made-up secret matches no envelope's commitment and so purges nothing.
pub fn proof_commitment(secret: &DeliveryProof) -> Commitment {
    secret.commitment()
}

/// Whether a proof not known before is kept, and until when. `matched` says
/// it purged or delivered something here; `held_until` is the latest expiry
/// of the envelopes it purged. An unmatched proof is kept while fewer than
/// `max_unmatched` unmatched proofs are held (`unmatched_held` counts only
/// unmatched proofs, and is asked only then, as counting costs a query). Returns the expiry to keep it with, or `None` to drop it.
pub fn keep_proof<E>(
    matched: bool,
    held_until: Option<u64>,
    now: u64,
    max_unmatched: u64,
    unmatched_held: impl FnOnce() -> Result<u64, E>,
) -> Result<Option<u64>, E> {
    if !matched && unmatched_held()? >= max_unmatched {
        return Ok(None);
    }
    // Kept as long as any copy could still be around.
    Ok(Some(held_until.unwrap_or_else(|| {
        now.saturating_add(UNMATCHED_PROOF_TTL_SECS)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_told_apart_most_specific_first() {
        assert_eq!(Prior::of(true, true, true), Prior::Held);
        assert_eq!(Prior::of(false, true, true), Prior::Seen);
        assert_eq!(Prior::of(false, false, true), Prior::Proven);
        assert_eq!(Prior::of(false, false, false), Prior::New);
        assert!(!Prior::New.is_duplicate() && Prior::Seen.is_duplicate());
    }

    #[test]
    fn quota_and_cap_are_inclusive() {
        assert!(within_quota(10, 10, 20));
        assert!(!within_quota(11, 10, 20));
        assert!(!within_quota(u64::MAX, 1, u64::MAX));
        assert_eq!(room_needed(10, 10, 20), 0);
        assert_eq!(room_needed(15, 10, 20), 5);
    }

    #[test]
    fn unmatched_proofs_are_capped_and_matched_ones_never() {
        let never = || -> Result<u64, ()> { panic!("counted a matched proof") };
        assert_eq!(keep_proof(true, Some(5), 1, 0, never), Ok(Some(5)));
        assert_eq!(
            keep_proof(true, None, 1, 0, never),
            Ok(Some(1 + UNMATCHED_PROOF_TTL_SECS))
        );
        assert_eq!(keep_proof(false, None, 1, 3, || Ok::<_, ()>(3)), Ok(None));
        assert_eq!(
            keep_proof(false, None, 1, 3, || Ok::<_, ()>(2)),
            Ok(Some(1 + UNMATCHED_PROOF_TTL_SECS))
        );
        assert_eq!(admit_copies(0), 1);
        assert_eq!(admit_copies(7), 7);
    }

    #[test]
    fn r3_a_neighbours_copy_budget_is_clamped_to_the_policy_maximum() {
        assert_eq!(admit_copies(u32::MAX), MAX_COPIES);
        assert_eq!(admit_copies(MAX_COPIES + 1), MAX_COPIES);
        assert_eq!(admit_copies(MAX_COPIES), MAX_COPIES);
    }
}
