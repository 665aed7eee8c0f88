//! Scenarios: who is where when (as contacts) and who writes what to whom.
//!
//! A [`Scenario`] is everything the engine needs besides the routing policy:
//!
//! ```text
//! roles:    Vec<Role>         one per node; node ids are indices
//! trace:    Trace             Ble / Lan / Uplink contacts, sorted by start,
//!                             trace.nodes == roles.len(), trace.end == duration
//! groups:   Vec<Vec<u32>>     chat groups (friend groups, households), Persons
//! channel:  Vec<u32>          members of the one public channel (may be empty)
//! messages: Vec<MessageSpec>  sorted by `at`; senders are Persons
//! duration: f64               seconds
//! ```
//!
//! Built-in scenarios ([`festival`], [`village`], [`city`], or by name with
//! [`by_name`]) and replays of a recorded trace ([`from_trace`]) all take
//! [`ScenarioParams`]: a seed plus optional overrides of each default.
//! Everything is drawn from seeded ChaCha8 streams and sorted before it is
//! returned, so one seed gives one scenario, bit for bit.
//!
//! Conventions: Persons come first (ids `0..people`), then gateways, then
//! the relay (always the last node when there is one). Gateways are
//! uplinked infrastructure (the festival's info point, the village bus,
//! the city's fixed gateways); the relay stands for the internet and has
//! `Uplink` contacts with each gateway while that gateway is online, and no
//! other contacts.

mod city;
pub mod contacts;
mod festival;
pub mod mobility;
pub mod rng;
mod village;

use thiserror::Error;

use crate::trace::{Contact, LinkKind, Trace};
use crate::workload;

pub use city::city;
pub use festival::festival;
pub use village::village;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A person with a phone: writes and reads messages.
    Person,
    /// Uplinked infrastructure (info point, bus, fixed gateway): carries
    /// envelopes between the mesh and the relay, writes nothing.
    Gateway,
    /// The internet relay: hands envelopes between uplinked gateways.
    Relay,
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// One person, by node id.
    Direct(u32),
    /// Every member of a group, by index into [`Scenario::groups`].
    Group(u32),
    /// Every member of the public channel.
    Channel,
}

/// One message the workload writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageSpec {
    /// When it is written, seconds.
    pub at: f64,
    /// The writer (a Person).
    pub from: u32,
    /// Who it is for.
    pub to: Target,
    /// Plaintext size in bytes.
    pub size: usize,
    /// Seconds after `at` it may be dropped.
    pub ttl: f64,
}

/// A complete simulation input: nodes, contacts and workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// `festival`, `village`, `city` or `trace`.
    pub name: String,
    /// One role per node; node ids are indices.
    pub roles: Vec<Role>,
    /// All contacts, sorted by start; `trace.nodes == roles.len()`.
    pub trace: Trace,
    /// Chat groups (friend groups, households); members are Persons.
    pub groups: Vec<Vec<u32>>,
    /// Members of the one public channel (may be empty).
    pub channel: Vec<u32>,
    /// The workload, sorted by `at`; senders are Persons.
    pub messages: Vec<MessageSpec>,
    /// Simulated time, seconds.
    pub duration: f64,
}

impl Scenario {
    /// Node ids of the Persons, ascending.
    pub fn persons(&self) -> Vec<u32> {
        self.ids_of(Role::Person)
    }

    /// Node ids with `role`, ascending.
    pub fn ids_of(&self, role: Role) -> Vec<u32> {
        (0..self.roles.len() as u32)
            .filter(|&i| self.roles[i as usize] == role)
            .collect()
    }

    /// How many contacts of `kind` the trace holds.
    pub fn count(&self, kind: LinkKind) -> usize {
        self.trace
            .contacts
            .iter()
            .filter(|c| c.kind == kind)
            .count()
    }
}

/// Overrides of a scenario's defaults; `None` keeps the default.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScenarioParams {
    /// Seeds every random choice.
    pub seed: u64,
    /// Number of Persons.
    pub people: Option<u32>,
    /// Simulated seconds.
    pub duration_s: Option<f64>,
    /// Total messages in the workload.
    pub messages: Option<u32>,
    /// Message time to live, seconds.
    pub ttl_s: Option<f64>,
    /// Plaintext size range `(min, max)`, bytes, inclusive.
    pub msg_size: Option<(usize, usize)>,
    /// BLE range, metres.
    pub ble_range_m: Option<f64>,
    /// Seconds between position samples.
    pub step_s: Option<f64>,
    /// Shortest BLE or LAN contact kept, seconds.
    pub min_contact_s: Option<f64>,
}

