//! The Nearby screen's summary: who is in reach over which transport, what
//! this node carries, and when it last reached the wider network.

use pollen_node::node::Status;
use std::collections::BTreeSet;

/// A neighbour as the runtime reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighbourSeen {
    /// "ble", "lan", "platform"…
    pub transport: String,
}

/// How many neighbours one transport reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportCount {
    /// The transport.
    pub transport: String,
    /// Neighbours over it.
    pub count: u32,
}

/// What the Nearby screen shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearbySummary {
    /// Neighbours per transport, most first (then by name).
    pub by_transport: Vec<TransportCount>,
    /// Neighbours in all.
    pub neighbours: u32,
    /// Envelopes held for other people.
    pub carrying_for_others: u64,
    /// This node's own direct messages not yet delivered.
    pub own_waiting: u64,
    /// Share of the storage cap in use, percent (0–100).
    pub storage_percent: u8,
    /// Unix seconds of the last session with a relay or internet peer, if any.
    pub last_uplink_secs: Option<u64>,
}

/// Summarises the node's status and the runtime's neighbours (pure).
pub fn summarise(
    status: &Status,
    neighbours: &[NeighbourSeen],
    last_uplink_secs: Option<u64>,
) -> NearbySummary {
    let mut by_transport: Vec<TransportCount> = Vec::new();
    for n in neighbours {
        match by_transport.iter_mut().find(|t| t.transport == n.transport) {
            Some(t) => t.count += 1,
            None => by_transport.push(TransportCount {
                transport: n.transport.clone(),
                count: 1,
            }),
        }
    }
    by_transport.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.transport.cmp(&b.transport))
    });
    let storage_percent = status
        .envelope_bytes
        .saturating_mul(100)
        .checked_div(status.storage_cap_bytes)
        .map_or(0, |p| p.min(100) as u8);
    NearbySummary {
        neighbours: neighbours.len() as u32,
        by_transport,
        carrying_for_others: status.carried_for_others,
        own_waiting: status.own_undelivered,
        storage_percent,
        last_uplink_secs,
    }
}

/// Who is in reach now, kept from the runtime's "appeared" and "left"
/// events, and when a relay was last reached: the state behind the Nearby
/// screen, so the apps keep no table of their own.
#[derive(Clone, Debug, Default)]
pub struct Neighbourhood {
    live: BTreeSet<(String, String)>,
    last_uplink_secs: Option<u64>,
}

impl Neighbourhood {
    /// A neighbour came into reach over `transport` ("ble", "lan", "platform").
    pub fn appeared(&mut self, transport: &str, id: &str) {
        self.live.insert((transport.to_owned(), id.to_owned()));
    }

    /// A neighbour went out of reach (unknown ones are ignored).
    pub fn left(&mut self, transport: &str, id: &str) {
        self.live.remove(&(transport.to_owned(), id.to_owned()));
    }

    /// Every neighbour on one transport went (its radio or network is off).
    pub fn all_left(&mut self, transport: &str) {
        self.live.retain(|(t, _)| t != transport);
    }

    /// A relay (the internet) was reached at `now_secs`.
    pub fn reached_relay(&mut self, now_secs: u64) {
        self.last_uplink_secs = Some(self.last_uplink_secs.map_or(now_secs, |t| t.max(now_secs)));
    }

    /// The neighbours in reach, one entry each.
    pub fn seen(&self) -> Vec<NeighbourSeen> {
        self.live
            .iter()
            .map(|(transport, _)| NeighbourSeen {
                transport: transport.clone(),
            })
            .collect()
    }

    /// The Nearby summary for the node's current status.
    pub fn summary(&self, status: &Status) -> NearbySummary {
        summarise(status, &self.seen(), self.last_uplink_secs)
    }
}

/// What a transport is called on screen.
fn transport_name(transport: &str) -> &str {
    match transport {
        "ble" => "Bluetooth",
        "lan" => "Wi-Fi",
        "platform" => "phone link",
        other => other,
    }
}

/// "5 min ago"-style age of a unix time, coarse on purpose.
fn ago(then_secs: u64, now_secs: u64) -> String {
    let d = now_secs.saturating_sub(then_secs);
    match d {
        0..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", d / 60),
        3_600..86_400 => format!("{} h ago", d / 3_600),
        _ => format!("{} days ago", d / 86_400),
    }
}

impl NearbySummary {
    /// The Nearby screen's lines, worded here so both apps say the same.
    pub fn lines(&self, now_secs: u64) -> Vec<String> {
        let reach = if self.by_transport.is_empty() {
            "Nobody in reach".to_owned()
        } else {
            let parts: Vec<String> = self
                .by_transport
                .iter()
                .map(|t| format!("{} over {}", t.count, transport_name(&t.transport)))
                .collect();
            format!("In reach: {}", parts.join(", "))
        };
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        vec![
            reach,
            format!(
                "Carrying {} for others",
                plural(self.carrying_for_others, "message", "messages")
            ),
            match self.own_waiting {
                0 => "None of your messages is waiting".to_owned(),
                1 => "1 of your messages is waiting for its recipient".to_owned(),
                n => format!("{n} of your messages are waiting for their recipients"),
            },
            format!("Storage: {}% used", self.storage_percent),
            match self.last_uplink_secs {
                Some(t) => format!("Internet: last reached {}", ago(t, now_secs)),
                None => "Internet: not reached yet".to_owned(),
            },
        ]
    }
}
