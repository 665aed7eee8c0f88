//! The Nearby screen's summary: who is in reach over which transport, what
//! this node carries, and when it last reached the wider network.

use pollen_node::node::Status;

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