impl ScenarioParams {
    /// A small variant of built-in scenario `name` for tests: the same
    /// model with fewer people over less time (festival 120 people for
    /// 2 h, village 48 for a day, city 160 for 3 h), generated in well
    /// under a second even in a debug build.
    pub fn small(name: &str, seed: u64) -> Result<Self, ScenarioError> {
        let (people, hours) = match name {
            "festival" => (120, 2.0),
            "village" => (48, 24.0),
            "city" => (160, 3.0),
            other => {
                return Err(ScenarioError::UnknownScenario(
                    other.chars().take(40).collect(),
                ));
            }
        };
        Ok(ScenarioParams {
            seed,
            people: Some(people),
            duration_s: Some(hours * 3600.0),
            ..Default::default()
        })
    }
}

/// Why a scenario could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScenarioError {
    /// No scenario has this name.
    #[error("unknown scenario {0:?}: expected festival, village or city")]
    UnknownScenario(String),
    /// A replayed trace is too large or has a malformed contact.
    #[error("unusable trace: {0}")]
    BadTrace(String),
    /// A parameter is out of its valid range.
    #[error("bad parameter {name}: {reason}")]
    BadParam {
        /// The parameter (as in [`ScenarioParams`]).
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The built-in scenario called `name` (`festival`, `village`, `city`).
pub fn by_name(name: &str, p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    match name {
        "festival" => festival(p),
        "village" => village(p),
        "city" => city(p),
        other => Err(ScenarioError::UnknownScenario(
            other.chars().take(40).collect(),
        )),
    }
}

/// Names accepted by [`by_name`].
pub const NAMES: [&str; 3] = ["festival", "village", "city"];

/// A recorded trace with a synthetic workload: `messages` (default 200)
/// direct messages between random pairs of nodes that appear in the trace,
/// written uniformly over its first 90 %, `msg_size` (default 20–300 B),
/// `ttl_s` (default one day). Every node is a Person; there are no groups
/// and no channel. `duration_s` may extend the run past the trace's end
/// (never shorten it). Mobility parameters (people, range, step, minimum
/// contact) do not apply and are rejected, as are traces with more than
/// a million nodes or malformed contacts (possible in hand-built ones).
pub fn from_trace(mut trace: Trace, p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    if p.people.is_some()
        || p.ble_range_m.is_some()
        || p.step_s.is_some()
        || p.min_contact_s.is_some()
    {
        return Err(bad(
            "people/ble_range_m/step_s/min_contact_s",
            "a recorded trace fixes who meets whom",
        ));
    }
    let defaults = Defaults {
        people: trace.nodes,
        duration: trace.end,
        messages: 200,
        ttl: 86_400.0,
        range: 0.0,
        step: 1.0,
        min_contact: 0.0,
    };
    let v = Resolved::new(p, &defaults)?;
    check_trace(&trace)?;
    contacts::sort_contacts(&mut trace.contacts);
    let duration = p.duration_s.map_or(trace.end, |d| d.max(trace.end));
    let mut active = vec![false; trace.nodes as usize];
    for c in &trace.contacts {
        for n in [c.a, c.b] {
            if let Some(slot) = active.get_mut(n as usize) {
                *slot = true;
            }
        }
    }
    let nodes: Vec<u32> = (0..trace.nodes).filter(|&n| active[n as usize]).collect();
    let messages = workload::random_direct(
        v.seed,
        &nodes,
        v.messages,
        (0.0, 0.9 * trace.end),
        v.style(),
    );
    Ok(Scenario {
        name: "trace".into(),
        roles: vec![Role::Person; trace.nodes as usize],
        trace: Trace {
            end: duration,
            ..trace
        },
        groups: Vec::new(),
        channel: Vec::new(),
        messages,
        duration,
    })
}

/// The most nodes a replayed trace may have: every node costs the engine
/// a whole Pollen node.
pub const MAX_TRACE_NODES: u32 = 1_000_000;

fn check_trace(trace: &Trace) -> Result<(), ScenarioError> {
    if trace.nodes > MAX_TRACE_NODES {
        return Err(ScenarioError::BadTrace(format!(
            "{} nodes, more than the {MAX_TRACE_NODES} supported",
            trace.nodes
        )));
    }
    if !trace.end.is_finite() || trace.end < 0.0 {
        return Err(ScenarioError::BadTrace(format!("end time {}", trace.end)));
    }
    for c in &trace.contacts {
        let times_ok =
            c.start.is_finite() && c.end.is_finite() && 0.0 <= c.start && c.start <= c.end;
        if c.a >= c.b || c.b >= trace.nodes || !times_ok {
            return Err(ScenarioError::BadTrace(format!("malformed contact {c:?}")));
        }
    }
    Ok(())
}

/// A scenario's defaults, before [`ScenarioParams`] override them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Defaults {
    pub people: u32,
    pub duration: f64,
    pub messages: u32,
    pub ttl: f64,
    pub range: f64,
    pub step: f64,
    pub min_contact: f64,
}

