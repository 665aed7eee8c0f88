//! `pollen bench ceiling`: resource ceilings under hostile load. One node
//! (an in-memory store, so that the store's size shows in memory too) is
//! driven with carried envelopes each from an origin it has never seen,
//! delivery proofs that match nothing, BLE peers that each advertise a new
//! identifier, connect and send a fragment of a session that never
//! completes, and handshakes from as many distinct addresses. Memory (VmRSS
//! sampled as it goes, VmHWM at the end) and store size must stay flat under
//! the configured limits, which are printed beside the figures; the bench
//! fails when a limit is crossed.

use crate::CliError;
use pollen_node::admission::MAX_UNMATCHED_PROOFS;
use pollen_node::ble::{BleHub, LinkId, ManagerConfig, Role};
use pollen_node::node::{Node, SystemClock};
use pollen_node::store::StoreLimits;
use pollen_proto::ble::{AdvertId, AdvertKey, advert, chunk};
use pollen_proto::envelope::{self, DeliveryProof, Draft, Recipient, SharedKey};
use pollen_proto::identity::Identity;
use pollen_runtime::gate::{Gate, GateConfig, MAX_TRACKED};
use serde_json::json;
use std::time::Instant;

/// What to drive the node with.
#[derive(clap::Args, Debug)]
pub struct Options {
    /// Distinct fake senders: carried envelopes (one per origin), unmatched
    /// proofs, BLE peers and handshake addresses, each this many.
    #[arg(long, default_value_t = 1_000_000)]
    senders: usize,
    /// Envelope storage cap of the node under test, in KiB.
    #[arg(long, default_value_t = 8192)]
    storage_kib: u64,
    /// Peak resident memory allowed, in MiB; the bench fails above it.
    #[arg(long, default_value_t = 256)]
    max_rss_mb: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// A field of /proc/self/status in KiB (0 where there is no /proc).
fn proc_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory sampled through one phase: at the first and last
/// quarter, so growth that tracks the load shows as a difference.
#[derive(Default, serde::Serialize)]
struct Samples {
    rss_kib_start: u64,
    rss_kib_quarter: u64,
    rss_kib_end: u64,
    rss_kib_max: u64,
    per_s: f64,
}

impl Samples {
    /// Called after item `i` (0-based) of `n`.
    fn note(&mut self, i: usize, n: usize) {
        if !i.is_multiple_of(1024) && i + 1 != n {
            return;
        }
        let rss = proc_kib("VmRSS:");
        self.rss_kib_max = self.rss_kib_max.max(rss);
        if self.rss_kib_start == 0 {
            self.rss_kib_start = rss;
        }
        if i <= n / 4 {
            self.rss_kib_quarter = rss;
        }
        self.rss_kib_end = rss;
    }
}

fn store_bytes(node: &Node) -> Result<u64, CliError> {
    node.store().file_bytes().map_err(err)
}

/// Runs the benchmark and prints its figures.
pub fn run(o: Options) -> Result<(), CliError> {
    let n = o.senders.max(4);
    let limits = StoreLimits {
        global_bytes: o.storage_kib << 10,
        per_origin_bytes: (o.storage_kib << 10) / 4,
    };
    let mut node = Node::in_memory("ceiling", limits, Box::new(SystemClock)).map_err(err)?;
    let rss_before = proc_kib("VmRSS:");

    // Carried envelopes, each from an origin never seen before (what a BLE
    // address or an IPv6 address per packet would look like). Sealed by a
    // few authors: sealed sender hides them from the node anyway.
    let authors: Vec<Identity> = (0..16)
        .map(|i| Identity::generate(&format!("sybil {i}")))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let key = SharedKey::for_channel("flood");
    let t = node.now();
    let mut senders = Samples::default();
    let mut store_quarter = 0u64;
    let mut peak_store = 0u64;
    let start = Instant::now();
    for i in 0..n {
        let sealed = envelope::seal(
            &authors[i % authors.len()],
            &Draft {
                to: Recipient::Shared(&key),
                payload: format!("junk {i}").as_bytes(),
                sent_at: t,
                expires_at: t + 86400,
                hops: 5,
            },
        )
        .map_err(err)?;
        // Refusals (an origin over its quota) are part of the defence;
        // what counts is what is held.
        node.ingest_envelopes(&[(sealed.envelope.encode(), None)], &format!("ble:{i:x}"))
            .map_err(err)?;
        senders.note(i, n);
        if i.is_multiple_of(1024) || i + 1 == n {
            let b = store_bytes(&node)?;
            peak_store = peak_store.max(b);
            if i <= n / 4 {
                store_quarter = b;
            }
        }
    }
    senders.per_s = n as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let held = node.store().usage().map_err(err)?.bytes();
    let store_end = store_bytes(&node)?;

    // Delivery proofs that match nothing, in batches as a session sends them.
    let mut proofs = Samples::default();
    let start = Instant::now();
    let mut secret = [0u8; 32];
    let batch = 256;
    let mut i = 0;
    while i < n {
        let secrets: Vec<DeliveryProof> = (i..(i + batch).min(n))
            .map(|k| {
                secret[..8].copy_from_slice(&(k as u64).to_le_bytes());
                secret[8] = 0xee;
                DeliveryProof(secret)
            })
            .collect();
        node.ingest_proofs(&secrets).map_err(err)?;
        i += secrets.len();
        proofs.note(i - secrets.len(), n);
        proofs.note(i - 1, n);
    }
    proofs.per_s = n as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let proofs_held = node.store().unmatched_proof_count().map_err(err)?;
    peak_store = peak_store.max(store_bytes(&node)?);

    // BLE: each fake central advertises a fresh identifier, connects, says
    // HELLO and sends the first bytes of a session that never completes.
    let mut hub = BleHub::new(AdvertKey::from_secret([7; 32]), ManagerConfig::default(), 0);
    let mut ble = Samples::default();
    let mut now_ms = 0u64;
    let mut max_links = 0usize;
    let start = Instant::now();
    for i in 0..n {
        now_ms += 10;
        let mut raw = [0u8; 8];
        raw[..8].copy_from_slice(&(i as u64 ^ 0x5a5a_0000_0000).to_le_bytes());
        let id = AdvertId(raw);
        let handle = format!("fake-{i:x}");
        hub.advertisement(&handle, Some(&advert::service_data(id)), None, now_ms);
        let link = LinkId(i as u64 + 1);
        hub.link_up(link, &handle, Role::Peripheral, 185, now_ms);
        hub.received(link, &chunk::hello(id), now_ms, &mut node);
        hub.received(link, &[0x00, b'P', b'O'], now_ms, &mut node);
        while hub.poll_command().is_some() {}
        while hub.poll_event().is_some() {}
        if hub.poll_timeout().is_some_and(|t| t <= now_ms) {
            hub.handle_timeout(now_ms, &mut node);
        }
        max_links = max_links.max(hub.link_ids().len());
        ble.note(i, n);
    }
    ble.per_s = n as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let ble_limit = ManagerConfig::default().max_links;

    // Handshakes from as many addresses (one IPv6 address each).
    let mut gate = Gate::new(GateConfig::node(16));
    let mut hs = Samples::default();
    let mut max_tracked = 0usize;
    let start = Instant::now();
    for i in 0..n {
        // One /64 each: the gate counts a /64 as one address.
        let ip = std::net::IpAddr::V6(std::net::Ipv6Addr::from(
            (0xfd00u128 << 112) | ((i as u128) << 64),
        ));
        let admitted = gate.admit(ip);
        if let Ok(ticket) = admitted {
            gate.handshake(ip, i as u64);
            gate.close(ticket.id);
        }
        max_tracked = max_tracked.max(gate.tracked());
        hs.note(i, n);
    }
    hs.per_s = n as f64 / start.elapsed().as_secs_f64().max(1e-9);

    let hwm = proc_kib("VmHWM:");
    let figures = json!({
        "senders": n,
        "limits": {
            "storage_bytes": limits.global_bytes,
            "per_origin_bytes": limits.per_origin_bytes,
            "unmatched_proofs": MAX_UNMATCHED_PROOFS,
            "ble_links": ble_limit,
            "gate_addresses": MAX_TRACKED,
            "rss_kib": o.max_rss_mb << 10,
        },
        "rss_kib_before": rss_before,
        "vm_hwm_kib": hwm,
        "store_bytes_peak": peak_store,
        "envelopes": {
            "held_bytes": held,
            "store_bytes_quarter": store_quarter,
            "store_bytes_end": store_end,
            "memory": senders,
        },
        "proofs": {"held": proofs_held, "memory": proofs},
        "ble": {"max_links": max_links, "memory": ble},
        "handshakes": {"max_tracked": max_tracked, "memory": hs},
    });
    let mut over = Vec::new();
    if held > limits.global_bytes {
        over.push(format!("{held} envelope bytes over the cap"));
    }
    if proofs_held > MAX_UNMATCHED_PROOFS {
        over.push(format!("{proofs_held} unmatched proofs over the cap"));
    }
    if max_links > ble_limit {
        over.push(format!("{max_links} BLE links over {ble_limit}"));
    }
    if max_tracked > MAX_TRACKED {
        over.push(format!(
            "{max_tracked} addresses tracked over {MAX_TRACKED}"
        ));
    }
    if hwm > o.max_rss_mb << 10 {
        over.push(format!("peak memory {hwm} KiB over {} MiB", o.max_rss_mb));
    }
    if o.json {
        crate::bench_json::emit("ceiling", &figures)?;
    } else {
        println!("{}", serde_json::to_string_pretty(&figures).map_err(err)?);
    }
    if !over.is_empty() {
        return Err(CliError::Other(format!(
            "ceilings crossed: {}",
            over.join("; ")
        )));
    }
    Ok(())
}
