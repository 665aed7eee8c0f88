//! The discrete-event engine: virtual time, contacts coming and going, real
//! core nodes syncing over simulated links, and the record of what arrived
//! when. Same scenario, config and seed: same outcome, event for event.

mod attach;
mod clock;
pub(crate) mod config;
mod connect;
mod exchange;
mod link;
mod node;
mod record;
mod setup;

pub use crate::metrics::{AttachmentFigures, RunStats};
pub use clock::SimClock;
pub use config::{AttachmentLoad, SimConfig};
pub use link::LinkModel;
pub use record::recipients;

use crate::adversary::{self, AdversaryKind};
use crate::metrics::Outcome;
use crate::scenario::Scenario;
use crate::trace::LinkKind;
use link::Link;
use node::SimNode;
use pollen_node::neighbours::{Cadence, Schedule};
use pollen_proto::envelope::{Commitment, EnvelopeId};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    ContactUp(usize),
    ContactDown(usize),
    Send(usize),
    Connect(u32, u32),
    Open(u32, u32, KindIx),
    Wake(u64),
    Nudge(u32),
    Flood(u32),
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
struct Pair {
    /// Contacts up, per link kind.
    up: [u32; 3],
    /// The live link, or a connection under way.
    link: Option<u64>,
    connecting: bool,
    /// When the pair syncs next: the nodes' own rule (both ends keep the
    /// same schedule of each other, since both see the same sessions).
    cadence: Cadence,
    /// Node versions both sides had when they last synced in full.
    synced: (u64, u64),
}

impl Pair {
    fn new(now: u64, schedule: Schedule) -> Pair {
        Pair {
            up: [0; 3],
            link: None,
            connecting: false,
            cadence: Cadence::new(now, schedule),
            synced: (0, 0),
        }
    }

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
    commitment: Commitment,
    /// Its expiry in unix seconds, from its header.
    expires_at: u64,
}

struct LiveLink {
    link: Link,
    kind: LinkKind,
    /// Versions at the start, and version bumps this link caused.
    start_versions: (u64, u64),
    own_bumps: (u64, u64),
    /// When the link is next due to run; an earlier wake (a local write)
    /// replaces it, and a wake at another time is stale.
    wake: Option<u64>,
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
    env_msg: HashMap<EnvelopeId, Written>,
    delivered: HashMap<(usize, u32), (f64, bool)>,
    peak: Vec<u64>,
    /// Each node's stored bytes as of its `version` (a store that has not
    /// changed is not asked again).
    usage: Vec<Option<(u64, u64)>>,
    storage: Vec<(f64, f64)>,
    stats: RunStats,
    end_ms: u64,
    /// The hostile phones (`crate::adversary`): their messages and their
    /// stores are left out of the figures.
    hostile: BTreeSet<u32>,
    progress: &'a mut dyn FnMut(Progress),
    /// Per message, the size of its attachment if it carries one.
    file_sizes: Vec<Option<usize>>,
    /// Attachments sent, to check at the end.
    files: Vec<attach::File>,
    attachments: AttachmentFigures,
}

/// How far a run has come, reported at every storage sample (each
/// `SimConfig::sample_s` of simulated time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Simulated seconds done.
    pub sim_s: f64,
    /// Simulated seconds the run lasts.
    pub duration_s: f64,
    /// Sessions opened so far.
    pub sessions: u64,
    /// Envelope copies handed over so far.
    pub transmissions: u64,
}

/// Runs `policy` over `sc` and returns everything the metrics need.
pub fn run(sc: &Scenario, cfg: &SimConfig) -> Result<Outcome, SimError> {
    run_with_progress(sc, cfg, &mut |_| {})
}

