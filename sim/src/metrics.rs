//! What a run measured, and the figures the issue asks for, computed from it.

use crate::engine::config::SimConfig;
use serde::Serialize;

/// One (message, recipient) pair: the unit delivery is counted in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// Index of the message in the scenario.
    pub message: u32,
    /// The node it is for.
    pub recipient: u32,
    /// Plaintext bytes.
    pub size: u64,
    /// When it was sent (seconds).
    pub created_at: f64,
    /// The earliest possible delivery within its TTL and the run, if any.
    pub oracle: Option<f64>,
    /// When it really arrived, if it did.
    pub delivered: Option<f64>,
    /// The copy that arrived went through the internet relay.
    pub via_relay: bool,
    /// When the sender learnt of the delivery (a direct message's proof
    /// reached it), if it did.
    pub receipt: Option<f64>,
    /// `direct`, `group` or `channel`.
    pub kind: &'static str,
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
    /// Link bytes of the sessions that brought neither side anything new.
    pub idle_bytes: u64,
    /// Connections refused for the per-phone cap (later retried).
    pub cap_waits: u64,
    /// Bytes written on all links.
    pub bytes: u64,
    /// Bytes of reconciliation messages (both ways, before framing).
    pub recon_bytes: u64,
    /// Link bytes by what they carried (`SessionStats::sent_by_kind` of
    /// every session): where the bytes go.
    pub bytes_by_message: std::collections::BTreeMap<&'static str, u64>,
    /// Delivery proofs handed over.
    pub proofs_sent: u64,
    /// Items received that the receiver already knew.
    pub duplicates: u64,
    /// Envelope copies handed over (every hop, recipients included).
    pub transmissions: u64,
    /// Bytes of those envelope copies (padded, sealed).
    pub envelope_bytes: u64,
    /// Messages the sender could not send (store refused).
    pub send_failures: u64,
    /// Bytes of encounter summaries sent in Hellos (`encounter` policy;
    /// also counted in the link bytes).
    pub summary_bytes: u64,
}

/// Delivery of one kind of message.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KindFigures {
    /// (message, recipient) pairs.
    pub targets: u64,
    /// Pairs delivered.
    pub delivered: u64,
    /// Pairs the oracle delivers.
    pub oracle_delivered: u64,
}

/// What a run with attachments measured.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct AttachmentFigures {
    /// Messages sent with an attachment.
    pub sent: u64,
    /// Of those, direct ones whose text reached the recipient.
    pub direct_delivered: u64,
    /// Of those, how many the recipient holds whole at the end.
    pub direct_complete: u64,
    /// Chunk copies handed over, every hop.
    pub chunk_transmissions: u64,
    /// Their bytes.
    pub chunk_bytes: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// The run's settings.
    pub config: SimConfig,
    /// Nodes simulated (people, gateways, relay).
    pub nodes: u32,
    /// Messages sent.
    pub messages: u64,
    /// Every (message, recipient) pair.
    pub targets: Vec<Target>,
    /// Counters.
    pub stats: RunStats,
    /// Most envelope bytes each node held at any time.
    pub peak_store_bytes: Vec<u64>,
    /// (seconds, largest phone store in bytes) samples.
    pub storage: Vec<(f64, f64)>,
    /// Own undelivered, unexpired messages their sender no longer holds.
    pub own_lost: u64,
    /// Hostile phones (left out of every other figure).
    pub hostile: u32,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// Attachments, when the run had them.
    pub attachments: Option<AttachmentFigures>,
}

