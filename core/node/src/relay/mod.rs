//! Relays: Pollen nodes with large storage and no user.
//!
//! A relay accepts sync sessions from anyone and stores every valid envelope
//! until it expires or a valid delivery proof for it arrives. It never opens
//! an envelope: it checks only what any carrier can check without keys
//! (structure, freshness, hop budget), and a proof only against the cleartext
//! commitment. One relay uses the node's SQLite store; when one is not
//! enough, several relay processes share a PostgreSQL database through
//! `postgres::PgRelayStore` (cargo feature `postgres`) and behave as one
//! relay.

#[cfg(feature = "postgres")]
pub mod postgres;

use crate::admission::{self, RELAY_GLOBAL_BYTES, RELAY_PER_ORIGIN_BYTES};
use pollen_proto::envelope::{Envelope, EnvelopeId};

/// Most delivery proofs a relay keeps for envelopes it never held (defined
/// with the node's in [`admission`], where the two are compared).
pub use crate::admission::MAX_UNMATCHED_PROOFS;
pub use crate::admission::{NO_HOPS_LEFT, QUOTA_EXCEEDED, STORE_FULL};

/// How much a relay stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayLimits {
    /// Bytes of envelopes held at most, all origins together.
    pub global_bytes: u64,
    /// Bytes of envelopes one origin (a link's peer address) may leave here.
    pub per_origin_bytes: u64,
}

impl Default for RelayLimits {
    /// 10 GiB in all, 256 MiB per origin: a relay is a node with large
    /// storage, and one sender should not be able to fill it.
    fn default() -> Self {
        Self {
            global_bytes: RELAY_GLOBAL_BYTES,
            per_origin_bytes: RELAY_PER_ORIGIN_BYTES,
        }
    }
}

/// Bytes and counts a relay holds, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayUsage {
    /// Bytes of envelopes held (expired ones not yet dropped included).
    pub bytes: u64,
    /// Envelopes held.
    pub envelopes: u64,
    /// Delivery proofs known.
    pub proofs: u64,
}

/// What one expiry pass dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Envelopes whose lifetime was over.
    pub envelopes: u64,
    /// Delivery proofs no longer needed.
    pub proofs: u64,
    /// Remembered ids that can no longer be replayed (their envelope expired).
    pub seen: u64,
    /// Attachment chunks whose lifetime was over.
    pub chunks: u64,
}

/// The checks any carrier makes without keys: decodes `bytes`, checks
/// freshness against `now` and that a hop is left. Returns the envelope as a
/// carrier stores it, with one hop spent (the id ignores hops, so it is the
/// id of `bytes`), and its id; or the acceptance-rule reason from
/// `docs/PROTOCOL.md`: `malformed`, `bad_length`, `oversized`,
/// `unsupported_version`, `expired`, `expiry_too_far` or `no_hops_left`.
///
/// The protocol puts the duplicate check between freshness and hops (an
/// already-held envelope with no hops left is a duplicate, not a refusal);
/// a store that deduplicates keeps that order itself.
pub fn check_envelope(bytes: &[u8], now: u64) -> Result<(Envelope, EnvelopeId), &'static str> {
    let (mut env, id) = admission::decode_fresh(bytes, None, now).map_err(|r| r.reason())?;
    admission::spend_hop(&mut env, false).map_err(|r| r.reason())?;
    Ok((env, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Rejection;
    use crate::store::StoreError;
    use pollen_proto::envelope::{Draft, MAX_TTL_SECS, Recipient, SharedKey, seal};
    use pollen_proto::identity::Identity;

    const NOW: u64 = 1_700_000_000;

    fn sealed(hops: u8, expires_at: u64) -> Vec<u8> {
        let me = Identity::generate("relay test").unwrap();
        let key = SharedKey([7; 32]);
        let s = seal(
            &me,
            &Draft {
                to: Recipient::Shared(&key),
                payload: b"hello",
                sent_at: NOW - 10,
                expires_at,
                hops,
            },
        )
        .unwrap();
        s.envelope.encode()
    }

    #[test]
    fn carrier_checks_give_the_protocol_reasons() {
        assert_eq!(check_envelope(&[1; 100], NOW).unwrap_err(), "bad_length");
        assert_eq!(check_envelope(&[], NOW).unwrap_err(), "bad_length");
        assert_eq!(
            check_envelope(&[2; 512], NOW).unwrap_err(),
            "unsupported_version"
        );
        assert_eq!(check_envelope(&[1; 70_000], NOW).unwrap_err(), "oversized");
        let bytes = sealed(3, NOW + 100);
        assert_eq!(check_envelope(&bytes, NOW + 100).unwrap_err(), "expired");
        assert_eq!(
            check_envelope(&bytes, NOW - MAX_TTL_SECS - 86_400).unwrap_err(),
            "expiry_too_far"
        );
        assert_eq!(
            check_envelope(&sealed(0, NOW + 100), NOW).unwrap_err(),
            "no_hops_left"
        );
    }

    #[test]
    fn a_carried_envelope_spends_one_hop_and_keeps_its_id() {
        let bytes = sealed(3, NOW + 100);
        let (env, id) = check_envelope(&bytes, NOW).unwrap();
        assert_eq!(env.header().hops, 2);
        assert_eq!(id, Envelope::decode(&bytes).unwrap().id());
        assert_eq!(env.id(), id);
        assert_eq!(env.encode()[10..], bytes[10..]);
    }

    #[test]
    fn store_reasons_match_the_node() {
        let quota = StoreError::QuotaExceeded {
            origin: "x".into(),
            used: 0,
            quota: 0,
        };
        assert_eq!(Rejection::Store(quota).reason(), QUOTA_EXCEEDED);
        let full = StoreError::Full { needed: 1 };
        assert_eq!(Rejection::Store(full).reason(), STORE_FULL);
        assert_eq!(Rejection::NoHopsLeft.reason(), NO_HOPS_LEFT);
    }
}
