//! The peers platform links reach, and when to ask the platform for a link
//! to each, on the same [`Cadence`] as TCP neighbours. Pure logic on the
//! time it is given.

use super::cadence::{Cadence, MAX_FAILURES, Schedule};
use std::collections::BTreeMap;

/// A `connect` request the platform did not answer within this is a failure.
pub const CONNECT_WAIT_MS: u64 = 10_000;

#[derive(Clone, Debug)]
struct Peer {
    links: usize,
    present: bool,
    cadence: Cadence,
    asked_ms: Option<u64>,
}

impl Peer {
    /// Met through its first link, whose session carries today's news.
    fn new() -> Peer {
        let mut cadence = Cadence::new(0, Schedule::LAN);
        cadence.started();
        Peer {
            links: 0,
            present: false,
            cadence,
            asked_ms: None,
        }
    }
}

/// What a change means for the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Nothing to tell.
    Same,
    /// The peer is now reachable.
    Appeared,
    /// The peer is gone.
    Left,
}

/// The platform peers of a running node, by the platform's peer name.
#[derive(Debug, Default)]
pub struct PlatformPeers {
    peers: BTreeMap<String, Peer>,
}

impl PlatformPeers {
    /// A link to `peer` came up.
    pub fn link_up(&mut self, peer: &str) -> Presence {
        let p = self.peers.entry(peer.to_owned()).or_insert_with(Peer::new);
        p.links += 1;
        p.asked_ms = None;
        if p.present {
            Presence::Same
        } else {
            p.present = true;
            Presence::Appeared
        }
    }

    /// A link to `peer` ended: `ok` when its session finished, `lost` when the
    /// platform reported the link gone (not a close the core asked for).
    pub fn link_ended(&mut self, peer: &str, ok: bool, lost: bool, now_ms: u64) -> Presence {
        let Some(p) = self.peers.get_mut(peer) else {
            return Presence::Same;
        };
        p.links = p.links.saturating_sub(1);
        if ok {
            p.cadence.succeeded(now_ms);
        } else {
            Self::failed(p, now_ms);
        }
        if p.links == 0 && p.present && (lost || !ok) {
            p.present = false;
            return Presence::Left;
        }
        Presence::Same
    }

    fn failed(p: &mut Peer, now_ms: u64) {
        let rounds = p.cadence.failures + 1;
        p.cadence.failed(now_ms, false, rounds);
    }

    /// The platform found `peer` (Bonjour's service name) without a link:
    /// a new peer is due for a link at once; a known one forgets its backoff.
    /// Returns whether the peer was new.
    pub fn discovered(&mut self, peer: &str, now_ms: u64) -> bool {
        match self.peers.get_mut(peer) {
            Some(p) => {
                p.cadence.refreshed(now_ms);
                false
            }
            None => {
                let peer_state = Peer {
                    links: 0,
                    present: false,
                    cadence: Cadence::new(now_ms, Schedule::LAN),
                    asked_ms: None,
                };
                self.peers.insert(peer.to_owned(), peer_state);
                true
            }
        }
    }

    /// The platform no longer sees `peer`: forgotten unless a link to it is
    /// live (then its links' ends decide). `Left` if it was shown present.
    pub fn lost(&mut self, peer: &str) -> Presence {
        match self.peers.get(peer) {
            Some(p) if p.links == 0 => {
                let was_present = p.present;
                self.peers.remove(peer);
                if was_present {
                    Presence::Left
                } else {
                    Presence::Same
                }
            }
            _ => Presence::Same,
        }
    }

    /// Marks every peer but `except` as having news to hear.
    pub fn mark_dirty(&mut self, except: Option<&str>) {
        for (k, p) in &mut self.peers {
            if Some(k.as_str()) != except {
                p.cadence.dirty = true;
            }
        }
    }

