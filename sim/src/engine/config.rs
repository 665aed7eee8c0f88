//! How a run behaves apart from the scenario: the routing policy, the seed,
//! storage caps and the model of each kind of link.

use super::link::LinkModel;
use crate::policy::Policy;
use crate::trace::LinkKind;

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

    pub(super) fn model(&self, kind: LinkKind) -> LinkModel {
        match kind {
            LinkKind::Ble => self.ble,
            LinkKind::Lan => self.lan,
            LinkKind::Uplink => self.uplink,
        }
    }
}