/// The figures of one run, as `pollen sim --json` prints them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Policy name.
    pub policy: String,
    /// Seed.
    pub seed: u64,
    /// Nodes simulated.
    pub nodes: u32,
    /// Messages sent.
    pub messages: u64,
    /// (message, recipient) pairs to deliver.
    pub targets: u64,
    /// Pairs delivered.
    pub delivered: u64,
    /// `delivered / targets`.
    pub delivery_ratio: f64,
    /// Pairs the oracle delivers.
    pub oracle_delivered: u64,
    /// `oracle_delivered / targets`.
    pub oracle_delivery_ratio: f64,
    /// `delivered / oracle_delivered`.
    pub share_of_oracle: f64,
    /// Median delivery latency in seconds.
    pub latency_p50_s: f64,
    /// 90th percentile delivery latency in seconds.
    pub latency_p90_s: f64,
    /// The oracle's median latency in seconds.
    pub oracle_latency_p50_s: f64,
    /// Envelope copies handed over, every hop.
    pub transmissions: u64,
    /// `(transmissions - delivered) / delivered`.
    pub overhead: f64,
    /// Bytes on all links per plaintext byte delivered.
    pub bytes_per_delivered_byte: f64,
    /// Bytes on all links per byte of envelope handed over: what sessions
    /// cost beyond the envelopes they move (handshakes, reconciliation,
    /// proofs, summaries, framing), whatever the padding and the copies.
    pub bytes_per_envelope_byte: f64,
    /// Most envelope bytes any phone held.
    pub peak_store_bytes_max: u64,
    /// The phones' storage cap.
    pub store_cap_bytes: u64,
    /// Share of deliveries whose copy went through the relay.
    pub uplink_delivery_ratio: f64,
    /// Deliveries earlier than the oracle allows (must be 0).
    pub earlier_than_oracle: u64,
    /// Own undelivered messages their sender lost (must be 0).
    pub own_lost: u64,
    /// The adversary setting (`KIND:FRACTION`), if any; `honest` in its
    /// baseline (the same phones behaving honestly).
    pub adversary: Option<String>,
    /// Hostile phones; the other figures count honest phones only.
    pub hostile: u32,
    /// Sessions opened.
    pub sessions: u64,
    /// Sessions cut short.
    pub sessions_cut: u64,
    /// Sessions that brought neither side anything new.
    pub sessions_idle: u64,
    /// Meetings with nothing to exchange, where no session was run.
    pub sessions_skipped: u64,
    /// Link bytes of the idle sessions (part of `bytes`).
    pub idle_bytes: u64,
    /// Bytes of encounter summaries sent in Hellos (part of `bytes`).
    pub summary_bytes: u64,
    /// Bytes on all links in total.
    pub bytes: u64,
    /// Of which reconciliation (before framing and encryption).
    pub recon_bytes: u64,
    /// Link bytes by message type, framing and encryption included
    /// (`preamble` and `handshake` for the session set-up); queued bytes a
    /// cut link never sent count too.
    pub bytes_by_message: std::collections::BTreeMap<&'static str, u64>,
    /// Delivery proofs handed over.
    pub proofs_sent: u64,
    /// Items received that the receiver already held or had seen.
    pub duplicates: u64,
    /// Delivered direct messages whose sender learnt of the delivery by the
    /// end (its proof came back; recipients hold proofs back for a while,
    /// `pollen_node::receipts`).
    pub receipts: u64,
    /// Their share of the delivered direct messages.
    pub receipt_ratio: f64,
    /// Median seconds from delivery to the sender learning of it.
    pub receipt_p50_s: f64,
    /// The same split by message kind: direct, group, channel.
    pub by_kind: std::collections::BTreeMap<&'static str, KindFigures>,
    /// Attachments, when the run had them (`--attachments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<AttachmentFigures>,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// Rounds figures so the JSON stays readable and stable.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl Outcome {
    /// Delivery latencies in seconds, sorted.
    pub fn latencies(&self) -> Vec<f64> {
        let mut l: Vec<f64> = self
            .targets
            .iter()
            .filter_map(|t| t.delivered.map(|d| d - t.created_at))
            .collect();
        l.sort_by(f64::total_cmp);
        l
    }

    /// The oracle's latencies in seconds, sorted.
    pub fn oracle_latencies(&self) -> Vec<f64> {
        let mut l: Vec<f64> = self
            .targets
            .iter()
            .filter_map(|t| t.oracle.map(|d| d - t.created_at))
            .collect();
        l.sort_by(f64::total_cmp);
        l
    }

    /// The figures.
    pub fn report(&self) -> Report {
        let targets = self.targets.len() as u64;
        let delivered = self
            .targets
            .iter()
            .filter(|t| t.delivered.is_some())
            .count() as u64;
        let oracle_delivered = self.targets.iter().filter(|t| t.oracle.is_some()).count() as u64;
        let delivered_bytes: u64 = self
            .targets
            .iter()
            .filter(|t| t.delivered.is_some())
            .map(|t| t.size)
            .sum();
        let via_relay = self.targets.iter().filter(|t| t.via_relay).count() as u64;
        // A little slack for float rounding of millisecond clocks.
        let earlier = self
            .targets
            .iter()
            .filter(|t| match (t.delivered, t.oracle) {
                (Some(d), Some(o)) => d + 1e-6 < o,
                (Some(_), None) => true,
                _ => false,
            })
            .count() as u64;
        let mut by_kind = std::collections::BTreeMap::<&'static str, KindFigures>::new();
        for t in &self.targets {
            let k = by_kind.entry(t.kind).or_default();
            k.targets += 1;
            k.delivered += t.delivered.is_some() as u64;
            k.oracle_delivered += t.oracle.is_some() as u64;
        }
        let delivered_direct = self
            .targets
            .iter()
            .filter(|t| t.kind == "direct" && t.delivered.is_some())
            .count();
        let mut receipt_lat: Vec<f64> = self
            .targets
            .iter()
            .filter_map(|t| Some(t.receipt? - t.delivered?))
            .collect();
        receipt_lat.sort_by(f64::total_cmp);
        let lat = self.latencies();
        let olat = self.oracle_latencies();
        let persons_peak = self.peak_store_bytes.iter().copied().max().unwrap_or(0);
        Report {
            scenario: self.scenario.clone(),
            policy: self.config.policy.name().to_owned(),
            seed: self.config.seed,
            nodes: self.nodes,
            messages: self.messages,
            targets,
            delivered,
            delivery_ratio: round(ratio(delivered as f64, targets as f64), 4),
            oracle_delivered,
            oracle_delivery_ratio: round(ratio(oracle_delivered as f64, targets as f64), 4),
            share_of_oracle: round(ratio(delivered as f64, oracle_delivered as f64), 4),
            latency_p50_s: round(percentile(&lat, 0.5), 1),
            latency_p90_s: round(percentile(&lat, 0.9), 1),
            oracle_latency_p50_s: round(percentile(&olat, 0.5), 1),
            transmissions: self.stats.transmissions,
            overhead: round(
                ratio(
                    self.stats.transmissions as f64 - delivered as f64,
                    delivered as f64,
                ),
                2,
            ),
            bytes_per_delivered_byte: round(
                ratio(self.stats.bytes as f64, delivered_bytes as f64),
                1,
            ),
            bytes_per_envelope_byte: round(
                ratio(self.stats.bytes as f64, self.stats.envelope_bytes as f64),
                2,
            ),
            peak_store_bytes_max: persons_peak,
            store_cap_bytes: self.config.store_cap_bytes,
            uplink_delivery_ratio: round(ratio(via_relay as f64, delivered as f64), 4),
            earlier_than_oracle: earlier,
            own_lost: self.own_lost,
            adversary: self.config.adversary.map(|a| {
                if self.config.adversary_baseline {
                    "honest".to_owned()
                } else {
                    a.to_string()
                }
            }),
            hostile: self.hostile,
            sessions: self.stats.sessions,
            sessions_cut: self.stats.sessions_cut,
            sessions_idle: self.stats.sessions_idle,
            sessions_skipped: self.stats.sessions_skipped,
            idle_bytes: self.stats.idle_bytes,
            summary_bytes: self.stats.summary_bytes,
            bytes: self.stats.bytes,
            recon_bytes: self.stats.recon_bytes,
            bytes_by_message: self.stats.bytes_by_message.clone(),
            proofs_sent: self.stats.proofs_sent,
            duplicates: self.stats.duplicates,
            receipts: receipt_lat.len() as u64,
            receipt_ratio: round(ratio(receipt_lat.len() as f64, delivered_direct as f64), 4),
            receipt_p50_s: round(percentile(&receipt_lat, 0.5), 1),
            by_kind,
            attachments: self.attachments.clone(),
            wall_s: round(self.wall_s, 2),
        }
    }

    /// Share of targets delivered by each hour mark: `(hours, ratio)`.
    pub fn delivery_curve(&self, oracle: bool) -> Vec<(f64, f64)> {
        let total = self.targets.len().max(1) as f64;
        let mut times: Vec<f64> = self
            .targets
            .iter()
            .filter_map(|t| if oracle { t.oracle } else { t.delivered })
            .collect();
        times.sort_by(f64::total_cmp);
        let steps = 100usize;
        (0..=steps)
            .map(|i| {
                let t = self.duration_s * i as f64 / steps as f64;
                let n = times.partition_point(|&x| x <= t);
                (t / 3600.0, n as f64 / total)
            })
            .collect()
    }
}