/// [`run`], telling `progress` how far it has come as it goes (the
/// simulator itself prints nothing; `pollen sim` draws a bar from this).
pub fn run_with_progress(
    sc: &Scenario,
    cfg: &SimConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, SimError> {
    let wall = std::time::Instant::now();
    // Keys, envelopes and handshakes from the seed: a run repeats bit for bit.
    let _seeded = pollen_proto::random::seed_thread_for_simulation(cfg.seed);
    let clock = SimClock::new(EPOCH_S * 1000);
    let hostile = cfg
        .adversary
        .map(|a| a.pick(&sc.roles, cfg.seed))
        .unwrap_or_default();
    let nodes = setup::nodes(sc, cfg, &clock, &hostile)?;
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
        hostile,
        progress,
        file_sizes: cfg
            .attachments
            .map(|load| attach::draw(sc.messages.len(), &load, cfg.seed))
            .unwrap_or_default(),
        files: Vec::new(),
        attachments: AttachmentFigures::default(),
    };
    for (i, c) in sc.trace.contacts.iter().enumerate() {
        e.push(secs_ms(c.start), Ev::ContactUp(i));
        e.push(secs_ms(c.end), Ev::ContactDown(i));
    }
    for (i, m) in sc.messages.iter().enumerate() {
        e.push(secs_ms(m.at), Ev::Send(i));
    }
    e.push(0, Ev::Sample);
    if cfg
        .adversary
        .is_some_and(|a| a.kind == AdversaryKind::Flood)
        && !cfg.adversary_baseline
    {
        for n in e.hostile.clone() {
            e.push(0, Ev::Flood(n));
        }
    }
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
    e.stats.summary_bytes = e.nodes.iter().map(|n| n.summary_bytes).sum();
    let attachments = e.cfg.attachments.map(|_| e.attachment_figures());
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
        hostile: e.hostile.len() as u32,
        duration_s: sc.duration,
        wall_s: wall.elapsed().as_secs_f64(),
        attachments,
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
                let schedule = self.cfg.schedule(c.kind);
                self.pairs
                    .entry(key)
                    .or_insert_with(|| Pair::new(now, schedule))
                    .up[kind_ix(c.kind)] += 1;
                self.neighbours[c.a as usize].insert(c.b);
                self.neighbours[c.b as usize].insert(c.a);
                self.try_connect(key, now);
            }
            Ev::ContactDown(i) => self.contact_down(i, now),
            Ev::Send(i) => self.send(i, now),
            Ev::Connect(a, b) => self.try_connect((a, b), now),
            Ev::Open(a, b, k) => self.open((a, b), KINDS[k as usize], now),
            Ev::Wake(id) => {
                if self.links.get(&id).is_some_and(|l| l.wake == Some(now)) {
                    self.step(id, now);
                }
            }
            Ev::Nudge(n) => {
                self.nudge_pending[n as usize] = false;
                let near: Vec<u32> = self.neighbours[n as usize].iter().copied().collect();
                for m in near {
                    self.try_connect(ordered(n, m), now);
                }
            }
            Ev::Flood(n) => {
                self.flood(n, now);
                let next = now + adversary::FLOOD_EVERY_S * 1000;
                if next <= self.end_ms {
                    self.push(next, Ev::Flood(n));
                }
            }
            Ev::Sample => {
                self.sample(now);
                (self.progress)(Progress {
                    sim_s: now as f64 / 1000.0,
                    duration_s: self.sc.duration,
                    sessions: self.stats.sessions,
                    transmissions: self.stats.transmissions,
                });
                let next = now + secs_ms(self.cfg.sample_s).max(1);
                if next <= self.end_ms {
                    self.push(next, Ev::Sample);
                }
            }
        }
    }

    fn send(&mut self, i: usize, now: u64) {
        let m = &self.sc.messages[i];
        let from = m.from;
        let text = setup::text(i, m.size);
        let node = &mut self.nodes[from as usize];
        node.node.set_ttl(m.ttl.max(0.0) as u64);
        let sent = match (self.file_sizes.get(i).copied().flatten(), m.to) {
            (Some(size), _) => self.send_with_file(i, size, &text),
            (None, crate::scenario::Target::Direct(to)) => {
                node.node.send_direct(&setup::alias(to), &text)
            }
            (None, crate::scenario::Target::Group(g)) => {
                node.node.send_group(&setup::group_name(g), &text)
            }
            (None, crate::scenario::Target::Channel) => {
                node.node.send_channel(setup::CHANNEL, &text)
            }
        };
        let node = &mut self.nodes[from as usize];
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
                self.hand_to_live_sessions(from, now);
                self.nudge(from, now, 0);
            }
            Err(e) => {
                tracing::debug!(message = i, error = %e, "send failed");
                self.stats.send_failures += 1;
            }
        }
    }

    /// A message `n` just wrote goes into the sessions it is running now,
    /// as a phone's runtime hands it to its live links: it does not wait
    /// for a long transfer to end.
    fn hand_to_live_sessions(&mut self, n: u32, now: u64) {
        let live: Vec<u64> = self
            .links
            .iter()
            .filter(|(_, l)| l.link.ends.contains(&n))
            .map(|(id, _)| *id)
            .collect();
        for id in live {
            let Some(l) = self.links.get_mut(&id) else {
                continue;
            };
            let side = usize::from(l.link.ends[1] == n);
            let peer = l.link.ends[1 - side];
            let peer_role = self.nodes[peer as usize].role;
            let node = &mut self.nodes[n as usize];
            node.peer = Some((peer, peer_role));
            let queued = l.link.sessions[side].take_news(node);
            node.peer = None;
            if queued {
                l.wake = Some(now);
                self.push(now, Ev::Wake(id));
            }
        }
    }

    /// A flooder writes a batch of junk and tells its neighbours.
    fn flood(&mut self, n: u32, now: u64) {
        let now_s = EPOCH_S + now / 1000;
        let junk = adversary::junk(now_s, 86_400, adversary::FLOOD_BATCH);
        let node = &mut self.nodes[n as usize];
        let items: Vec<(Vec<u8>, Option<EnvelopeId>)> =
            junk.iter().map(|(b, id)| (b.clone(), Some(*id))).collect();
        if let Err(e) = node.node.ingest_envelopes(&items, "flood") {
            tracing::debug!(node = n, error = %e, "flood batch refused");
            return;
        }
        for (_, id) in junk {
            node.wrote(id, false);
        }
        self.nudge(n, now, 0);
    }

    fn nudge(&mut self, n: u32, now: u64, delay: u64) {
        if !self.nudge_pending[n as usize] {
            self.nudge_pending[n as usize] = true;
            self.push(now + delay, Ev::Nudge(n));
        }
    }
}
