//! This node's own direct routing tag, derived once per day: every envelope
//! an ingest takes, and every envelope a routed session lists (twice), is
//! compared with it, and each derivation is two BLAKE3 calls.

use pollen_proto::envelope::RoutingTag;
use pollen_proto::identity::PublicIdentity;
use std::collections::HashMap;

/// Days kept before the cache starts over: what a node holds expires within
/// a few weeks, so this is reached only over a long-running process's life.
const MAX_DAYS: usize = 64;

/// Direct tags by tag day.
#[derive(Debug, Default)]
pub(crate) struct DirectTags {
    by_day: HashMap<u64, RoutingTag>,
}

impl DirectTags {
    /// `me`'s direct tag for an envelope expiring at `expires_at`.
    pub(crate) fn of(&mut self, me: &PublicIdentity, expires_at: u64) -> RoutingTag {
        let day = RoutingTag::day_of(expires_at);
        if self.by_day.len() >= MAX_DAYS && !self.by_day.contains_key(&day) {
            self.by_day.clear();
        }
        *self
            .by_day
            .entry(day)
            .or_insert_with(|| RoutingTag::direct(me, expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_proto::identity::Identity;

    #[test]
    fn cached_tags_are_the_derived_ones_and_the_cache_stays_small() {
        let me = Identity::generate("me").unwrap().public();
        let mut tags = DirectTags::default();
        for t in (0..200u64).map(|i| i * 40_000) {
            assert_eq!(tags.of(&me, t), RoutingTag::direct(&me, t), "at {t}");
            assert_eq!(tags.of(&me, t), RoutingTag::direct(&me, t), "again at {t}");
            assert!(tags.by_day.len() <= MAX_DAYS);
        }
    }
}
