//! `pollen relay`: a node with large storage and no user. Accepts sync
//! sessions from anyone, authenticated by its key (Noise NK), keeps envelopes
//! until they expire or are delivered, and hands each client only what the
//! client asked for.

use crate::CliError;
use crate::metrics::Metrics;
use pollen_node::node::{Node, SystemClock};
use pollen_node::relay::RelayLimits;
use pollen_node::relay::postgres::PgRelayStore;
use pollen_proto::sync::SyncStore;
use pollen_runtime::ServeOptions;
use pollen_runtime::relay::{address, load_or_create_key, relay_session};
use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

/// Most concurrent client sessions a relay runs.
pub const RELAY_MAX_LINKS: usize = 2048;

/// How `pollen relay` runs.
pub struct RelayOptions<'a> {
    /// Address to listen on.
    pub listen: &'a str,
    /// `host:port` to print in the relay address, when the listen address is not it.
    pub advertise: Option<&'a str>,
    /// Where the SQLite store and the key live.
    pub dir: &'a Path,
    /// `--metrics ADDR`.
    pub metrics: Option<&'a str>,
    /// Store limits.
    pub limits: pollen_node::store::StoreLimits,
    /// Most concurrent sessions.
    pub max_links: usize,
    /// Per-address limits on (off only for a benchmark from one host).
    pub address_limits: bool,
}

/// What a relay needs from its store beyond sync: housekeeping and figures.
trait Backend: SyncStore + 'static {
    /// Drops expired mail; returns (envelopes, bytes) held.
    fn housekeeping(&mut self) -> Option<(u64, u64)>;
}

impl Backend for Node {
    fn housekeeping(&mut self) -> Option<(u64, u64)> {
        let _ = self.expire();
        let s = self.status().ok()?;
        Some((s.envelopes_stored, s.envelope_bytes))
    }
}

impl Backend for PgRelayStore {
    fn housekeeping(&mut self) -> Option<(u64, u64)> {
        let now = pollen_node::node::Clock::now(&SystemClock);
        if let Err(e) = self.expire(now) {
            tracing::warn!(error = %e, "expiring relay mail failed");
        }
        let u = self.usage().ok()?;
        Some((u.envelopes, u.bytes))
    }
}

/// Runs the relay until Ctrl-C or SIGTERM, on SQLite in `dir` or on the
/// PostgreSQL database at `postgres` (shared with other relay processes).
pub fn run(o: RelayOptions<'_>, postgres: Option<&str>) -> Result<ExitCode, CliError> {
    let err = |e: &dyn std::fmt::Display| CliError::Other(e.to_string());
    if let Some(url) = postgres {
        let limits = RelayLimits {
            global_bytes: o.limits.global_bytes,
            per_origin_bytes: o.limits.per_origin_bytes,
        };
        let store = PgRelayStore::connect(url, limits)
            .map_err(|e| CliError::Other(format!("relay database: {e}")))?;
        let fresh = pollen_runtime::relay::fresh_key().map_err(|e| err(&e))?;
        let key = store
            .relay_key(fresh)
            .map_err(|e| CliError::Other(format!("relay key in the database: {e}")))?;
        return serve_relay(o, store, key);
    }
    let key = load_or_create_key(o.dir)
        .map_err(|e| CliError::Other(format!("relay key in {}: {e}", o.dir.display())))?;
    let mut node = match Node::open(o.dir, Box::new(SystemClock)) {
        Ok(n) => n,
        Err(_) if !o.dir.join("pollen.db").exists() => {
            Node::init(o.dir, "relay", Box::new(SystemClock))?
        }
        Err(e) => return Err(e.into()),
    };
    node.set_limits(o.limits);
    // A relay looks envelopes up by tag for every client; phones do not.
    node.store()
        .serve_as_relay()
        .map_err(|e| CliError::Other(format!("relay tag index: {e}")))?;
    serve_relay(o, node, key)
}

fn serve_relay<B: Backend>(
    o: RelayOptions<'_>,
    backend: B,
    key: [u8; 32],
) -> Result<ExitCode, CliError> {
    let metrics = Metrics::default();
    let metrics_addr = o.metrics.map(|a| metrics.serve(a)).transpose()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = pollen_runtime::listen(o.listen)
            .await
            .map_err(|e| CliError::Other(e.to_string()))?;
        let bound = listener
            .local_addr()
            .map_err(|e| CliError::Other(format!("cannot read the bound address: {e}")))?
            .to_string();
        println!("{}", address(o.advertise.unwrap_or(&bound), &key));
        let _ = std::io::stdout().flush();
        if let Some(m) = &metrics_addr {
            tracing::info!(metrics = %m, "serving Prometheus metrics on /metrics");
        }
        let store = Rc::new(RefCell::new(backend));
        // Expire old mail and refresh the storage gauges now and then.
        {
            let (store, metrics) = (store.clone(), metrics.clone());
            tokio::task::spawn_local(async move {
                loop {
                    if let Ok(mut b) = store.try_borrow_mut()
                        && let Some((count, bytes)) = b.housekeeping()
                    {
                        metrics.stored.set(count as i64);
                        metrics.stored_bytes.set(bytes as i64);
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
        }
        let options = ServeOptions {
            gate: {
                let gate = pollen_runtime::GateConfig::relay(o.max_links);
                if o.address_limits {
                    gate
                } else {
                    tracing::warn!("per-address limits are off (--no-address-limits)");
                    gate.without_address_limits()
                }
            },
            config: Rc::new(move |peer| relay_session(&key, &peer.ip().to_string())),
        };
        let done = {
            let metrics = metrics.clone();
            move |peer: std::net::SocketAddr, outcome: &pollen_runtime::LinkOutcome| {
                metrics.session(outcome);
                let s = &outcome.stats;
                match &outcome.error {
                    None => tracing::info!(%peer, received = s.envelopes_received, sent = s.envelopes_sent, proofs_in = s.proofs_received, proofs_out = s.proofs_sent, "session finished"),
                    Some(e) => tracing::info!(%peer, reason = %e, "session ended early"),
                }
            }
        };
        pollen_runtime::serve_with(listener, store, options, done, crate::net::shutdown_signal()).await;
        Ok::<_, CliError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
