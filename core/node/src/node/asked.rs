//! Items this node has asked a neighbour for and not yet received, so that
//! two sessions at once do not both fetch the same envelope.
//!
//! In a crowd a new channel post reaches a phone's neighbours within seconds
//! of each other, and each of them offers it; every session that wants it
//! before the first copy arrives is answered with a copy. In the village
//! (seed 1) more than half of all envelopes handed over were such
//! duplicates (`docs/ROUTING.md`, *One fetch per item*).

use std::collections::HashMap;

/// How long a claim stands without the item arriving: long enough for a
/// session's wants to cross a Bluetooth link, short enough that a session
/// that vanished without a word does not keep an item from other
/// neighbours for long. When it passes, the worst case is a duplicate.
pub const CLAIM_SECS: u64 = 60;

/// Above this many claims, the expired ones are dropped (a bound on memory
/// whatever sessions do).
const PRUNE_ABOVE: usize = 4096;

/// The ids asked for, each with the time its claim lapses.
#[derive(Debug)]
pub struct Asked {
    until: HashMap<[u8; 32], u64>,
    /// The size at which the expired are dropped next: twice what the last
    /// pruning left, so that a big sync (tens of thousands of live claims
    /// within a minute) pays a scan per doubling, not one per claim.
    prune_at: usize,
}

impl Default for Asked {
    fn default() -> Self {
        Self {
            until: HashMap::new(),
            prune_at: PRUNE_ABOVE,
        }
    }
}

impl Asked {
    /// Claims `id` for the asking session at `now` (seconds): `false` when
    /// another session's claim on it still stands.
    pub fn claim(&mut self, id: [u8; 32], now: u64) -> bool {
        if self.until.get(&id).is_some_and(|&t| t > now) {
            return false;
        }
        if self.until.len() >= self.prune_at {
            self.until.retain(|_, t| *t > now);
            self.prune_at = (2 * self.until.len()).max(PRUNE_ABOVE);
        }
        self.until.insert(id, now + CLAIM_SECS);
        true
    }

    /// Frees the claims of a session whose link broke.
    pub fn release(&mut self, ids: &[[u8; 32]]) {
        for id in ids {
            self.until.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_stands_until_released_or_lapsed() {
        let mut asked = Asked::default();
        let (x, y) = ([1; 32], [2; 32]);
        assert!(asked.claim(x, 100));
        assert!(!asked.claim(x, 100), "a second session does not ask");
        assert!(asked.claim(y, 100), "claims are per item");
        assert!(!asked.claim(x, 100 + CLAIM_SECS - 1));
        assert!(asked.claim(x, 100 + CLAIM_SECS), "a lapsed claim is free");
        asked.release(&[y]);
        assert!(asked.claim(y, 101), "a broken link frees its claims");
    }

    #[test]
    fn expired_claims_are_pruned() {
        let mut asked = Asked::default();
        for i in 0..PRUNE_ABOVE as u32 {
            let mut id = [0; 32];
            id[..4].copy_from_slice(&i.to_le_bytes());
            assert!(asked.claim(id, 0));
        }
        assert_eq!(asked.until.len(), PRUNE_ABOVE);
        assert!(asked.claim([0xff; 32], CLAIM_SECS));
        assert_eq!(asked.until.len(), 1, "only the live claim is left");
    }

    #[test]
    fn live_claims_are_scanned_once_per_doubling() {
        let mut asked = Asked::default();
        let id = |i: u32| {
            let mut id = [0; 32];
            id[..4].copy_from_slice(&i.to_le_bytes());
            id
        };
        // A big sync: every claim live. Pruning finds nothing to drop, so
        // the next one waits until the claims have doubled.
        for i in 0..PRUNE_ABOVE as u32 + 1 {
            assert!(asked.claim(id(i), 0));
        }
        assert_eq!(asked.prune_at, 2 * PRUNE_ABOVE);
        for i in PRUNE_ABOVE as u32 + 1..2 * PRUNE_ABOVE as u32 + 1 {
            assert!(asked.claim(id(i), 0));
        }
        assert_eq!(asked.prune_at, 4 * PRUNE_ABOVE);
        assert_eq!(asked.until.len(), 2 * PRUNE_ABOVE + 1);
        // A minute on, they have all lapsed; the next pruning drops them
        // and keeps the new ones.
        let later = CLAIM_SECS + 1;
        for i in 0..2 * PRUNE_ABOVE as u32 {
            assert!(asked.claim(id(1_000_000 + i), later));
        }
        assert_eq!(asked.until.len(), 2 * PRUNE_ABOVE);
        assert!(asked.until.values().all(|&t| t > later));
    }
}
