//! How a run behaves apart from the scenario: the routing policy, the seed,
//! storage caps and the model of each kind of link.

use super::link::LinkModel;
use crate::adversary::Adversary;
use crate::policy::Policy;
use crate::trace::LinkKind;
use pollen_node::ble::manager::DEFAULT_MAX_LINKS;
use pollen_node::neighbours::Schedule;

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
    /// Sessions follow no gaps or backoff (the idealised run); otherwise
    /// each pair keeps the node's own [`Schedule`] of the link kind.
    pub idealised: bool,
    /// How often storage is sampled, in seconds.
    pub sample_s: f64,
    /// How long a node that got something new waits before telling its
    /// neighbours (coalescing bursts), in seconds.
    pub nudge_s: f64,
    /// Hostile phones, if any (`crate::adversary`).
    pub adversary: Option<Adversary>,
    /// The adversary's phones are picked and left out of the figures but
    /// behave honestly: the baseline a hostile run is compared with, over
    /// the same pairs.
    pub adversary_baseline: bool,
    /// Each node keeps what its store holds between changes instead of
    /// asking the store every time (an optimisation: a run with it off
    /// must give the same figures, which a test checks).
    pub item_cache: bool,
    /// A share of messages that carry an attachment, if any.
    pub attachments: Option<AttachmentLoad>,
    /// Bytes of others' attachment chunks each phone carries (16 MiB: a
    /// phone lends 256 MiB by default, but thousands of in-memory stores
    /// must fit in this machine's memory).
    pub chunk_cap_bytes: u64,
}

/// Messages that carry an attachment (`pollen sim --attachments SHARE`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct AttachmentLoad {
    /// The share of messages with one, drawn per message from the seed.
    pub share: f64,
    /// Smallest and largest attachment, bytes (log-uniform between).
    pub bytes: (usize, usize),
}

impl AttachmentLoad {
    /// `share` of the messages carry 100 KB to 2 MB, the range.
    pub fn new(share: f64) -> AttachmentLoad {
        AttachmentLoad {
            share: share.clamp(0.0, 1.0),
            bytes: (100_000, 2_000_000),
        }
    }
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
                max_links: DEFAULT_MAX_LINKS,
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
            idealised: false,
            sample_s: 60.0,
            nudge_s: 1.0,
            adversary: None,
            adversary_baseline: false,
            item_cache: true,
            attachments: None,
            chunk_cap_bytes: 16 << 20,
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
            idealised: true,
            nudge_s: 0.0,
            ..SimConfig::new(policy, seed)
        }
    }

    /// When a pair meeting over `kind` syncs: the rule the nodes' runtime
    /// follows on that transport (`pollen_node::neighbours::cadence`).
    pub(super) fn schedule(&self, kind: LinkKind) -> Schedule {
        match kind {
            _ if self.idealised => Schedule::IMMEDIATE,
            LinkKind::Ble => Schedule::BLE,
            LinkKind::Lan | LinkKind::Uplink => Schedule::LAN,
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
