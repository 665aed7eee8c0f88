//! A simulated BLE radio on virtual time for tests and benchmarks: phones in
//! range of each other advertise and scan, connect after a set-up delay,
//! exchange GATT values within a shared throughput cap and a latency, and
//! lose links at random (seeded). Each phone is a real [`BleHub`] over a
//! real store, so everything above the radio is the production code.

use super::hub::{Advert, BleCommand, BleHub, HubEvent};
use super::manager::LinkId;
use pollen_proto::ble::link::Role;
use pollen_proto::sync::SyncStore;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How the simulated radio behaves.
#[derive(Clone, Copy, Debug)]
pub struct Radio {
    /// GATT value bytes per second one link carries, both directions together.
    pub bytes_per_s: u64,
    /// One-way delay of a value, in milliseconds.
    pub latency_ms: u64,
    /// From `Connect` to a usable link (connection, service discovery, MTU
    /// exchange, subscription), in milliseconds.
    pub connect_ms: u64,
    /// Mean random link losses per minute of link time (0: none).
    pub drops_per_min: f64,
    /// Interval at which a scanning phone hears an advertiser, in milliseconds.
    pub adv_interval_ms: u64,
    /// Most connections a phone's Bluetooth stack holds at once.
    pub platform_max_links: usize,
    /// Seed of the random drops and advertising jitter.
    pub seed: u64,
}

impl Default for Radio {
    fn default() -> Self {
        Radio {
            bytes_per_s: 20_000,
            latency_ms: 15,
            connect_ms: 400,
            drops_per_min: 0.0,
            adv_interval_ms: 250,
            platform_max_links: 10,
            seed: 1,
        }
    }
}

/// One simulated phone.
pub struct Phone<S> {
    /// Its BLE side.
    pub hub: BleHub,
    /// Its store.
    pub store: S,
    /// The largest ATT MTU its stack negotiates (23, 185 on iOS, 517 on Android).
    pub max_mtu: u16,
    /// Advertises the local-name form only, like an iOS phone.
    pub name_only: bool,
    /// The store's clock (ms), kept at the world's time when set.
    pub clock: Option<Arc<AtomicU64>>,
    scanning: bool,
    advert: Option<Advert>,
}

impl<S> Phone<S> {
    /// A phone with this hub, store and MTU limit.
    pub fn new(hub: BleHub, store: S, max_mtu: u16) -> Phone<S> {
        Phone {
            hub,
            store,
            max_mtu,
            name_only: false,
            clock: None,
            scanning: false,
            advert: None,
        }
    }
}

struct SimLink {
    ends: [usize; 2],
    busy_until_us: u64,
    turn: usize,
    more: bool,
    in_flight: VecDeque<(u64, usize, Vec<u8>)>,
    drop_at_us: u64,
    closing: bool,
}

/// What happened in the world, for assertions and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct WorldStats {
    /// Links that came up.
    pub links_up: u64,
    /// Links lost at random.
    pub drops: u64,
    /// Connection attempts refused or failed.
    pub connect_failures: u64,
    /// GATT value bytes carried.
    pub value_bytes: u64,
    /// Most links up at once between the same two phones.
    pub max_parallel_pair_links: usize,
    /// Most links one phone had at once.
    pub max_links_per_phone: usize,
    /// Sessions that ended finished / early.
    pub sessions_finished: u64,
    /// Sessions that ended early.
    pub sessions_failed: u64,
    /// When the first link came up (virtual ms).
    pub first_link_ms: Option<u64>,
}

/// Phones, who is in range of whom, and the links between them.
pub struct World<S> {
    /// The phones, by index; phone `i` has the platform handle `phone-i`.
    pub phones: Vec<Phone<S>>,
    range: Vec<Vec<bool>>,
    radio: Radio,
    rng: Xoshiro256PlusPlus,
    now_us: u64,
    links: BTreeMap<LinkId, SimLink>,
    next_link: LinkId,
    connects: Vec<(u64, usize, usize)>,
    next_adv: BTreeMap<(usize, usize), u64>,
    /// Counters.
    pub stats: WorldStats,
    /// Every session end, with the phone it happened on.
    pub ended: Vec<(usize, HubEvent)>,
}

fn handle(i: usize) -> String {
    format!("phone-{i}")
}

fn phone_of(handle: &str) -> Option<usize> {
    handle.strip_prefix("phone-")?.parse().ok()
}

impl<S: SyncStore> World<S> {
    /// A world at `now_ms` where nobody is in range yet.
    pub fn new(phones: Vec<Phone<S>>, radio: Radio, now_ms: u64) -> World<S> {
        let n = phones.len();
        World {
            phones,
            range: vec![vec![false; n]; n],
            radio,
            rng: Xoshiro256PlusPlus::seed_from_u64(radio.seed),
            now_us: now_ms * 1000,
            links: BTreeMap::new(),
            next_link: LinkId::FIRST,
            connects: Vec::new(),
            next_adv: BTreeMap::new(),
            stats: WorldStats::default(),
            ended: Vec::new(),
        }
    }

