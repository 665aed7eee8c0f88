//! The neighbour table of a running node: who is known, when to sync with
//! each next, and how far to back off after failures. Pure logic on the time
//! it is given, so it is tested without sockets.

use super::cadence::{Cadence, MAX_FAILURES, Schedule};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Where a neighbour was learned from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An mDNS advertisement with this instance name.
    Mdns(String),
    /// A `--peer` address given by the user.
    Static,
    /// A neighbour that dialled us and said where it listens.
    Learned,
    /// A relay on the internet, authenticated by this public key.
    Relay([u8; 32]),
}

/// One neighbour.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Addresses to try, in order.
    pub addrs: Vec<SocketAddr>,
    /// How it was learned.
    pub source: Source,
    /// A session with it is running.
    pub busy: bool,
    /// When to sync with it next.
    pub cadence: Cadence,
    /// Which address to try next.
    pub cursor: usize,
}

/// The neighbour table, keyed by a stable name (mDNS instance or address).
#[derive(Debug, Default)]
pub struct Peers {
    peers: BTreeMap<String, Peer>,
}

impl Peers {
    /// Adds or refreshes a neighbour; a fresh advertisement resets its backoff.
    pub fn upsert(&mut self, key: &str, addrs: Vec<SocketAddr>, source: Source, now_ms: u64) {
        // A neighbour first learned from its dial-in and then advertised is
        // one neighbour: the advertisement (with every address) replaces it.
        if source != Source::Learned {
            let stale: Vec<String> = self
                .peers
                .iter()
                .filter(|(k, p)| {
                    k.as_str() != key
                        && p.source == Source::Learned
                        && p.addrs.iter().any(|a| addrs.contains(a))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for k in stale {
                self.peers.remove(&k);
            }
        }
        let p = self.peers.entry(key.to_owned()).or_insert_with(|| Peer {
            addrs: Vec::new(),
            source: source.clone(),
            busy: false,
            cadence: Cadence::new(now_ms, Schedule::LAN),
            cursor: 0,
        });
        if p.addrs != addrs {
            p.addrs = addrs;
            p.cursor = 0;
        }
        p.source = source;
        p.cadence.refreshed(now_ms);
    }

    /// Forgets a neighbour that withdrew its advertisement (given peers and relays stay).
    pub fn remove(&mut self, key: &str) {
        if self
            .peers
            .get(key)
            .is_some_and(|p| !p.busy && matches!(p.source, Source::Mdns(_) | Source::Learned))
        {
            self.peers.remove(key);
        }
    }

    /// Marks every neighbour but `except` as having something new to hear.
    pub fn mark_dirty(&mut self, except: Option<&str>) {
        for (k, p) in &mut self.peers {
            if Some(k.as_str()) != except {
                p.cadence.dirty = true;
            }
        }
    }

    /// Neighbours to dial now: not busy, and either dirty or due, within
    /// `free` links. Marks them busy and returns (key, address).
    pub fn due(&mut self, now_ms: u64, free: usize) -> Vec<(String, SocketAddr)> {
        let mut out = Vec::new();
        for (k, p) in &mut self.peers {
            if out.len() >= free {
                break;
            }
            if p.busy || p.addrs.is_empty() || !p.cadence.due(now_ms) {
                continue;
            }
            p.busy = true;
            p.cadence.started();
            out.push((k.clone(), p.addrs[p.cursor % p.addrs.len()]));
        }
        out
    }

    /// Records how a session with `key` ended.
    pub fn finished(&mut self, key: &str, ok: bool, now_ms: u64) {
        let Some(p) = self.peers.get_mut(key) else {
            return;
        };
        p.busy = false;
        if ok {
            p.cadence.succeeded(now_ms);
            return;
        }
        if p.source == Source::Learned && p.cadence.failures + 1 >= MAX_FAILURES {
            self.peers.remove(key);
            return;
        }
        p.cursor += 1;
        let n = p.addrs.len().max(1);
        // Another address of the same neighbour is worth trying at once.
        let rounds = (p.cadence.failures + 1) / n as u32;
        p.cadence.failed(now_ms, p.cursor % n != 0, rounds);
    }

    /// The key of the neighbour listening at `addr`, if known.
    pub fn key_of(&self, addr: SocketAddr) -> Option<&str> {
        self.peers
            .iter()
            .find(|(_, p)| p.addrs.contains(&addr))
            .map(|(k, _)| k.as_str())
    }

    /// Whether a session with the neighbour at `ip` is running.
    pub fn busy_with(&self, ip: std::net::IpAddr) -> Option<&str> {
        self.peers
            .iter()
            .find(|(_, p)| p.busy && p.addrs.iter().any(|a| a.ip() == ip))
            .map(|(k, _)| k.as_str())
    }

    /// Neighbours (not relays) with a good session recently.
    pub fn present(&self, now_ms: u64) -> usize {
        self.peers
            .values()
            .filter(|p| !matches!(p.source, Source::Relay(_)))
            .filter(|p| p.cadence.present(now_ms))
            .count()
    }

    /// Relays with a good session recently.
    pub fn relays_reached(&self, now_ms: u64) -> usize {
        self.peers
            .values()
            .filter(|p| matches!(p.source, Source::Relay(_)))
            .filter(|p| p.cadence.present(now_ms))
            .count()
    }

    /// The relay key to authenticate when dialling `key`, if it is a relay.
    pub fn relay_key(&self, key: &str) -> Option<[u8; 32]> {
        match self.peers.get(key)?.source {
            Source::Relay(k) => Some(k),
            _ => None,
        }
    }

    /// Number of known neighbours.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when no neighbour is known.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The earliest time a not-busy neighbour becomes due.
    pub fn next_due(&self) -> Option<u64> {
        self.peers
            .values()
            .filter(|p| !p.busy && !p.addrs.is_empty())
            .map(|p| p.cadence.next_due())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const RESYNC_MS: u64 = Schedule::LAN.resync_ms;
    const BACKOFF_MIN_MS: u64 = Schedule::LAN.backoff_min_ms;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_new_neighbour_is_dialled_once_then_resynced_later() {
        let mut p = Peers::default();
        p.upsert("a", vec![addr("10.0.0.1:1")], Source::Static, 0);
        assert_eq!(p.due(0, 8).len(), 1);
        assert!(p.due(0, 8).is_empty(), "busy while its session runs");
        p.finished("a", true, 100);
        assert!(p.due(200, 8).is_empty(), "nothing new, not yet due");
        assert_eq!(p.present(200), 1);
        assert_eq!(p.due(100 + RESYNC_MS, 8).len(), 1);
    }

    #[test]
    fn news_makes_every_other_neighbour_due_at_once() {
        let mut p = Peers::default();
        for k in ["a", "b", "c"] {
            p.upsert(k, vec![addr("10.0.0.1:1")], Source::Static, 0);
        }
        let all = p.due(0, 8);
        assert_eq!(all.len(), 3);
        for (k, _) in all {
            p.finished(&k, true, 10);
        }
        p.mark_dirty(Some("b"));
        let due: Vec<String> = p.due(20, 8).into_iter().map(|(k, _)| k).collect();
        assert_eq!(due, vec!["a".to_owned(), "c".to_owned()]);
    }

    #[test]
    fn failures_back_off_and_try_other_addresses_first() {
        let mut p = Peers::default();
        p.upsert(
            "m",
            vec![addr("10.0.1.3:9"), addr("10.0.2.3:9")],
            Source::Mdns("m".into()),
            0,
        );
        let (_, first) = p.due(0, 8)[0];
        p.finished("m", false, 0);
        let (_, second) = p.due(0, 8)[0];
        assert_ne!(first, second, "the other address is tried at once");
        p.finished("m", false, 0);
        assert!(p.due(0, 8).is_empty());
        assert!(p.next_due().unwrap() >= BACKOFF_MIN_MS);
        // Backoff grows but is capped.
        for _ in 0..40 {
            let t = p.next_due().unwrap();
            assert!(t <= 1_000_000_000);
            p.due(t, 8);
            p.finished("m", false, t);
        }
        let now = 0;
        let gap = p.next_due().unwrap() - now;
        assert!(gap > 0);
        // A fresh advertisement resets the backoff.
        p.upsert(
            "m",
            vec![addr("10.0.1.3:9"), addr("10.0.2.3:9")],
            Source::Mdns("m".into()),
            5,
        );
        assert_eq!(p.due(5, 8).len(), 1);
    }

    #[test]
    fn a_learned_neighbour_that_keeps_failing_is_forgotten() {
        let mut p = Peers::default();
        let a = addr("10.0.0.9:4000");
        p.upsert("10.0.0.9:4000", vec![a], Source::Learned, 0);
        assert_eq!(p.key_of(a), Some("10.0.0.9:4000"));
        for _ in 0..MAX_FAILURES {
            let t = p.next_due().unwrap();
            assert_eq!(p.due(t, 8).len(), 1);
            p.finished("10.0.0.9:4000", false, t);
        }
        assert!(p.is_empty());
    }

    #[test]
    fn an_advertisement_replaces_the_same_neighbour_learned_from_its_dial_in() {
        let mut p = Peers::default();
        let a = addr("10.99.1.3:4000");
        p.upsert("10.99.1.3:4000", vec![a], Source::Learned, 0);
        p.upsert(
            "pollen-ab._pollen._tcp.local.",
            vec![a, addr("10.99.2.3:4000")],
            Source::Mdns("pollen-ab".into()),
            0,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p.key_of(a), Some("pollen-ab._pollen._tcp.local."));
    }

    #[test]
    fn links_are_capped_and_withdrawn_mdns_peers_forgotten() {
        let mut p = Peers::default();
        for i in 0..5 {
            p.upsert(
                &format!("p{i}"),
                vec![addr("10.0.0.1:1")],
                Source::Mdns(format!("p{i}")),
                0,
            );
        }
        assert_eq!(p.due(0, 2).len(), 2);
        p.remove("p4");
        assert_eq!(p.len(), 4);
        p.remove("p0");
        assert_eq!(p.len(), 4, "a neighbour with a running session stays");
    }
}
