//! The discrete-event engine: virtual time, contacts coming and going, real
//! core nodes syncing over simulated links, and the record of what arrived
//! when. Same scenario, config and seed: same outcome, event for event.

mod clock;
mod link;
mod node;
mod setup;

pub use clock::SimClock;
pub use link::LinkModel;

use crate::metrics::{Outcome, Target};
use crate::oracle::Oracle;
use crate::policy::Policy;
use crate::scenario::{Role, Scenario};
use crate::trace::LinkKind;
use link::Link;
use node::SimNode;
use pollen_proto::sync::session::{Offer, Session, SessionConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use thiserror::Error;

/// Unix time of the simulation's second zero (a fixed date, so routing tags
/// and expiry days are the same on every run).
pub const EPOCH_S: u64 = 1_767_225_600;

/// Why a run could not start.
#[derive(Debug, Error)]
pub enum SimError {
    /// A node could not be created or set up.
    #[error("setting up node {node}: {reason}")]
    Setup {
        /// The node.
        node: u32,
        /// What failed.
        reason: String,
    },
}

/// How a run behaves apart from the scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SimConfig {
    /// The routing policy every node runs.
    #[serde(serialize_with = "as_name")]
    pub policy: Policy,
    /// Seeds set-up delays and drops.
    pub seed: u64,
    /// Bytes of envelopes each phone may hold.
    pub store_cap_bytes: u64,
    /// Bluetooth LE between phones.
    pub ble: LinkModel,
    /// A shared Wi-Fi hotspot.
    pub lan: LinkModel,
    /// A gateway's internet link to the relay.
    pub uplink: LinkModel,
    /// Least time between two sessions of the same pair, in seconds.
    pub resync_s: f64,
    /// How often storage is sampled, in seconds.
    pub sample_s: f64,
    /// How long a node that got something new waits before telling its
    /// neighbours (coalescing bursts), in seconds.
    pub nudge_s: f64,
}

