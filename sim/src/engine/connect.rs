//! Pairs in range: contacts coming and going, link slots per phone, and
//! connections set up into sessions.

use super::link::Link;
use super::{EPOCH_S, Engine, Ev, KindIx, LiveLink, kind_ix, ordered, secs_ms, two};
use crate::trace::LinkKind;
use pollen_proto::sync::session::{Offer, Session, SessionConfig};
use rand_chacha::rand_core::Rng;

impl Engine<'_> {
    pub(super) fn contact_down(&mut self, i: usize, now: u64) {
        let c = self.sc.trace.contacts[i];
        let key = ordered(c.a, c.b);
        let Some(pair) = self.pairs.get_mut(&key) else {
            return;
        };
        let k = kind_ix(c.kind);
        pair.up[k] = pair.up[k].saturating_sub(1);
        let link = pair.link;
        let gone = pair.up.iter().all(|&u| u == 0);
        if let Some(id) = link
            && self
                .links
                .get(&id)
                .is_some_and(|l| pair.up[kind_ix(l.kind)] == 0)
        {
            self.end_link(id, false, now);
        }
        if gone {
            if let Some(pair) = self.pairs.get(&key)
                && pair.connecting
            {
                // The pending Open finds the pair gone and frees the slots.
                return;
            }
            self.pairs.remove(&key);
            self.neighbours[c.a as usize].remove(&c.b);
            self.neighbours[c.b as usize].remove(&c.a);
        }
    }

    pub(super) fn try_connect(&mut self, key: (u32, u32), now: u64) {
        let (a, b) = key;
        let versions = (self.nodes[a as usize].news, self.nodes[b as usize].news);
        let Some(pair) = self.pairs.get_mut(&key) else {
            return;
        };
        // The driver knows exactly what both sides hold: a pair in sync has
        // no news, and the quiet resync a phone would run could move nothing.
        if pair.link.is_some() || pair.connecting || pair.synced == versions {
            return;
        }
        let Some(kind) = pair.best_kind() else {
            return;
        };
        pair.cadence.schedule = self.cfg.schedule(kind);
        pair.cadence.dirty = true;
        if !pair.cadence.due(now) {
            let at = pair.cadence.next_due();
            self.push(at, Ev::Connect(a, b));
            return;
        }
        // A session that would move nothing either way is not run: it could
        // not change any node (its cost is the handshake and one round).
        let (na, nb) = two(&mut self.nodes, a, b);
        if !na.would_give(nb) && !nb.would_give(na) {
            self.stats.sessions_skipped += 1;
            if let Some(pair) = self.pairs.get_mut(&key) {
                pair.synced = versions;
            }
            return;
        }
        let model = self.cfg.model(kind);
        let k = kind_ix(kind);
        if model.max_links > 0
            && (self.slots[a as usize][k] >= model.max_links
                || self.slots[b as usize][k] >= model.max_links)
        {
            self.stats.cap_waits += 1;
            self.waiting[a as usize].insert(b);
            self.waiting[b as usize].insert(a);
            return;
        }
        self.slots[a as usize][k] += 1;
        self.slots[b as usize][k] += 1;
        if let Some(pair) = self.pairs.get_mut(&key) {
            pair.connecting = true;
            pair.cadence.started();
        }
        let jitter = if model.setup_ms > 0 {
            self.rng.next_u64() % (model.setup_ms / 2 + 1)
        } else {
            0
        };
        self.push(now + model.setup_ms + jitter, Ev::Open(a, b, k as KindIx));
    }

    pub(super) fn release(&mut self, key: (u32, u32), kind: LinkKind, now: u64) {
        let k = kind_ix(kind);
        for n in [key.0, key.1] {
            let s = &mut self.slots[n as usize][k];
            *s = s.saturating_sub(1);
        }
        // A freed slot goes to whoever waited for one.
        for n in [key.0, key.1] {
            let waiting = std::mem::take(&mut self.waiting[n as usize]);
            for m in waiting {
                self.waiting[m as usize].remove(&n);
                self.try_connect(ordered(n, m), now);
            }
        }
    }

    pub(super) fn open(&mut self, key: (u32, u32), kind: LinkKind, now: u64) {
        let still = self
            .pairs
            .get(&key)
            .is_some_and(|p| p.up[kind_ix(kind)] > 0);
        if !still {
            if let Some(p) = self.pairs.get_mut(&key) {
                p.connecting = false;
                if p.up.iter().all(|&u| u == 0) {
                    self.pairs.remove(&key);
                    self.neighbours[key.0 as usize].remove(&key.1);
                    self.neighbours[key.1 as usize].remove(&key.0);
                }
            }
            self.release(key, kind, now);
            return;
        }
        let model = self.cfg.model(kind);
        let clock_ms = EPOCH_S * 1000 + now;
        let initiator_a = self.rng.next_u32() & 1 == 0;
        let config = |initiator: bool, peer: u32| {
            let mut c = if kind == LinkKind::Ble {
                SessionConfig::small(initiator, format!("n{peer}"), model.max_record)
            } else {
                SessionConfig::tcp(initiator, format!("n{peer}"))
            };
            c.offer = Offer::Routed;
            c
        };
        let sessions = [
            Session::new(config(initiator_a, key.1), clock_ms),
            Session::new(config(!initiator_a, key.0), clock_ms),
        ];
        let drop_at = (model.mean_drop_s > 0.0).then(|| {
            // Exponential time to the next drop.
            let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            now + secs_ms(-model.mean_drop_s * (1.0 - u).ln())
        });
        let id = self.next_link;
        self.next_link += 1;
        let versions = (
            self.nodes[key.0 as usize].news,
            self.nodes[key.1 as usize].news,
        );
        self.links.insert(
            id,
            LiveLink {
                link: Link::new([key.0, key.1], sessions, model, drop_at),
                kind,
                start_versions: versions,
                own_bumps: (0, 0),
                wake: None,
            },
        );
        if let Some(p) = self.pairs.get_mut(&key) {
            p.connecting = false;
            p.link = Some(id);
        }
        self.stats.sessions += 1;
        self.step(id, now);
    }
}
