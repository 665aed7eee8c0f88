//! `pollen bench relay`: load on a real `pollen relay` process over loopback.
//!
//! The relay runs as a child process, so its memory figures are its own and
//! it has a core to itself (as far as the machine allows); the clients all
//! run here on one current-thread runtime, like many phones multiplexed onto
//! one machine. Every envelope is sealed before any clock starts, so the
//! figures measure the relay and the sessions, not sealing.
//!
//! Phases, in this order:
//! 1. idle sessions: the relay's resident memory before and after `idle`
//!    connections that complete the handshake and then stay silent. This runs
//!    first, on the fresh relay: once thousands of sessions have come and gone
//!    the allocator hands their freed memory to new sessions without growing
//!    the process, and the difference would read as nothing. So the figure is
//!    for a relay holding no mail: a relay session also keeps the index of
//!    everything the relay holds while it runs, which this phase does not see;
//! 2. throughput: `clients` concurrent sessions upload `envelopes` each (asking
//!    for nothing, so the round is uploads alone), then all sync again, holding
//!    nothing, and download what is addressed to them, checked exactly once;
//! 3. gateway latency: sequential fresh clients each upload 1,000 envelopes.

mod clients;
mod measure;
mod process;
mod store;
#[cfg(test)]
mod tests;

pub use store::BenchStore;

