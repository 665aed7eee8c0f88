//! The three phases against a running relay (idle sessions, throughput
//! rounds, gateway uploads) and what they measured.

use super::clients::{failed, idle_connection, round};
use super::process::{RelayProcess, rss_kib};
use super::{BenchStore, GATEWAY_BATCH, IDLE_HANDSHAKE_TIMEOUT, IDLE_SETTLE, Options, err, tenths};
use crate::CliError;
use pollen_proto::identity::{Identity, PublicIdentity};
use pollen_runtime::relay::RelayAddress;
use pollen_runtime::sync_once_with;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What the three phases measured.
pub(super) struct Measured {
    pub(super) uploaded: u64,
    pub(super) upload_s: f64,
    pub(super) upload_per_s: f64,
    pub(super) downloaded: u64,
    pub(super) download_s: f64,
    pub(super) download_per_s: f64,
    pub(super) idle_kib: Option<f64>,
    pub(super) p50_ms: Option<f64>,
    pub(super) p99_ms: Option<f64>,
}

/// Runs the three phases against the relay, timing each on one current-thread runtime.
pub(super) fn measure(
    o: &Options,
    relay: &mut RelayProcess,
    addr: &RelayAddress,
    stores: &[Rc<RefCell<BenchStore>>],
    gateways: &[RefCell<BenchStore>],
) -> Result<Measured, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let pid = relay.pid();
    let progress = |msg: &str| {
        if !o.json {
            eprintln!("{msg}");
        }
    };
    local.block_on(&rt, async {
        // One empty session first, so what the first session of a process
        // sets up once (store caches, runtime buffers) is not charged to the
        // idle sessions.
        let nobody = Identity::generate("nobody")?.public();
        let warm = RefCell::new(BenchStore::new(nobody, &[]));
        let outcome = sync_once_with(&addr.host_port, &warm, Some(addr.key))
            .await
            .map_err(err)?;
        if let Some(e) = outcome.error {
            return Err(CliError::Other(format!("warm-up session failed: {e}")));
        }

        let idle_kib = idle_sessions(o, addr, pid, nobody).await?;

        progress(&format!(
            "round 1: {} clients upload {} envelopes each…",
            o.clients, o.envelopes
        ));
        let (t1, outcomes) = round("round 1 (upload)", addr, stores).await?;
        let uploaded: u64 = outcomes.iter().map(|out| out.stats.envelopes_sent).sum();
        if let Some((i, out)) = outcomes
            .iter()
            .enumerate()
            .find(|(_, out)| out.stats.envelopes_sent != o.envelopes as u64)
        {
            return Err(CliError::Other(format!(
                "client {i} uploaded {} of {} envelopes",
                out.stats.envelopes_sent, o.envelopes
            )));
        }

        progress("round 2: every client downloads its mail…");
        for s in stores {
            s.borrow_mut().download_only();
        }
        let (t2, outcomes) = round("round 2 (download)", addr, stores).await?;
        let downloaded: u64 = outcomes
            .iter()
            .map(|out| out.stats.envelopes_received)
            .sum();
        for (i, s) in stores.iter().enumerate() {
            s.borrow()
                .check()
                .map_err(|e| CliError::Other(format!("client {i}: {e}")))?;
        }

        let samples = gateway_uploads(o, addr, gateways).await?;

        let per_s = |n: u64, d: Duration| (n as f64 / d.as_secs_f64().max(1e-9)).round();
        Ok(Measured {
            uploaded,
            upload_s: t1.as_secs_f64(),
            upload_per_s: per_s(uploaded, t1),
            downloaded,
            download_s: t2.as_secs_f64(),
            download_per_s: per_s(downloaded, t2),
            idle_kib,
            p50_ms: percentile(&samples, 50.0).map(tenths),
            p99_ms: percentile(&samples, 99.0).map(tenths),
        })
    })
}

/// Relay memory per silent session: VmRSS before and after `o.idle`
/// connections that finish the handshake and then say nothing.
async fn idle_sessions(
    o: &Options,
    addr: &RelayAddress,
    pid: u32,
    nobody: PublicIdentity,
) -> Result<Option<f64>, CliError> {
    if o.idle == 0 {
        return Ok(None);
    }
    if !o.json {
        eprintln!("idle: {} silent sessions…", o.idle);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib(pid)?;
    let mut set = JoinSet::new();
    for _ in 0..o.idle {
        let addr = addr.clone();
        set.spawn_local(tokio::time::timeout(
            IDLE_HANDSHAKE_TIMEOUT,
            idle_connection(addr, nobody),
        ));
    }
    let mut open = Vec::with_capacity(o.idle);
    let mut errors = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(Ok(stream))) => open.push(stream),
            Ok(Ok(Err(e))) => errors.push(e),
            Ok(Err(_)) => errors.push("handshake timed out".into()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(failed("idle sessions", o.idle, &errors));
    }
    tokio::time::sleep(IDLE_SETTLE).await;
    let after = rss_kib(pid)?;
    drop(open);
    // Let the relay notice the closed links before the next phase.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(Some(tenths((after as f64 - before as f64) / o.idle as f64)))
}

/// Wall times (ms, ascending) of sequential gateway sessions, each
/// uploading [`GATEWAY_BATCH`] envelopes.
async fn gateway_uploads(
    o: &Options,
    addr: &RelayAddress,
    gateways: &[RefCell<BenchStore>],
) -> Result<Vec<f64>, CliError> {
    let mut samples = Vec::with_capacity(gateways.len());
    if !gateways.is_empty() && !o.json {
        eprintln!(
            "gateways: {} sessions uploading {GATEWAY_BATCH} envelopes each…",
            gateways.len()
        );
    }
    for (j, g) in gateways.iter().enumerate() {
        let start = Instant::now();
        let outcome = sync_once_with(&addr.host_port, g, Some(addr.key))
            .await
            .map_err(err)?;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        if let Some(e) = outcome.error {
            return Err(CliError::Other(format!("gateway {j}: {e}")));
        }
        if outcome.stats.envelopes_sent != GATEWAY_BATCH as u64 {
            return Err(CliError::Other(format!(
                "gateway {j} uploaded {} of {GATEWAY_BATCH} envelopes",
                outcome.stats.envelopes_sent
            )));
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}

/// Nearest-rank percentile of ascending `sorted` samples: the smallest
/// sample at or above `p` percent of them (with 20 samples, p99 is the largest).
pub(super) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}