    /// The platform refused to connect to `peer`.
    pub fn connect_failed(&mut self, peer: &str, now_ms: u64) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.asked_ms = None;
            Self::failed(p, now_ms);
        }
    }

    /// Peers to ask the platform to connect to now; marks them asked. Peers
    /// that failed too often are forgotten and returned as `gone`.
    pub fn due(&mut self, now_ms: u64) -> Due {
        let mut due = Due::default();
        for (k, p) in &mut self.peers {
            if let Some(asked) = p.asked_ms
                && now_ms >= asked + CONNECT_WAIT_MS
            {
                p.asked_ms = None;
                Self::failed(p, now_ms);
            }
            if p.cadence.failures >= MAX_FAILURES && p.links == 0 {
                due.gone.push((k.clone(), p.present));
                continue;
            }
            if p.links > 0 || p.asked_ms.is_some() || !p.cadence.due(now_ms) {
                continue;
            }
            p.cadence.started();
            p.asked_ms = Some(now_ms);
            due.connect.push(k.clone());
        }
        for (k, _) in &due.gone {
            self.peers.remove(k);
        }
        due
    }

    /// Peers with a live link.
    pub fn linked(&self) -> usize {
        self.peers.values().filter(|p| p.links > 0).count()
    }

    /// Peers shown as present, for a final "left" when the runtime stops.
    pub fn present(&self) -> Vec<String> {
        self.peers
            .iter()
            .filter(|(_, p)| p.present)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// What [`PlatformPeers::due`] decided.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// Ask the platform for a link to these.
    pub connect: Vec<String>,
    /// Forgotten, with whether they were shown as present.
    pub gone: Vec<(String, bool)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    const RESYNC_MS: u64 = Schedule::LAN.resync_ms;

    #[test]
    fn news_asks_for_a_link_at_once_and_a_quiet_peer_waits_for_resync() {
        let mut p = PlatformPeers::default();
        assert_eq!(p.link_up("b"), Presence::Appeared);
        assert_eq!(p.link_ended("b", true, false, 1_000), Presence::Same);
        assert!(p.due(1_100).connect.is_empty(), "in sync: nothing to do");
        p.mark_dirty(None);
        assert_eq!(p.due(1_200).connect, vec!["b".to_owned()]);
        assert!(p.due(1_300).connect.is_empty(), "already asked");
        assert_eq!(p.link_up("b"), Presence::Same);
        p.link_ended("b", true, false, 2_000);
        assert!(p.due(2_000 + RESYNC_MS - 1).connect.is_empty());
        assert_eq!(p.due(2_000 + RESYNC_MS).connect, vec!["b".to_owned()]);
    }

    #[test]
    fn news_from_a_peer_is_not_sent_back_to_it() {
        let mut p = PlatformPeers::default();
        for k in ["a", "c"] {
            p.link_up(k);
            p.link_ended(k, true, false, 0);
        }
        p.mark_dirty(Some("a"));
        assert_eq!(p.due(10).connect, vec!["c".to_owned()]);
    }

    #[test]
    fn unanswered_requests_back_off_and_the_peer_is_forgotten() {
        let mut p = PlatformPeers::default();
        p.link_up("b");
        assert_eq!(p.link_ended("b", false, true, 0), Presence::Left);
        let mut now = 0;
        let mut asks = 0;
        loop {
            let due = p.due(now);
            asks += due.connect.len();
            if !due.gone.is_empty() {
                assert_eq!(due.gone, vec![("b".to_owned(), false)]);
                break;
            }
            now += 100;
            assert!(now < 10 * 60_000, "never forgotten");
        }
        assert_eq!(asks as u32, MAX_FAILURES - 1);
        assert!(p.due(now + RESYNC_MS).connect.is_empty());
    }

    #[test]
    fn a_discovered_peer_is_asked_for_at_once_and_a_lost_one_is_forgotten() {
        let mut p = PlatformPeers::default();
        assert!(p.due(0).connect.is_empty());
        assert!(p.discovered("b", 1_000));
        assert!(!p.discovered("b", 1_000), "already known");
        assert_eq!(p.due(1_000).connect, vec!["b".to_owned()]);
        assert!(p.due(1_100).connect.is_empty(), "already asked");
        // Not answered: backoff; a fresh sighting forgets it.
        assert!(p.due(1_000 + CONNECT_WAIT_MS).connect.is_empty());
        p.discovered("b", 1_000 + CONNECT_WAIT_MS + 1);
        assert_eq!(
            p.due(1_000 + CONNECT_WAIT_MS + 1).connect,
            vec!["b".to_owned()]
        );
        assert_eq!(p.link_up("b"), Presence::Appeared);
        assert_eq!(p.lost("b"), Presence::Same, "a live link keeps it");
        assert_eq!(p.link_ended("b", true, false, 20_000), Presence::Same);
        assert_eq!(p.lost("b"), Presence::Left);
        assert!(p.due(20_000 + RESYNC_MS).connect.is_empty(), "forgotten");
        assert_eq!(p.lost("nobody"), Presence::Same);
    }

    #[test]
    fn a_peer_leaves_only_when_its_last_link_is_lost() {
        let mut p = PlatformPeers::default();
        assert_eq!(p.link_up("b"), Presence::Appeared);
        assert_eq!(p.link_up("b"), Presence::Same);
        assert_eq!(p.link_ended("b", false, true, 0), Presence::Same);
        assert_eq!(p.linked(), 1);
        assert_eq!(p.link_ended("b", false, true, 0), Presence::Left);
        assert_eq!(p.present(), Vec::<String>::new());
    }
}