use crate::CliError;
use clients::{envelopes_of, seal_batch};
use measure::{Measured, measure};
use pollen_proto::envelope::Sealed;
use pollen_proto::identity::Identity;
use process::{RelayProcess, proc_kib, raise_nofile};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Envelopes each gateway session uploads in the latency phase.
pub const GATEWAY_BATCH: usize = 1000;
/// How long the relay may take to print its address.
const RELAY_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long idle connections stay open before the relay's memory is read
/// again: long enough for every handshake to land, well inside the relay's
/// idle timeout (30 s), so none of them has been dropped yet.
const IDLE_SETTLE: Duration = Duration::from_secs(1);
/// How long an idle connection may take to complete its handshake.
const IDLE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the relay may take to exit after SIGTERM (it gives running
/// sessions up to 5 s to commit) before it is killed.
const RELAY_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// File descriptors beyond one per connection: the store, the runtime, stdio.
const FD_MARGIN: usize = 256;

/// What `pollen bench relay` runs: a load run against a real `pollen relay`
/// child on loopback.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Concurrent client sessions in the throughput rounds; client i uploads to client i+1.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Envelopes each client uploads, addressed to the next client.
    #[arg(long, default_value_t = 10)]
    pub envelopes: usize,
    /// Silent connections opened to measure the relay's memory per session.
    #[arg(long, default_value_t = 1000)]
    pub idle: usize,
    /// Sequential gateway sessions of 1,000 new envelopes each (p99 is
    /// nearest-rank: with 20 sessions, the slowest).
    #[arg(long, default_value_t = 20)]
    pub uploads: usize,
    /// `--store` for the relay (a postgres:// URL, or a directory); a
    /// temporary directory (SQLite) when absent.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The figures, printed as JSON in this key order.
#[derive(serde::Serialize)]
struct Report {
    /// "postgres" for a postgres:// URL, else "sqlite".
    store: &'static str,
    clients: usize,
    envelopes_per_client: usize,
    /// Envelopes uploaded in round 1 over its wall time.
    upload_envelopes_per_s: f64,
    /// Envelopes downloaded in round 2 over its wall time.
    download_envelopes_per_s: f64,
    /// Growth of the relay's VmRSS per idle session; None with `--idle 0`.
    idle_session_kib: Option<f64>,
    /// Median of the gateway sessions' wall times (connect to finish).
    gateway_upload_1000_p50_ms: Option<f64>,
    /// Nearest-rank 99th percentile: with fewer than 100 sessions (20 by
    /// default) that is the slowest one.
    gateway_upload_1000_p99_ms: Option<f64>,
    /// The relay's VmHWM at the end of the run.
    relay_peak_rss_mb: Option<f64>,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Rounded to one decimal, for printing.
fn tenths(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Runs the benchmark.
pub fn run(o: Options) -> Result<(), CliError> {
    if o.clients == 0 || o.envelopes == 0 {
        return Err(CliError::Other(
            "--clients and --envelopes must be at least 1".into(),
        ));
    }
    let progress = |msg: &str| {
        if !o.json {
            eprintln!("{msg}");
        }
    };
    if let Some(note) = raise_nofile(o.clients.max(o.idle) + FD_MARGIN) {
        eprintln!("note: {note}");
    }

    progress(&format!(
        "sealing {} envelopes for {} clients and {} gateway uploads…",
        o.clients * o.envelopes + o.uploads * GATEWAY_BATCH,
        o.clients,
        o.uploads
    ));
    let people = (0..o.clients)
        .map(|i| Identity::generate(&format!("client {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut stores: Vec<BenchStore> = Vec::with_capacity(o.clients);
    let mut mail: Vec<Vec<Sealed>> = Vec::with_capacity(o.clients);
    let mut bytes = 0usize;
    for (i, me) in people.iter().enumerate() {
        let to = people[(i + 1) % o.clients].public();
        let sealed = seal_batch(me, &to, o.envelopes)?;
        bytes += sealed.iter().map(|s| s.envelope.len()).sum::<usize>();
        stores.push(BenchStore::new(me.public(), &envelopes_of(&sealed)));
        mail.push(sealed);
    }
    for (i, sealed) in mail.iter().enumerate() {
        stores[(i + 1) % o.clients].expect(sealed);
    }
    drop(mail);
    let stores: Vec<Rc<RefCell<BenchStore>>> = stores
        .into_iter()
        .map(|s| Rc::new(RefCell::new(s)))
        .collect();
    let nobody = Identity::generate("nobody")?.public();
    let mut gateways = Vec::with_capacity(o.uploads);
    for j in 0..o.uploads {
        let me = Identity::generate(&format!("gateway {j}"))?;
        let sealed = seal_batch(&me, &nobody, GATEWAY_BATCH)?;
        bytes += sealed.iter().map(|s| s.envelope.len()).sum::<usize>();
        gateways.push(RefCell::new(BenchStore::new(
            me.public(),
            &envelopes_of(&sealed),
        )));
    }

    // Everything comes from 127.0.0.1, one "client address" to the relay:
    // room for all of it twice over, and a session slot for every connection.
    let mb = ((bytes as u64 * 2) >> 20) + 64;
    let extra = vec![
        "--per-peer-mb".to_owned(),
        mb.max(256).to_string(),
        "--storage-mb".to_owned(),
        mb.max(10_240).to_string(),
        "--max-links".to_owned(),
        (o.clients.max(o.idle) + 64)
            .max(crate::relay::RELAY_MAX_LINKS)
            .to_string(),
        // One address for every client: the per-address defences would
        // (rightly) refuse them, and they are not what is measured here.
        "--no-address-limits".to_owned(),
    ];
    let (mut relay, addr) = RelayProcess::start(o.store.as_deref(), &extra)?;
    let store_kind = match o.store.as_deref() {
        Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => "postgres",
        _ => "sqlite",
    };
    progress(&format!("relay {addr} (pid {}, {store_kind})", relay.pid()));

    let measured = measure(&o, &mut relay, &addr, &stores, &gateways);
    let measured = measured.map_err(|e| relay.explain(e))?;
    let relay_peak_rss_mb = proc_kib(relay.pid(), "VmHWM:").map(|k| tenths(k as f64 / 1024.0));
    match relay.stop() {
        Some(status) if status.success() => {}
        Some(status) => {
            return Err(CliError::Other(format!(
                "pollen relay exited with {status} after the run{}",
                relay.log_tail()
            )));
        }
        None => eprintln!("note: could not reap the relay process"),
    }
    let report = Report {
        store: store_kind,
        clients: o.clients,
        envelopes_per_client: o.envelopes,
        upload_envelopes_per_s: measured.upload_per_s,
        download_envelopes_per_s: measured.download_per_s,
        idle_session_kib: measured.idle_kib,
        gateway_upload_1000_p50_ms: measured.p50_ms,
        gateway_upload_1000_p99_ms: measured.p99_ms,
        relay_peak_rss_mb,
    };
    if o.json {
        crate::bench_json::emit("relay", &report)?;
    } else {
        print_human(&report, &measured);
    }
    Ok(())
}

fn print_human(r: &Report, m: &Measured) {
    let show =
        |x: Option<f64>, unit: &str| x.map_or("not measured".into(), |v| format!("{v} {unit}"));
    println!(
        "relay ({}) with {} concurrent clients × {} envelopes:",
        r.store, r.clients, r.envelopes_per_client
    );
    println!(
        "  upload:   {} envelopes/s ({} in {:.2} s)",
        r.upload_envelopes_per_s, m.uploaded, m.upload_s
    );
    println!(
        "  download: {} envelopes/s ({} in {:.2} s, each exactly once)",
        r.download_envelopes_per_s, m.downloaded, m.download_s
    );
    println!(
        "  idle session: {}",
        show(r.idle_session_kib, "KiB of relay memory each")
    );
    println!(
        "  gateway upload of {GATEWAY_BATCH}: p50 {}, p99 {}",
        show(r.gateway_upload_1000_p50_ms, "ms"),
        show(r.gateway_upload_1000_p99_ms, "ms")
    );
    println!("  relay peak RSS: {}", show(r.relay_peak_rss_mb, "MB"));
}
