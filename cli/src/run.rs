//! `pollen run`: the long-running node, with a live status line on a
//! terminal and `tracing` logs otherwise. Writes `run.json` in the data
//! directory every second so `pollen status` in another shell can show it.

use crate::CliError;
use pollen_node::node::Node;
use pollen_node::node::Status as NodeStatus;
use pollen_runtime::host::{EventSink, HostError, HostEvent, HostOptions, NodeHost};
use pollen_runtime::mesh::MeshStatus;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

/// Name of the live status file in the data directory.
pub const STATUS_FILE: &str = "run.json";
/// A status file older than this is from a node that is no longer running.
const STALE_SECS: u64 = 5;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The running node's figures, if a `pollen run` is alive on `dir`.
pub fn live_status(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let fresh = v["updated_at"]
        .as_u64()
        .is_some_and(|t| unix_now() <= t + STALE_SECS);
    let alive = v["pid"]
        .as_u64()
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    (fresh && (alive || !Path::new("/proc/self").exists())).then_some(v)
}

fn write_status(path: &Path, s: &MeshStatus, st: Option<&NodeStatus>) {
    let v = json!({
        "pid": std::process::id(),
        "listen": s.listen,
        "neighbours": s.neighbours,
        "relays": s.relays,
        "known": s.known,
        "links": s.links,
        "sessions": s.sessions,
        "failed_sessions": s.failed,
        "up_s": s.up_ms / 1000,
        "updated_at": unix_now(),
        "carried_for_others": st.map(|x| x.carried_for_others),
        "own_undelivered": st.map(|x| x.own_undelivered),
        "own_delivered": st.map(|x| x.own_delivered),
    });
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    if std::fs::write(&tmp, v.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

/// Relay addresses from `--relay` and from the file `relays` in the data
/// directory (one per line; `#` starts a comment).
pub fn relay_addresses(
    dir: &Path,
    given: &[String],
) -> Result<Vec<pollen_runtime::relay::RelayAddress>, CliError> {
    let file = std::fs::read_to_string(dir.join("relays")).unwrap_or_default();
    let from_file = file
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    let mut out = Vec::new();
    for a in given.iter().cloned().chain(from_file) {
        let parsed = a
            .parse()
            .map_err(|e: pollen_runtime::relay::RelayAddressError| {
                CliError::Other(e.to_string())
            })?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

/// Runs the node until Ctrl-C or SIGTERM, on the same node runtime the
/// phones use (`pollen_runtime::host`): this thread only prints and writes
/// the status file.
pub fn run(
    node: Node,
    dir: PathBuf,
    options: HostOptions,
    ble: bool,
) -> Result<ExitCode, CliError> {
    if let Some(live) = live_status(&dir) {
        return Err(CliError::Other(format!(
            "a pollen run is already running on {} (pid {}); stop it first",
            dir.display(),
            live["pid"]
        )));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    // A missing adapter or D-Bus is a clear error before anything starts.
    let radio = if ble {
        Some(rt.block_on(crate::ble::open())?)
    } else {
        None
    };
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel::<HostEvent>();
    let host = NodeHost::spawn(node, move || -> EventSink {
        Rc::new(move |e| {
            let _ = tx.send(e);
        })
    })
    .map_err(host_error)?;
    let status_path = dir.join(STATUS_FILE);
    let result = rt.block_on(async {
        host.start(options).await.map_err(host_error)?;
        let addr = host
            .call(|core| Ok(core.figures().lan_address))
            .map_err(host_error)?
            .unwrap_or_default();
        println!("{addr}");
        let _ = std::io::stdout().flush();
        if let Some(radio) = radio {
            host.call(move |core| {
                let ble = core.ble.clone();
                core.spawn_until_stop(move |stopped| async move {
                    if let Err(e) = crate::ble::run(radio, ble, stopped).await {
                        tracing::warn!(error = %e, "BLE central stopped");
                    }
                })
            })
            .map_err(host_error)?;
        }
        let tty = std::io::stdout().is_terminal();
        let signal = crate::net::shutdown_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                _ = &mut signal => break,
                Some(event) = events.recv() => show(&host, &status_path, tty, event),
            }
        }
        host.stop().await.map_err(host_error)?;
        if tty {
            println!();
        }
        Ok::<_, CliError>(())
    });
    host.shutdown(true);
    let _ = std::fs::remove_file(&status_path);
    result.map(|()| ExitCode::SUCCESS)
}

fn host_error(e: HostError) -> CliError {
    CliError::Other(e.to_string())
}

/// Prints and records one event of the running node.
fn show(host: &NodeHost, status_path: &Path, tty: bool, event: HostEvent) {
    match event {
        HostEvent::LanStatus(s) => {
            let Ok(st) = host.call(|core| Ok(core.node.borrow().status().ok())) else {
                return;
            };
            write_status(status_path, &s, st.as_ref());
            if tty && let Some(st) = st {
                let mut out = std::io::stdout().lock();
                let _ = write!(
                    out,
                    "\r\x1b[2K{} · {} neighbour(s) · {} session(s) · carrying {} · own pending {} / delivered {}",
                    s.listen,
                    s.neighbours,
                    s.sessions,
                    st.carried_for_others,
                    st.own_undelivered,
                    st.own_delivered
                );
                let _ = out.flush();
            }
        }
        HostEvent::Session {
            peer,
            outgoing,
            stats: s,
            error,
            ..
        } => {
            let busy =
                s.envelopes_sent + s.envelopes_received + s.proofs_sent + s.proofs_received > 0;
            if tty && (busy || error.is_some()) {
                let dir = if outgoing { "->" } else { "<-" };
                let line = crate::net::stats_line(&s, error.as_deref());
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "\r\x1b[2K{dir} {peer}: {line}");
            }
            match &error {
                None => {
                    tracing::info!(%peer, outgoing, sent = s.envelopes_sent, received = s.envelopes_received, opened = s.opened, proofs_in = s.proofs_received, proofs_out = s.proofs_sent, "session finished")
                }
                Some(e) => tracing::info!(%peer, outgoing, reason = %e, "session ended early"),
            }
        }
        HostEvent::NeighbourAppeared { id, kind } => {
            tracing::debug!(%id, ?kind, "neighbour found")
        }
        HostEvent::NeighbourLeft { id, kind } => tracing::debug!(%id, ?kind, "neighbour lost"),
    }
}
