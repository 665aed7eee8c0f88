//! Scenario parameters: the overrides a user gives, each scenario's
//! defaults, and the checked result the generators work from.

use super::{ScenarioError, contacts};
use crate::workload;

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
    /// 2 h, village 48 for a day, city 160 for 3 h, social 300 (four
    /// districts) for a day), generated in well
    /// under a second even in a debug build.
    pub fn small(name: &str, seed: u64) -> Result<Self, ScenarioError> {
        let (people, hours) = match name {
            "festival" => (120, 2.0),
            "village" => (48, 24.0),
            "city" => (160, 3.0),
            "social" => (300, 24.0),
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
        // Below a decimetre the contact grid would need absurdly many cells.
        if p.ble_range_m.is_some() && !(0.1..=1000.0).contains(&range) {
            return Err(bad("ble_range_m", "must be from 0.1 to 1000 m"));
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

pub(super) fn bad(name: &'static str, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::BadParam {
        name,
        reason: reason.into(),
    }
}
