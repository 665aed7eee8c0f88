//! The Nearby screen: who is in reach over which transport, what this phone
//! carries, and when it last reached the internet, from `pollen-app`'s
//! [`Neighbourhood`], which the host's events keep current.

use crate::PollenNode;
use crate::error::PollenError;
use pollen_app::nearby::{NearbySummary, Neighbourhood};
use pollen_runtime::host::{Core, HostEvent, NeighbourKind, lock};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The neighbour table the host's event sink writes and `nearby` reads.
pub(crate) type SharedNeighbourhood = Arc<Mutex<Neighbourhood>>;

/// Neighbours over one transport.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TransportCountInfo {
    /// "ble", "lan" or "platform".
    pub transport: String,
    /// Neighbours in reach over it.
    pub count: u32,
}

/// What the Nearby screen shows; `lines` is the summary worded for display.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NearbyInfo {
    /// Neighbours in reach, all transports.
    pub neighbours: u32,
    /// Neighbours per transport, most first.
    pub by_transport: Vec<TransportCountInfo>,
    /// Envelopes held for other people.
    pub carrying_for_others: u64,
    /// This phone's direct messages not delivered yet.
    pub own_waiting: u64,
    /// Share of the storage cap in use, percent.
    pub storage_percent: u8,
    /// Unix seconds a relay was last reached, if ever since start.
    pub last_uplink_secs: Option<u64>,
    /// The screen's lines, in order.
    pub lines: Vec<String>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn transport(kind: NeighbourKind) -> &'static str {
    match kind {
        NeighbourKind::Lan => "lan",
        NeighbourKind::Platform => "platform",
        NeighbourKind::Ble => "ble",
    }
}

/// Notes what a host event says about the neighbourhood (called by the
/// host's event sink, on the host thread).
pub(crate) fn observe(hood: &SharedNeighbourhood, event: &HostEvent) {
    let mut hood = lock(hood);
    match event {
        HostEvent::NeighbourAppeared { id, kind } => hood.appeared(transport(*kind), id),
        HostEvent::NeighbourLeft { id, kind } => hood.left(transport(*kind), id),
        HostEvent::LanStatus(s) if s.relays > 0 => hood.reached_relay(now_secs()),
        HostEvent::LanStatus(_) | HostEvent::Session { .. } => {}
    }
}

/// A session with a relay finished: the internet was reached now.
pub(crate) fn reached_relay(hood: &SharedNeighbourhood) {
    lock(hood).reached_relay(now_secs());
}

/// The runtime stopped: nobody is in reach any more.
pub(crate) fn stopped(hood: &SharedNeighbourhood) {
    let mut hood = lock(hood);
    for kind in [
        NeighbourKind::Lan,
        NeighbourKind::Platform,
        NeighbourKind::Ble,
    ] {
        hood.all_left(transport(kind));
    }
}

impl From<NearbySummary> for NearbyInfo {
    fn from(s: NearbySummary) -> Self {
        NearbyInfo {
            lines: s.lines(now_secs()),
            neighbours: s.neighbours,
            by_transport: s
                .by_transport
                .into_iter()
                .map(|t| TransportCountInfo {
                    transport: t.transport,
                    count: t.count,
                })
                .collect(),
            carrying_for_others: s.carrying_for_others,
            own_waiting: s.own_waiting,
            storage_percent: s.storage_percent,
            last_uplink_secs: s.last_uplink_secs,
        }
    }
}

#[uniffi::export]
impl PollenNode {
    /// The Nearby screen's summary; call again on `on_neighbour_appeared`
    /// and `on_neighbour_left`.
    pub fn nearby(&self) -> Result<NearbyInfo, PollenError> {
        let hood = self.neighbourhood.clone();
        self.on_host(move |core: &mut Core| {
            let status = core.node.borrow().status()?;
            Ok(lock(&hood).summary(&status).into())
        })
    }
}
