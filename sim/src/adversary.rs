//! Adversaries in the simulator (`pollen sim --adversary KIND:FRACTION`):
//! a seeded share of the phones runs hostile software, and the run reports
//! what the honest phones still deliver to each other.
//!
//! - **black-hole**: accepts everything offered and forwards nothing it did
//!   not write (no envelopes, no delivery proofs), so every copy budget
//!   handed to it is spent for nothing.
//! - **grey-hole**: forwards about half of what it carries (chosen per
//!   envelope, so retries do not help) and drops the rest.
//! - **flood**: every [`FLOOD_EVERY_S`] writes [`FLOOD_BATCH`] envelopes of
//!   [`FLOOD_BYTES`] from throwaway identities to strangers (relayable junk
//!   that carriers cannot tell from real mail), offers all of it to everyone
//!   and claims the largest copy budget with each.
//! - **liar**: a black hole that also lies about routing knowledge: its
//!   encounter summary claims certainty of meeting every recipient it has
//!   heard of, to attract copies (matters under the `encounter` policy).
//!
//! Adversaries still send and receive their own workload messages; the
//! figures count only pairs whose sender and recipient are both honest.

use crate::scenario::Role;
use pollen_proto::envelope::{self, Draft, Envelope, EnvelopeId, Recipient};
use pollen_proto::identity::Identity;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::str::FromStr;
use thiserror::Error;

/// Seconds between a flooder's batches.
pub const FLOOD_EVERY_S: u64 = 300;
/// Junk envelopes per batch.
pub const FLOOD_BATCH: usize = 32;
/// Plaintext bytes of each junk envelope.
pub const FLOOD_BYTES: usize = 1_000;
/// The copy budget a flooder claims with every envelope it hands over.
pub const FLOOD_CLAIMED_COPIES: u32 = u32::MAX;

/// What the hostile phones do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdversaryKind {
    /// Accepts everything, forwards nothing.
    BlackHole,
    /// Forwards about half of what it carries.
    GreyHole,
    /// Floods the mesh with relayable junk.
    Flood,
    /// A black hole that claims to meet everyone.
    Liar,
}

impl AdversaryKind {
    /// The kind's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            AdversaryKind::BlackHole => "black-hole",
            AdversaryKind::GreyHole => "grey-hole",
            AdversaryKind::Flood => "flood",
            AdversaryKind::Liar => "liar",
        }
    }

    /// Whether a phone of this kind hands on the item `id` (an envelope it
    /// carries or a proof it knows); `own` items it wrote always go.
    pub fn forwards(self, id: &[u8; 32], own: bool) -> bool {
        own || match self {
            AdversaryKind::BlackHole | AdversaryKind::Liar => false,
            // Decided by the item, not by the meeting: the same half is
            // dropped at every encounter.
            AdversaryKind::GreyHole => id[0] & 1 == 1,
            AdversaryKind::Flood => true,
        }
    }
}

/// One adversary setting: a kind and the share of phones running it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Adversary {
    /// What the hostile phones do.
    pub kind: AdversaryKind,
    /// Share of the phones (people, never gateways or the relay), 0 to 1.
    pub fraction: f64,
}

/// A malformed `--adversary` value.
#[derive(Debug, Error, PartialEq)]
pub enum AdversaryParseError {
    /// Not `KIND:FRACTION`.
    #[error("expected KIND:FRACTION (for example black-hole:0.2), got {0:?}")]
    Shape(String),
    /// An unknown kind.
    #[error("unknown adversary {0:?}: black-hole, grey-hole, flood or liar")]
    Kind(String),
    /// A fraction outside 0..=1.
    #[error("the fraction must be a number from 0 to 1, got {0:?}")]
    Fraction(String),
}