    /// Virtual milliseconds now.
    pub fn now_ms(&self) -> u64 {
        self.now_us / 1000
    }

    /// Puts `a` and `b` in or out of range of each other; out of range
    /// cuts their links.
    pub fn set_range(&mut self, a: usize, b: usize, in_range: bool) {
        self.range[a][b] = in_range;
        self.range[b][a] = in_range;
        if !in_range {
            let cut: Vec<LinkId> = self
                .links
                .iter()
                .filter(|(_, l)| l.ends.contains(&a) && l.ends.contains(&b))
                .map(|(id, _)| *id)
                .collect();
            for id in cut {
                self.take_down(id);
            }
        }
    }

    /// Links up now between `a` and `b`.
    pub fn links_between(&self, a: usize, b: usize) -> Vec<LinkId> {
        self.links
            .iter()
            .filter(|(_, l)| l.ends.contains(&a) && l.ends.contains(&b))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Links up now, all phones.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Runs until `done` holds or `max_ms` of virtual time passed; true if `done` held.
    pub fn run_until(&mut self, max_ms: u64, mut done: impl FnMut(&World<S>) -> bool) -> bool {
        let end_us = self.now_us + max_ms * 1000;
        loop {
            self.step();
            if done(self) {
                return true;
            }
            let next = self.next_event_us();
            if next > end_us {
                self.now_us = end_us;
                return false;
            }
            self.now_us = next.max(self.now_us + 1);
        }
    }

    fn step(&mut self) {
        let now_ms = self.now_ms();
        let now_us = self.now_us;
        // The stores live in the world's time (held-back proofs, expiry).
        for p in &self.phones {
            if let Some(c) = &p.clock {
                c.store(now_ms, Ordering::SeqCst);
            }
        }
        // Timers.
        for p in &mut self.phones {
            if p.hub.poll_timeout().is_some_and(|t| t <= now_ms) {
                p.hub.handle_timeout(now_ms, &mut p.store);
            }
        }
        self.apply_commands();
        // Connections whose set-up time is over.
        let (due, later): (Vec<_>, Vec<_>) = self
            .connects
            .drain(..)
            .partition(|(at, _, _)| *at <= now_us);
        self.connects = later;
        for (_, a, b) in due {
            self.complete_connect(a, b);
        }
        // Advertisements heard by scanning phones.
        let n = self.phones.len();
        for scanner in 0..n {
            if !self.phones[scanner].scanning {
                continue;
            }
            for adv in 0..n {
                if adv == scanner || !self.range[scanner][adv] {
                    continue;
                }
                let Some(a) = self.phones[adv].advert.clone() else {
                    continue;
                };
                let next = self.next_adv.entry((adv, scanner)).or_insert(0);
                if *next > now_us {
                    continue;
                }
                let jitter = self.rng.random_range(0..10_000u64);
                *next = now_us + self.radio.adv_interval_ms * 1000 + jitter;
                let name_only = self.phones[adv].name_only;
                let p = &mut self.phones[scanner];
                if name_only {
                    p.hub
                        .advertisement(&handle(adv), None, Some(&a.local_name), now_ms);
                } else {
                    p.hub
                        .advertisement(&handle(adv), Some(&a.service_data), None, now_ms);
                }
            }
        }
        self.apply_commands();
        self.move_values(now_us);
        self.apply_commands();
        for (i, p) in self.phones.iter_mut().enumerate() {
            while let Some(e) = p.hub.poll_event() {
                let HubEvent::SessionEnded { error, .. } = &e;
                if error.is_none() {
                    self.stats.sessions_finished += 1;
                } else {
                    self.stats.sessions_failed += 1;
                }
                self.ended.push((i, e));
            }
        }
    }

    fn move_values(&mut self, now_us: u64) {
        let now_ms = now_us / 1000;
        let ids: Vec<LinkId> = self.links.keys().copied().collect();
        for id in ids {
            let Some(l) = self.links.get(&id) else {
                continue;
            };
            if now_us >= l.drop_at_us {
                self.stats.drops += 1;
                self.take_down(id);
                continue;
            }
            // Deliveries.
            while let Some(l) = self.links.get_mut(&id) {
                let Some(&(at, to, _)) = l.in_flight.front() else {
                    break;
                };
                if at > now_us {
                    break;
                }
                let (_, _, value) = l.in_flight.pop_front().unwrap_or((at, to, Vec::new()));
                l.more = true;
                let phone = l.ends[to];
                let p = &mut self.phones[phone];
                p.hub.received(id, &value, now_ms, &mut p.store);
            }
            let Some(l) = self.links.get(&id) else {
                continue;
            };
            if l.closing {
                if l.in_flight.is_empty() {
                    self.take_down(id);
                }
                continue;
            }
            // Sends within the shared throughput.
            while let Some(l) = self.links.get_mut(&id) {
                if l.busy_until_us > now_us || l.closing {
                    break;
                }
                let mut sent = None;
                for k in 0..2 {
                    let side = (l.turn + k) % 2;
                    let phone = l.ends[side];
                    let p = &mut self.phones[phone];
                    if let Some(v) = p.hub.poll_value(id, &mut p.store) {
                        sent = Some((side, v));
                        break;
                    }
                }
                let Some((side, v)) = sent else {
                    l.more = false;
                    break;
                };
                l.turn = 1 - side;
                l.more = true;
                let cost = (v.len() as u64 * 1_000_000).div_ceil(self.radio.bytes_per_s);
                l.busy_until_us = l.busy_until_us.max(now_us) + cost;
                self.stats.value_bytes += v.len() as u64;
                let arrive = l.busy_until_us + self.radio.latency_ms * 1000;
                l.in_flight.push_back((arrive, 1 - side, v));
            }
        }
    }

    fn apply_commands(&mut self) {
        let now_us = self.now_us;
        for i in 0..self.phones.len() {
            while let Some(c) = self.phones[i].hub.poll_command() {
                match c {
                    BleCommand::Scan(on) => self.phones[i].scanning = on,
                    BleCommand::Advertise(a) => self.phones[i].advert = a,
                    BleCommand::Connect { handle } => match phone_of(&handle) {
                        Some(j) => {
                            self.connects
                                .push((now_us + self.radio.connect_ms * 1000, i, j))
                        }
                        None => {
                            let now_ms = self.now_ms();
                            self.phones[i].hub.connect_failed(&handle, now_ms);
                        }
                    },
                    BleCommand::Disconnect { link } => {
                        if let Some(l) = self.links.get_mut(&link) {
                            l.closing = true;
                        }
                    }
                }
            }
        }
    }

    fn complete_connect(&mut self, a: usize, b: usize) {
        let now_ms = self.now_ms();
        let count =
            |w: &World<S>, p: usize| w.links.values().filter(|l| l.ends.contains(&p)).count();
        let ok = self.range[a][b]
            && self.phones[b].advert.is_some()
            && count(self, a) < self.radio.platform_max_links
            && count(self, b) < self.radio.platform_max_links;
        if !ok {
            self.stats.connect_failures += 1;
            let p = &mut self.phones[a];
            p.hub.connect_failed(&handle(b), now_ms);
            return;
        }
        let id = self.next_link.take();
        let mtu = self.phones[a].max_mtu.min(self.phones[b].max_mtu);
        let drop_at_us = if self.radio.drops_per_min > 0.0 {
            // Exponential time to the next loss.
            let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
            let mean_us = 60e6 / self.radio.drops_per_min;
            self.now_us + (-u.ln() * mean_us) as u64
        } else {
            u64::MAX
        };
        self.links.insert(
            id,
            SimLink {
                ends: [a, b],
                busy_until_us: self.now_us,
                turn: 0,
                more: true,
                in_flight: VecDeque::new(),
                drop_at_us,
                closing: false,
            },
        );
        self.stats.links_up += 1;
        self.stats.first_link_ms.get_or_insert(now_ms);
        self.phones[a]
            .hub
            .link_up(id, &handle(b), Role::Central, mtu, now_ms);
        self.phones[b]
            .hub
            .link_up(id, &handle(a), Role::Peripheral, mtu, now_ms);
        let pair = self.links_between(a, b).len();
        self.stats.max_parallel_pair_links = self.stats.max_parallel_pair_links.max(pair);
        let most = (0..self.phones.len())
            .map(|p| count(self, p))
            .max()
            .unwrap_or(0);
        self.stats.max_links_per_phone = self.stats.max_links_per_phone.max(most);
    }

    fn take_down(&mut self, id: LinkId) {
        let Some(l) = self.links.remove(&id) else {
            return;
        };
        let now_ms = self.now_ms();
        for p in l.ends {
            let p = &mut self.phones[p];
            p.hub.link_down(id, now_ms, &mut p.store);
        }
    }

    fn next_event_us(&self) -> u64 {
        let mut next = u64::MAX;
        for p in &self.phones {
            if let Some(t) = p.hub.poll_timeout() {
                next = next.min(t.saturating_mul(1000));
            }
        }
        for (at, _, _) in &self.connects {
            next = next.min(*at);
        }
        for l in self.links.values() {
            if let Some((at, _, _)) = l.in_flight.front() {
                next = next.min(*at);
            }
            if l.more && !l.closing {
                next = next.min(l.busy_until_us);
            }
            next = next.min(l.drop_at_us);
        }
        let n = self.phones.len();
        for s in (0..n).filter(|&s| self.phones[s].scanning) {
            for a in
                (0..n).filter(|&a| a != s && self.range[s][a] && self.phones[a].advert.is_some())
            {
                next = next.min(self.next_adv.get(&(a, s)).copied().unwrap_or(0));
            }
        }
        next
    }
}
