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
//! Built-in scenarios ([`festival`], [`village`], [`city`], [`social`], or by name with
//! [`by_name`]) and replays of a recorded trace ([`from_trace`]) all take
//! [`ScenarioParams`]: a seed plus optional overrides of each default.
//! Everything is drawn from seeded ChaCha8 streams and sorted before it is
//! returned, so one seed gives one scenario, bit for bit.
//!
//! Defaults (messages scale with people × duration unless given):
//!
//! ```text
//!               festival   village   city    social   trace
//! people        2,000      300       2,500   2,000    the trace's nodes
//! duration      6 h        3 days    12 h    2 days   the trace's end
//! messages      3,000      1,000     2,000   5,000    200
//! ttl           the event  2 days    12 h    1 day    1 day
//! msg_size      20-300 B (log-uniform) everywhere
//! ble_range_m   5 m        20 m      15 m    15 m     -
//! step_s        5 s        10 s      5 s     10 s     -
//! min_contact_s 30 s       30 s      30 s    30 s     -
//! ```
//!
//! Conventions: Persons come first (ids `0..people`), then gateways, then
//! the relay (always the last node when there is one). Gateways are
//! uplinked infrastructure (the festival's info point, the village bus,
//! the city's fixed gateways, the social city's powered squares); the relay stands for the internet and has
//! `Uplink` contacts with each gateway while that gateway is online, and no
//! other contacts.

mod city;
pub mod contacts;
mod festival;
pub mod mobility;
mod params;
mod replay;
pub mod rng;
mod social;
mod village;

use thiserror::Error;

use crate::trace::{Contact, LinkKind, Trace};
use crate::workload;
use rng::stream;

pub use crate::workload::{MessageSpec, Target};
pub use city::city;
pub use festival::festival;
pub use params::ScenarioParams;
pub(crate) use params::{Defaults, Resolved};
pub use replay::{MAX_TRACE_NODES, from_trace};
pub use social::social;
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

/// A complete simulation input: nodes, contacts and workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// `festival`, `village`, `city`, `social` or `trace`.
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
/// Why a scenario could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScenarioError {
    /// No scenario has this name.
    #[error("unknown scenario {0:?}: expected festival, village, city or social")]
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
/// The built-in scenario called `name` (`festival`, `village`, `city`,
/// `social`).
pub fn by_name(name: &str, p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    match name {
        "festival" => festival(p),
        "village" => village(p),
        "city" => city(p),
        "social" => social(p),
        other => Err(ScenarioError::UnknownScenario(
            other.chars().take(40).collect(),
        )),
    }
}

/// Names accepted by [`by_name`].
pub const NAMES: [&str; 4] = ["festival", "village", "city", "social"];
/// Puts a scenario together, sorting contacts and messages into their
/// canonical order.
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