fn as_name<S: serde::Serializer>(p: &Policy, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

impl SimConfig {
    /// The defaults: 50 MB per phone, BLE with a cap of 7 links at
    /// ~20 KB/s in 180-byte frames, a fast hotspot, drops now and then.
    pub fn new(policy: Policy, seed: u64) -> SimConfig {
        SimConfig {
            policy,
            seed,
            store_cap_bytes: 50_000_000,
            ble: LinkModel {
                bytes_per_s: 20_000,
                latency_ms: 15,
                setup_ms: 1_500,
                max_record: 180,
                mean_drop_s: 300.0,
                max_links: 7,
            },
            lan: LinkModel {
                bytes_per_s: 2_000_000,
                latency_ms: 5,
                setup_ms: 200,
                max_record: pollen_proto::sync::frame::MAX_RECORD,
                mean_drop_s: 0.0,
                max_links: 0,
            },
            uplink: LinkModel {
                bytes_per_s: 1_000_000,
                latency_ms: 60,
                setup_ms: 500,
                max_record: pollen_proto::sync::frame::MAX_RECORD,
                mean_drop_s: 0.0,
                max_links: 0,
            },
            resync_s: 10.0,
            sample_s: 60.0,
            nudge_s: 1.0,
        }
    }

    /// What the oracle assumes, as far as real sessions allow: no caps, no
    /// drops, no set-up time, unlimited storage and bandwidth.
    pub fn unlimited(policy: Policy, seed: u64) -> SimConfig {
        let free = LinkModel {
            bytes_per_s: 0,
            latency_ms: 0,
            setup_ms: 0,
            max_record: pollen_proto::sync::frame::MAX_RECORD,
            mean_drop_s: 0.0,
            max_links: 0,
        };
        SimConfig {
            store_cap_bytes: 1 << 40,
            ble: free,
            lan: free,
            uplink: free,
            resync_s: 0.0,
            nudge_s: 0.0,
            ..SimConfig::new(policy, seed)
        }
    }

    fn model(&self, kind: LinkKind) -> LinkModel {
        match kind {
            LinkKind::Ble => self.ble,
            LinkKind::Lan => self.lan,
            LinkKind::Uplink => self.uplink,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    ContactUp(usize),
    ContactDown(usize),
    Send(usize),
    Connect(u32, u32),
    Open(u32, u32, KindIx),
    Wake(u64),
    Nudge(u32),
    Sample,
}

type KindIx = u8;

fn kind_ix(k: LinkKind) -> usize {
    match k {
        LinkKind::Ble => 0,
        LinkKind::Lan => 1,
        LinkKind::Uplink => 2,
    }
}

const KINDS: [LinkKind; 3] = [LinkKind::Ble, LinkKind::Lan, LinkKind::Uplink];

/// Two nodes in range of each other.
#[derive(Default)]
struct Pair {
    /// Contacts up, per link kind.
    up: [u32; 3],
    /// The live link, or a connection under way.
    link: Option<u64>,
    connecting: bool,
    last_end_ms: Option<u64>,
    /// Node versions both sides had when they last synced in full.
    synced: (u64, u64),
}

impl Pair {
    fn best_kind(&self) -> Option<LinkKind> {
        // Fastest first.
        [LinkKind::Uplink, LinkKind::Lan, LinkKind::Ble]
            .into_iter()
            .find(|k| self.up[kind_ix(*k)] > 0)
    }
}

/// An envelope a node wrote for the workload.
#[derive(Clone, Copy)]
struct Written {
    /// Index of the message in the scenario.
    message: usize,
    /// Its delivery-proof commitment.
    commitment: [u8; 32],
    /// Its expiry in unix seconds, from its header.
    expires_at: u64,
}

struct LiveLink {
    link: Link,
    kind: LinkKind,
    /// Versions at the start, and version bumps this link caused.
    start_versions: (u64, u64),
    own_bumps: (u64, u64),
}

/// Counters of the run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunStats {
    /// Sessions opened.
    pub sessions: u64,
    /// Sessions cut by a drop or a contact ending.
    pub sessions_cut: u64,
    /// Sessions after which neither side held anything new.
    pub sessions_idle: u64,
    /// Meetings where neither side had anything the other lacked: no session run.
    pub sessions_skipped: u64,
    /// Connections refused for the per-phone cap (later retried).
    pub cap_waits: u64,
    /// Bytes written on all links.
    pub bytes: u64,
    /// Bytes of reconciliation messages (both ways, before framing).
    pub recon_bytes: u64,
    /// Delivery proofs handed over.
    pub proofs_sent: u64,
    /// Items received that the receiver already knew.
    pub duplicates: u64,
    /// Envelope copies handed over (every hop, recipients included).
    pub transmissions: u64,
    /// Messages the sender could not send (store refused).
    pub send_failures: u64,
}

struct Engine<'a> {
    sc: &'a Scenario,
    cfg: &'a SimConfig,
    clock: SimClock,
    nodes: Vec<SimNode>,
    queue: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    seq: u64,
    pairs: BTreeMap<(u32, u32), Pair>,
    neighbours: Vec<BTreeSet<u32>>,
    links: BTreeMap<u64, LiveLink>,
    next_link: u64,
    slots: Vec<[usize; 3]>,
    waiting: Vec<BTreeSet<u32>>,
    nudge_pending: Vec<bool>,
    rng: ChaCha8Rng,
    env_msg: HashMap<[u8; 32], Written>,
    delivered: HashMap<(usize, u32), (f64, bool)>,
    peak: Vec<u64>,
    /// Each node's stored bytes as of its `version` (a store that has not
    /// changed is not asked again).
    usage: Vec<Option<(u64, u64)>>,
    storage: Vec<(f64, f64)>,
    stats: RunStats,
    end_ms: u64,
}

/// Runs `policy` over `sc` and returns everything the metrics need.
pub fn run(sc: &Scenario, cfg: &SimConfig) -> Result<Outcome, SimError> {
    let wall = std::time::Instant::now();
    // Keys, envelopes and handshakes from the seed: a run repeats bit for bit.
    let _seeded = pollen_proto::random::seed_thread_for_simulation(cfg.seed);
    let clock = SimClock::new(EPOCH_S * 1000);
    let nodes = setup::nodes(sc, cfg, &clock)?;
    let n = nodes.len();
    let end_ms = (sc.duration * 1000.0).ceil() as u64;
    let mut e = Engine {
        sc,
        cfg,
        clock,
        nodes,
        queue: BinaryHeap::new(),
        seq: 0,
        pairs: BTreeMap::new(),
        neighbours: vec![BTreeSet::new(); n],
        links: BTreeMap::new(),
        next_link: 0,
        slots: vec![[0; 3]; n],
        waiting: vec![BTreeSet::new(); n],
        nudge_pending: vec![false; n],
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        env_msg: HashMap::new(),
        delivered: HashMap::new(),
        peak: vec![0; n],
        usage: vec![None; n],
        storage: Vec::new(),
        stats: RunStats::default(),
        end_ms,
    };
    for (i, c) in sc.trace.contacts.iter().enumerate() {
        e.push(secs_ms(c.start), Ev::ContactUp(i));
        e.push(secs_ms(c.end), Ev::ContactDown(i));
    }
    for (i, m) in sc.messages.iter().enumerate() {
        e.push(secs_ms(m.at), Ev::Send(i));
    }
    e.push(0, Ev::Sample);
    while let Some(Reverse((t, _, ev))) = e.queue.pop() {
        if t > e.end_ms {
            break;
        }
        e.clock.set(EPOCH_S * 1000 + t);
        e.handle(t, ev);
    }
    e.sample(e.end_ms);
    let targets = e.targets();
    let own_lost = e.own_lost();
    Ok(Outcome {
        scenario: sc.name.clone(),
        config: cfg.clone(),
        nodes: n as u32,
        messages: sc.messages.len() as u64,
        targets,
        stats: e.stats,
        peak_store_bytes: e.peak,
        storage: e.storage,
        own_lost,
        duration_s: sc.duration,
        wall_s: wall.elapsed().as_secs_f64(),
    })
}

fn secs_ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

fn ordered(a: u32, b: u32) -> (u32, u32) {
    if a < b { (a, b) } else { (b, a) }
}

/// Mutable access to two distinct nodes.
fn two(nodes: &mut [SimNode], a: u32, b: u32) -> (&mut SimNode, &mut SimNode) {
    let (a, b) = (a as usize, b as usize);
    if a < b {
        let (x, y) = nodes.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = nodes.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

impl Engine<'_> {
    fn push(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, ev)));
    }

    fn handle(&mut self, now: u64, ev: Ev) {
        match ev {
            Ev::ContactUp(i) => {
                let c = self.sc.trace.contacts[i];
                let key = ordered(c.a, c.b);
                self.pairs.entry(key).or_default().up[kind_ix(c.kind)] += 1;
                self.neighbours[c.a as usize].insert(c.b);
                self.neighbours[c.b as usize].insert(c.a);
                self.try_connect(key, now);
            }
            Ev::ContactDown(i) => self.contact_down(i, now),
            Ev::Send(i) => self.send(i, now),
            Ev::Connect(a, b) => self.try_connect((a, b), now),
            Ev::Open(a, b, k) => self.open((a, b), KINDS[k as usize], now),
            Ev::Wake(id) => self.step(id, now),
            Ev::Nudge(n) => {
                self.nudge_pending[n as usize] = false;
                let near: Vec<u32> = self.neighbours[n as usize].iter().copied().collect();
                for m in near {
                    self.try_connect(ordered(n, m), now);
                }
            }
            Ev::Sample => {
                self.sample(now);
                let next = now + secs_ms(self.cfg.sample_s).max(1);
                if next <= self.end_ms {
                    self.push(next, Ev::Sample);
                }
            }
        }
    }

    fn contact_down(&mut self, i: usize, now: u64) {
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

    fn send(&mut self, i: usize, now: u64) {
        let m = &self.sc.messages[i];
        let from = m.from;
        let text = setup::text(i, m.size);
        let node = &mut self.nodes[from as usize];
        node.node.set_ttl(m.ttl.max(0.0) as u64);
        let sent = match m.to {
            crate::scenario::Target::Direct(to) => node.node.send_direct(&setup::alias(to), &text),
            crate::scenario::Target::Group(g) => node.node.send_group(&setup::group_name(g), &text),
            crate::scenario::Target::Channel => node.node.send_channel(setup::CHANNEL, &text),
        };
        match sent {
            Ok(sent) => {
                node.wrote(sent.envelope, m.to == crate::scenario::Target::Channel);
                let (commitment, expires_at) = setup::commitment(&node.node, &sent.envelope);
                self.env_msg.insert(
                    sent.envelope,
                    Written {
                        message: i,
                        commitment,
                        expires_at,
                    },
                );
                self.note_usage(from);
                self.nudge(from, now, 0);
            }
            Err(e) => {
                tracing::debug!(message = i, error = %e, "send failed");
                self.stats.send_failures += 1;
            }
        }
    }

    fn nudge(&mut self, n: u32, now: u64, delay: u64) {
        if !self.nudge_pending[n as usize] {
            self.nudge_pending[n as usize] = true;
            self.push(now + delay, Ev::Nudge(n));
        }
    }

    fn try_connect(&mut self, key: (u32, u32), now: u64) {
        let (a, b) = key;
        let versions = (self.nodes[a as usize].news, self.nodes[b as usize].news);
        let Some(pair) = self.pairs.get(&key) else {
            return;
        };
        if pair.link.is_some() || pair.connecting || pair.synced == versions {
            return;
        }
        let Some(kind) = pair.best_kind() else {
            return;
        };
        if let Some(last) = pair.last_end_ms {
            let ready = last + secs_ms(self.cfg.resync_s);
            if ready > now {
                self.push(ready, Ev::Connect(a, b));
                return;
            }
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
        }
        let jitter = if model.setup_ms > 0 {
            self.rng.next_u64() % (model.setup_ms / 2 + 1)
        } else {
            0
        };
        self.push(now + model.setup_ms + jitter, Ev::Open(a, b, k as KindIx));
    }

    fn release(&mut self, key: (u32, u32), kind: LinkKind, now: u64) {
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

    fn open(&mut self, key: (u32, u32), kind: LinkKind, now: u64) {
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
            },
        );
        if let Some(p) = self.pairs.get_mut(&key) {
            p.connecting = false;
            p.link = Some(id);
        }
        self.stats.sessions += 1;
        self.step(id, now);
    }

    /// Runs a link at `now` until nothing more happens at this instant.
    fn step(&mut self, id: u64, now: u64) {
        let Some(live) = self.links.get_mut(&id) else {
            return;
        };
        let [a, b] = live.link.ends;
        let clock_ms = EPOCH_S * 1000 + now;
        if live.link.drop_at.is_some_and(|t| t <= now) {
            self.end_link(id, false, now);
            return;
        }
        let before = (self.nodes[a as usize].news, self.nodes[b as usize].news);
        let (na, nb) = two(&mut self.nodes, a, b);
        na.peer = Some((b, nb.role));
        nb.peer = Some((a, na.role));
        let link = &mut live.link;
        loop {
            let mut progressed = false;
            for side in 0..2 {
                let node: &mut SimNode = if side == 0 { &mut *na } else { &mut *nb };
                while let Some(bytes) = link.sessions[side].poll_transmit(node) {
                    if !bytes.is_empty() {
                        link.send(side, bytes, now);
                        progressed = true;
                    }
                }
            }
            for (from, to) in [(0usize, 1usize), (1, 0)] {
                let bytes = link.arrived(from, now);
                if bytes.is_empty() {
                    continue;
                }
                progressed = true;
                let node: &mut SimNode = if to == 0 { &mut *na } else { &mut *nb };
                link.sessions[to].handle_input(&bytes, clock_ms, node);
            }
            for side in 0..2 {
                if link.sessions[side]
                    .poll_timeout()
                    .is_some_and(|t| t <= clock_ms)
                {
                    let node: &mut SimNode = if side == 0 { &mut *na } else { &mut *nb };
                    link.sessions[side].handle_timeout(clock_ms, node);
                    progressed = true;
                }
                while link.sessions[side].poll_event().is_some() {}
            }
            if !progressed {
                break;
            }
        }
        // Copy bookkeeping rides along with the bytes.
        for (_, env, meta) in na.outgoing.drain(..) {
            nb.incoming.insert((a, env), meta);
        }
        for (_, env, meta) in nb.outgoing.drain(..) {
            na.incoming.insert((b, env), meta);
        }
        na.peer = None;
        nb.peer = None;
        let after = (na.news, nb.news);
        live.own_bumps.0 += after.0 - before.0;
        live.own_bumps.1 += after.1 - before.1;
        let opened_here = !na.opened.is_empty() || !nb.opened.is_empty();
        let closed = link.sessions.iter().all(|s| s.is_closed()) && link.drained();
        if opened_here {
            self.collect_deliveries(a, now);
            self.collect_deliveries(b, now);
        }
        let Some(link) = self.links.get(&id).map(|l| &l.link) else {
            return;
        };
        if closed {
            let ok = link.sessions.iter().all(|s| s.is_finished());
            self.end_link(id, ok, now);
            return;
        }
        let next = [
            link.next_arrival(),
            link.sessions[0]
                .poll_timeout()
                .map(|t| t.saturating_sub(EPOCH_S * 1000)),
            link.sessions[1]
                .poll_timeout()
                .map(|t| t.saturating_sub(EPOCH_S * 1000)),
            link.drop_at,
        ]
        .into_iter()
        .flatten()
        .min();
        match next {
            Some(t) => self.push(t.max(now + 1), Ev::Wake(id)),
            None => self.end_link(id, false, now),
        }
    }

    fn end_link(&mut self, id: u64, ok: bool, now: u64) {
        let Some(mut live) = self.links.remove(&id) else {
            return;
        };
        let [a, b] = live.link.ends;
        let (na, nb) = two(&mut self.nodes, a, b);
        if !ok {
            self.stats.sessions_cut += 1;
            na.peer = Some((b, nb.role));
            nb.peer = Some((a, na.role));
            live.link.sessions[0].link_lost(na);
            live.link.sessions[1].link_lost(nb);
            na.peer = None;
            nb.peer = None;
        }
        na.incoming.retain(|(f, _), _| *f != b);
        nb.incoming.retain(|(f, _), _| *f != a);
        self.stats.bytes += live.link.bytes[0] + live.link.bytes[1];
        for session in &live.link.sessions {
            let st = session.stats();
            self.stats.recon_bytes += st.recon_bytes;
            self.stats.proofs_sent += st.proofs_sent;
            self.stats.duplicates += st.duplicates;
        }
        if live.own_bumps == (0, 0) {
            self.stats.sessions_idle += 1;
        }
        let end_versions = (na.news, nb.news);
        // A side is in sync if nothing but this link changed it meanwhile.
        let synced = (
            if end_versions.0 == live.start_versions.0 + live.own_bumps.0 {
                end_versions.0
            } else {
                live.start_versions.0
            },
            if end_versions.1 == live.start_versions.1 + live.own_bumps.1 {
                end_versions.1
            } else {
                live.start_versions.1
            },
        );
        if let Some(p) = self.pairs.get_mut(&(a, b)) {
            p.link = None;
            p.last_end_ms = Some(now);
            if ok {
                p.synced = synced;
            }
        }
        self.collect_deliveries(a, now);
        self.collect_deliveries(b, now);
        self.note_usage(a);
        self.note_usage(b);
        self.release((a, b), live.kind, now);
        let delay = secs_ms(self.cfg.nudge_s);
        if live.own_bumps.0 > 0 {
            self.nudge(a, now, delay);
        }
        if live.own_bumps.1 > 0 {
            self.nudge(b, now, delay);
        }
        // Cut short, or something new arrived from elsewhere meanwhile:
        // this pair syncs again once it may.
        self.try_connect((a, b), now);
    }

    fn collect_deliveries(&mut self, n: u32, now: u64) {
        let node = &mut self.nodes[n as usize];
        self.stats.transmissions += std::mem::take(&mut node.received);
        for (env, via_relay) in node.opened.drain(..) {
            if let Some(&Written { message: m, .. }) = self.env_msg.get(&env) {
                self.delivered
                    .entry((m, n))
                    .or_insert((now as f64 / 1000.0, via_relay));
            }
        }
    }

    /// The bytes `n` stores now, noted towards its peak.
    fn note_usage(&mut self, n: u32) -> u64 {
        let i = n as usize;
        let version = self.nodes[i].version;
        if let Some((v, bytes)) = self.usage[i]
            && v == version
        {
            return bytes;
        }
        let bytes = match self.nodes[i].node.store().usage() {
            Ok(u) => u.bytes(),
            Err(e) => {
                tracing::debug!(node = n, error = %e, "usage failed");
                return 0;
            }
        };
        self.usage[i] = Some((version, bytes));
        self.peak[i] = self.peak[i].max(bytes);
        bytes
    }

    fn sample(&mut self, now: u64) {
        let mut max = 0u64;
        // Expired envelopes are never offered anyway; purging them is
        // housekeeping, done every ten samples.
        let purge = self.storage.len().is_multiple_of(10);
        for n in 0..self.nodes.len() {
            if self.nodes[n].role == Role::Person {
                if purge {
                    match self.nodes[n].node.expire() {
                        Ok(0) => {}
                        Ok(_) => self.usage[n] = None,
                        Err(e) => tracing::debug!(node = n, error = %e, "expiry failed"),
                    }
                }
                max = max.max(self.note_usage(n as u32));
            }
        }
        self.storage.push((now as f64 / 1000.0, max as f64));
    }

    fn targets(&self) -> Vec<Target> {
        let oracle = Oracle::new(&self.sc.trace);
        let mut out = Vec::new();
        for (i, m) in self.sc.messages.iter().enumerate() {
            let arrivals = oracle.arrivals(m.from, m.at, m.ttl);
            for r in recipients(self.sc, m) {
                let deadline = (m.at + m.ttl).min(self.sc.duration);
                out.push(Target {
                    message: i as u32,
                    recipient: r,
                    size: m.size as u64,
                    created_at: m.at,
                    oracle: arrivals.get(&r).copied().filter(|&t| t <= deadline),
                    delivered: self.delivered.get(&(i, r)).map(|d| d.0),
                    via_relay: self.delivered.get(&(i, r)).is_some_and(|d| d.1),
                    kind: match m.to {
                        crate::scenario::Target::Direct(_) => "direct",
                        crate::scenario::Target::Group(_) => "group",
                        crate::scenario::Target::Channel => "channel",
                    },
                });
            }
        }
        out
    }

    /// Own messages neither held, delivered nor expired: must stay zero.
    fn own_lost(&self) -> u64 {
        let now = EPOCH_S + self.end_ms / 1000;
        let mut lost = 0;
        for (env, w) in &self.env_msg {
            // The envelope's own expiry, in whole seconds as the node wrote
            // it: the store drops it then, which is not a loss.
            if w.expires_at <= now {
                continue;
            }
            let node = &self.nodes[self.sc.messages[w.message].from as usize].node;
            match node.store().envelope_state(env, &w.commitment) {
                Ok((held, _, proven)) if held || proven => {}
                _ => lost += 1,
            }
        }
        lost
    }
}

/// Who gets message `m`: its addressee, or every other member of its group
/// or of the channel.
pub fn recipients(sc: &Scenario, m: &crate::scenario::MessageSpec) -> Vec<u32> {
    use crate::scenario::Target as To;
    match m.to {
        To::Direct(r) => vec![r],
        To::Group(g) => sc
            .groups
            .get(g as usize)
            .map(|g| g.iter().copied().filter(|&r| r != m.from).collect())
            .unwrap_or_default(),
        To::Channel => sc
            .channel
            .iter()
            .copied()
            .filter(|&r| r != m.from)
            .collect(),
    }
}