impl FromStr for Adversary {
    type Err = AdversaryParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, fraction) = s
            .split_once(':')
            .ok_or_else(|| AdversaryParseError::Shape(s.to_owned()))?;
        let kind = match kind.trim() {
            "black-hole" => AdversaryKind::BlackHole,
            "grey-hole" | "gray-hole" => AdversaryKind::GreyHole,
            "flood" => AdversaryKind::Flood,
            "liar" => AdversaryKind::Liar,
            other => return Err(AdversaryParseError::Kind(other.to_owned())),
        };
        let fraction: f64 = fraction
            .trim()
            .parse()
            .ok()
            .filter(|f: &f64| (0.0..=1.0).contains(f))
            .ok_or_else(|| AdversaryParseError::Fraction(fraction.to_owned()))?;
        Ok(Adversary { kind, fraction })
    }
}

impl std::fmt::Display for Adversary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.name(), self.fraction)
    }
}

impl Adversary {
    /// The hostile phones: `fraction` of the people, rounded, chosen by
    /// `seed` (the same run picks the same phones).
    pub fn pick(&self, roles: &[Role], seed: u64) -> BTreeSet<u32> {
        let mut people: Vec<u32> = (0..roles.len() as u32)
            .filter(|&i| roles[i as usize] == Role::Person)
            .collect();
        let want = (people.len() as f64 * self.fraction).round() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xad7e_5a41);
        // Partial Fisher-Yates: the first `want` are a uniform choice.
        for i in 0..want.min(people.len()) {
            let j = i + (rng.next_u64() % (people.len() - i) as u64) as usize;
            people.swap(i, j);
        }
        people.truncate(want);
        people.into_iter().collect()
    }
}

/// One batch of junk at unix second `now`, valid for `ttl_s`: each
/// envelope from a fresh identity to another fresh identity, so neither
/// carriers nor quotas keyed on keys can tell them apart.
pub fn junk(now: u64, ttl_s: u64, batch: usize) -> Vec<(Vec<u8>, EnvelopeId)> {
    // Sealed, so the bytes inside do not matter to anyone but the recipient.
    let payload = vec![0x78; FLOOD_BYTES];
    (0..batch)
        .filter_map(|_| {
            let from = Identity::generate("junk").ok()?;
            let to = Identity::generate("junk").ok()?.public();
            let sealed = envelope::seal(
                &from,
                &Draft {
                    to: Recipient::Direct(&to),
                    payload: &payload,
                    sent_at: now,
                    expires_at: now + ttl_s,
                    hops: 5,
                },
            )
            .ok()?;
            let env: Envelope = sealed.envelope;
            Some((env.encode(), env.id()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_and_rejects_bad_values() {
        let a: Adversary = "black-hole:0.2".parse().unwrap();
        assert_eq!(a.kind, AdversaryKind::BlackHole);
        assert_eq!(a.fraction, 0.2);
        assert_eq!(a.to_string(), "black-hole:0.2");
        assert!(matches!(
            "black-hole".parse::<Adversary>(),
            Err(AdversaryParseError::Shape(_))
        ));
        assert!(matches!(
            "worm:0.1".parse::<Adversary>(),
            Err(AdversaryParseError::Kind(_))
        ));
        assert!(matches!(
            "flood:1.5".parse::<Adversary>(),
            Err(AdversaryParseError::Fraction(_))
        ));
    }

    #[test]
    fn picks_the_share_of_people_only_and_repeats() {
        let mut roles = vec![Role::Person; 100];
        roles.push(Role::Relay);
        let a: Adversary = "grey-hole:0.25".parse().unwrap();
        let bad = a.pick(&roles, 7);
        assert_eq!(bad.len(), 25);
        assert!(!bad.contains(&100), "never the relay");
        assert_eq!(bad, a.pick(&roles, 7));
        assert_ne!(bad, a.pick(&roles, 8));
    }

    #[test]
    fn a_grey_hole_drops_about_half_and_keeps_its_own() {
        let kept = (0u8..=255)
            .filter(|b| AdversaryKind::GreyHole.forwards(&[*b; 32], false))
            .count();
        assert_eq!(kept, 128);
        assert!(AdversaryKind::BlackHole.forwards(&[0; 32], true));
        assert!(!AdversaryKind::Liar.forwards(&[1; 32], false));
    }
}
