//! `pollen serve` and `pollen sync`: sync sessions over TCP.

use crate::CliError;
use pollen_node::node::Node;
use pollen_runtime::LinkOutcome;
use std::cell::RefCell;
use std::io::Write;
use std::process::ExitCode;
use std::rc::Rc;

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))
}

/// Binds `listen` and prints the bound address as the first stdout line,
/// so scripts can use port 0.
pub(crate) async fn bind_and_announce(listen: &str) -> Result<tokio::net::TcpListener, CliError> {
    let listener = pollen_runtime::listen(listen)
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Other(format!("cannot read the bound address: {e}")))?;
    println!("{addr}");
    let _ = std::io::stdout().flush();
    Ok(listener)
}

/// `pollen serve --listen ADDR`: prints the bound address first, then one
/// line per session, until Ctrl-C or SIGTERM.
pub fn serve(node: Node, listen: &str, json: bool) -> Result<ExitCode, CliError> {
    let rt = runtime()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = bind_and_announce(listen).await?;
        let store = Rc::new(RefCell::new(node));
        let report = move |peer: std::net::SocketAddr, outcome: &LinkOutcome| {
            let line = if json {
                summary_json(Some(&peer.to_string()), outcome).to_string()
            } else {
                format!("session with {peer}: {}", summary_line(outcome))
            };
            // Whoever started us may have stopped reading; serving goes on.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        };
        pollen_runtime::serve(listener, store, report, shutdown_signal()).await;
        Ok::<_, CliError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `pollen sync ADDR` (host:port, or a relay address): one session, then a
/// summary; exit 1 if it failed.
pub fn sync(node: Node, addr: &str, json: bool) -> Result<ExitCode, CliError> {
    // A relay address carries the key the relay must prove it holds.
    let (host_port, relay_key) = if addr.starts_with(pollen_runtime::relay::SCHEME) {
        let r: pollen_runtime::relay::RelayAddress =
            addr.parse()
                .map_err(|e: pollen_runtime::relay::RelayAddressError| {
                    CliError::Other(e.to_string())
                })?;
        (r.host_port, Some(r.key))
    } else {
        (addr.to_owned(), None)
    };
    pollen_runtime::check_addr(&host_port).map_err(|e| CliError::Other(e.to_string()))?;
    let rt = runtime()?;
    let store = RefCell::new(node);
    let outcome = rt
        .block_on(pollen_runtime::sync_once_with(
            &host_port, &store, relay_key,
        ))
        .map_err(|e| CliError::Other(e.to_string()))?;
    if json {
        println!("{}", summary_json(None, &outcome));
    } else {
        println!("{}", summary_line(&outcome));
    }
    Ok(match outcome.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("error: session ended early: {e}");
            ExitCode::FAILURE
        }
    })
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One readable line about a finished (or failed) session.
pub(crate) fn summary_line(o: &LinkOutcome) -> String {
    stats_line(&o.stats, o.error.as_ref().map(|e| e.to_string()).as_deref())
}

/// One readable line about what a session exchanged and how it ended.
pub(crate) fn stats_line(s: &pollen_proto::sync::SessionStats, error: Option<&str>) -> String {
    let mut line = format!(
        "sent {} and {}; received {} ({} new for you, {} to carry, {} already known) and {}",
        plural(s.envelopes_sent, "envelope", "envelopes"),
        plural(s.proofs_sent, "delivery proof", "delivery proofs"),
        plural(s.envelopes_received, "envelope", "envelopes"),
        s.opened,
        s.carried,
        s.duplicates,
        plural(s.proofs_received, "delivery proof", "delivery proofs"),
    );
    if s.chunks_sent > 0 || s.chunks_received > 0 {
        line.push_str(&format!(
            "; attachment chunks: {} sent, {} received",
            s.chunks_sent, s.chunks_received
        ));
    }
    if s.delivered > 0 || s.purged > 0 {
        line.push_str(&format!(
            "; {} of yours delivered, {} carried copies dropped",
            s.delivered, s.purged
        ));
    }
    if !s.rejected.is_empty() {
        let why: Vec<String> = s
            .rejected
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        line.push_str(&format!("; refused {}", why.join(", ")));
    }
    match error {
        None => line.push_str(" — finished"),
        Some(e) => line.push_str(&format!(" — ended early: {e}")),
    }
    line
}

fn summary_json(peer: Option<&str>, o: &LinkOutcome) -> serde_json::Value {
    let s = &o.stats;
    let mut v = serde_json::json!({
        "finished": o.error.is_none(),
        "error": o.error.as_ref().map(|e| e.to_string()),
        "sent": {
            "envelopes": s.envelopes_sent,
            "proofs": s.proofs_sent,
            "chunks": s.chunks_sent,
            "bytes": s.bytes_sent,
        },
        "received": {
            "envelopes": s.envelopes_received,
            "chunks": s.chunks_received,
            "proofs": s.proofs_received,
            "bytes": s.bytes_received,
            "opened": s.opened,
            "carried": s.carried,
            "duplicates": s.duplicates,
            "rejected": s.rejected,
        },
        "delivered": s.delivered,
        "purged": s.purged,
        "recon": {"round_trips": s.recon_rounds, "bytes": s.recon_bytes},
    });
    if let Some(p) = peer {
        v["peer"] = serde_json::Value::String(p.to_owned());
    }
    v
}