/// Parameters after defaults and validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub seed: u64,
    pub people: u32,
    pub duration: f64,
    pub messages: u32,
    /// Whether `messages` was given: scenarios then hit it exactly rather
    /// than scaling their default with people and duration.
    pub messages_given: bool,
    pub ttl: f64,
    pub size: (usize, usize),
    pub range: f64,
    pub step: f64,
    pub min_contact: f64,
}

/// Upper bounds that keep a typo from asking for days of computation.
const MAX_PEOPLE: u32 = 100_000;
const MAX_DURATION: f64 = 30.0 * 86_400.0;
const MAX_MESSAGES: u32 = 10_000_000;
const MAX_SIZE: usize = 1 << 20;

impl Resolved {
    pub(crate) fn new(p: &ScenarioParams, d: &Defaults) -> Result<Self, ScenarioError> {
        let people = p.people.unwrap_or(d.people);
        if !(2..=MAX_PEOPLE).contains(&people) && p.people.is_some() {
            return Err(bad("people", format!("must be from 2 to {MAX_PEOPLE}")));
        }
        let duration = p.duration_s.unwrap_or(d.duration);
        if !(duration > 0.0 && duration <= MAX_DURATION) && p.duration_s.is_some() {
            return Err(bad(
                "duration_s",
                format!("must be above 0 and at most {MAX_DURATION} s"),
            ));
        }
        let messages = p.messages.unwrap_or(d.messages);
        if messages > MAX_MESSAGES {
            return Err(bad("messages", format!("must be at most {MAX_MESSAGES}")));
        }
        let ttl = p.ttl_s.unwrap_or(d.ttl);
        if ttl.is_nan() || ttl <= 0.0 {
            return Err(bad("ttl_s", "must be above 0 (inf for no expiry)"));
        }
        let size = p.msg_size.unwrap_or((20, 300));
        if !(1 <= size.0 && size.0 <= size.1 && size.1 <= MAX_SIZE) {
            return Err(bad(
                "msg_size",
                format!("must be MIN-MAX with 1 <= MIN <= MAX <= {MAX_SIZE}"),
            ));
        }
        let range = p.ble_range_m.unwrap_or(d.range);
        if p.ble_range_m.is_some() && !(range > 0.0 && range <= 1000.0) {
            return Err(bad("ble_range_m", "must be above 0 and at most 1000 m"));
        }
        let step = p.step_s.unwrap_or(d.step);
        if p.step_s.is_some() && !(0.1..=600.0).contains(&step) {
            return Err(bad("step_s", "must be from 0.1 to 600 s"));
        }
        let min_contact = p.min_contact_s.unwrap_or(d.min_contact);
        if p.min_contact_s.is_some() && !(0.0..=3600.0).contains(&min_contact) {
            return Err(bad("min_contact_s", "must be from 0 to 3600 s"));
        }
        Ok(Resolved {
            seed: p.seed,
            people,
            duration,
            messages,
            messages_given: p.messages.is_some(),
            ttl,
            size,
            range,
            step,
            min_contact,
        })
    }

    /// The default workload size scaled to this run's people and duration,
    /// unless a size was given.
    pub(crate) fn scaled_messages(&self, d: &Defaults) -> u32 {
        if self.messages_given {
            return self.messages;
        }
        let scale = f64::from(self.people) / f64::from(d.people) * (self.duration / d.duration);
        (f64::from(d.messages) * scale).round() as u32
    }

    /// How messages are written.
    pub(crate) fn style(&self) -> workload::Style {
        workload::Style {
            size: self.size,
            ttl: self.ttl,
        }
    }

    /// The sampling settings for mobility scenarios: gaps of up to three
    /// samples are bridged.
    pub(crate) fn sampling(&self) -> contacts::SampleConfig {
        contacts::SampleConfig {
            step: self.step,
            range: self.range,
            merge_gap: 3.0 * self.step,
            min_length: self.min_contact,
            duration: self.duration,
        }
    }
}

fn bad(name: &'static str, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::BadParam {
        name,
        reason: reason.into(),
    }
}

/// Random-stream numbers, one per part of a scenario.
pub(crate) mod stream {
    pub const LAYOUT: u64 = 1;
    pub const MOBILITY: u64 = 2;
    pub const SOCIAL: u64 = 3;
    pub const WORKLOAD: u64 = 4;
}

/// Puts a scenario together: appends the uplink contacts of each gateway
/// (with the relay, the last node), sorts everything and the messages.
pub(crate) fn assemble(
    name: &str,
    roles: Vec<Role>,
    mut contacts: Vec<Contact>,
    groups: Vec<Vec<u32>>,
    channel: Vec<u32>,
    mut messages: Vec<MessageSpec>,
    duration: f64,
) -> Scenario {
    contacts::sort_contacts(&mut contacts);
    workload::sort_messages(&mut messages);
    Scenario {
        name: name.into(),
        trace: Trace {
            contacts,
            nodes: roles.len() as u32,
            end: duration,
        },
        roles,
        groups,
        channel,
        messages,
        duration,
    }
}

#[cfg(test)]
mod tests;
