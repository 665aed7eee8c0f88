//! When a delivery proof may leave the phone that made it (checklist P6,
//! statistical disclosure through receipts). A proof is public: any carrier
//! checks it against an envelope's commitment and drops its copy, and the
//! author's phone shows "delivered". Sent the moment a message opens, it
//! tells the neighbour that just handed the envelope over (and, by its
//! timing, anyone watching) that this phone is the recipient. So by default
//! a proof is held back and released with the others of its batch, at a
//! fixed boundary after a delay each phone draws per envelope with a key
//! nobody else knows. Pure rule: the node stores the release time
//! (`proofs.release_at`) and sessions offer only what is released.

use pollen_proto::envelope::Commitment;

/// Proofs are released at multiples of this many seconds (Unix time), so
/// all proofs a phone made within one batch leave together.
pub const PROOF_BATCH_SECS: u64 = 600;

/// What the user chose for the delivery proofs of messages they receive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Receipts {
    /// Held back for a random 0–10 minutes, then released at the next
    /// 10-minute boundary with the others of that batch.
    #[default]
    Batched,
    /// Sent as soon as the message opens, in the same session: the author
    /// sees "delivered" at once, at the cost of telling the neighbour who
    /// handed it over that this phone is the recipient.
    Immediate,
    /// Never sent: the author never sees "delivered" and carriers keep the
    /// message until it expires.
    Off,
}

impl Receipts {
    /// The setting's name, as the CLI and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Receipts::Batched => "batched",
            Receipts::Immediate => "immediate",
            Receipts::Off => "off",
        }
    }

    /// Parses a name of [`Receipts::as_str`].
    pub fn parse(s: &str) -> Option<Receipts> {
        match s {
            "batched" => Some(Receipts::Batched),
            "immediate" => Some(Receipts::Immediate),
            "off" => Some(Receipts::Off),
            _ => None,
        }
    }
}

/// When the proof for `commitment`, made at `now`, may leave this phone
/// (`u64::MAX` for never). `key` is this phone's secret delay key, so the
/// delay cannot be predicted by others yet is the same if the envelope
/// opens twice (after a crash, say).
pub fn release_at(mode: Receipts, now: u64, key: &[u8; 32], commitment: &Commitment) -> u64 {
    match mode {
        Receipts::Immediate => 0,
        Receipts::Off => u64::MAX,
        Receipts::Batched => {
            let h = blake3::keyed_hash(key, &commitment[..]);
            let mut first = [0u8; 8];
            first.copy_from_slice(&h.as_bytes()[..8]);
            let delay = u64::from_le_bytes(first) % PROOF_BATCH_SECS;
            let after = now.saturating_add(delay);
            (after / PROOF_BATCH_SECS + 1).saturating_mul(PROOF_BATCH_SECS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_batched_proof_leaves_at_a_boundary_within_twenty_minutes(
            now in 0u64..4_000_000_000,
            key: [u8; 32],
            c: [u8; 32],
        ) {
            let t = release_at(Receipts::Batched, now, &key, &Commitment(c));
            prop_assert_eq!(t % PROOF_BATCH_SECS, 0);
            prop_assert!(t > now);
            prop_assert!(t <= now + 2 * PROOF_BATCH_SECS);
        }
    }

    #[test]
    fn p6_proofs_opened_in_one_batch_leave_together_and_delays_differ_per_envelope() {
        let key = [7u8; 32];
        let now = 1_800_000_000 - 1_800_000_000 % PROOF_BATCH_SECS;
        let times: Vec<u64> = (0u8..64)
            .map(|i| release_at(Receipts::Batched, now + 300, &key, &Commitment([i; 32])))
            .collect();
        // Two boundaries at most, and both used: the delay is drawn per envelope.
        let mut distinct = times.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct,
            vec![now + PROOF_BATCH_SECS, now + 2 * PROOF_BATCH_SECS]
        );
        // Another phone draws other delays for the same envelopes.
        let other: Vec<u64> = (0u8..64)
            .map(|i| {
                release_at(
                    Receipts::Batched,
                    now + 300,
                    &[8u8; 32],
                    &Commitment([i; 32]),
                )
            })
            .collect();
        assert_ne!(times, other);
    }

    #[test]
    fn immediate_is_now_off_is_never_and_names_round_trip() {
        let c = Commitment([1; 32]);
        assert_eq!(release_at(Receipts::Immediate, 99, &[0; 32], &c), 0);
        assert_eq!(release_at(Receipts::Off, 99, &[0; 32], &c), u64::MAX);
        for r in [Receipts::Batched, Receipts::Immediate, Receipts::Off] {
            assert_eq!(Receipts::parse(r.as_str()), Some(r));
        }
        assert_eq!(Receipts::parse("sometimes"), None);
        assert_eq!(Receipts::default(), Receipts::Batched);
    }
}
