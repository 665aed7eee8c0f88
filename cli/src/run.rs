//! `pollen run`: the long-running node, with a live status line on a
//! terminal and `tracing` logs otherwise. Writes `run.json` in the data
//! directory every second so `pollen status` in another shell can show it.

use crate::CliError;
use pollen_node::node::Node;
use pollen_runtime::LinkOutcome;
use pollen_runtime::mesh::{MeshConfig, MeshEvent, MeshStatus, Nudge, run_mesh};
use serde_json::json;
use std::cell::RefCell;
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

fn write_status(path: &Path, s: &MeshStatus, node: &Node) {
    let st = node.status().ok();
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
        "carried_for_others": st.as_ref().map(|x| x.carried_for_others),
        "own_undelivered": st.as_ref().map(|x| x.own_undelivered),
        "own_delivered": st.as_ref().map(|x| x.own_delivered),
    });
    // Write then rename, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    if std::fs::write(&tmp, v.to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

fn session_line(peer: &str, outgoing: bool, o: &LinkOutcome) -> String {
    let dir = if outgoing { "->" } else { "<-" };
    format!("{dir} {peer}: {}", crate::net::summary_line(o))
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

/// Runs the node until Ctrl-C or SIGTERM.
pub fn run(
    node: Node,
    dir: PathBuf,
    listen: &str,
    config: MeshConfig,
    ble: bool,
) -> Result<ExitCode, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    if let Some(live) = live_status(&dir) {
        return Err(CliError::Other(format!(
            "a pollen run is already running on {} (pid {}); stop it first",
            dir.display(),
            live["pid"]
        )));
    }
    let tty = std::io::stdout().is_terminal();
    let status_path = dir.join(STATUS_FILE);
    let result = local.block_on(&rt, async {
        // A missing adapter or D-Bus is a clear error before anything starts.
        let radio = if ble {
            Some(crate::ble::open().await?)
        } else {
            None
        };
        let listener = crate::net::bind_and_announce(listen).await?;
        let store = Rc::new(RefCell::new(node));
        let events = {
            let store = store.clone();
            let status_path = status_path.clone();
            move |event: MeshEvent| match event {
                MeshEvent::Status(s) => {
                    let node = store.borrow();
                    write_status(&status_path, &s, &node);
                    if tty && let Ok(st) = node.status() {
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
                MeshEvent::Session {
                    peer,
                    outgoing,
                    outcome,
                } => {
                    let s = &outcome.stats;
                    let busy = s.envelopes_sent + s.envelopes_received + s.proofs_sent
                        + s.proofs_received
                        > 0;
                    if tty && (busy || outcome.error.is_some()) {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "\r\x1b[2K{}", session_line(&peer, outgoing, &outcome));
                    }
                    match &outcome.error {
                        None => tracing::info!(%peer, outgoing, sent = s.envelopes_sent, received = s.envelopes_received, opened = s.opened, proofs_in = s.proofs_received, proofs_out = s.proofs_sent, "session finished"),
                        Some(e) => tracing::info!(%peer, outgoing, reason = %e, "session ended early"),
                    }
                }
                MeshEvent::Found(name, addrs) => {
                    tracing::debug!(%name, ?addrs, "neighbour found");
                }
                MeshEvent::Lost(name) => tracing::debug!(%name, "neighbour lost"),
            }
        };
        // One shutdown signal, heard by the LAN mesh and the BLE central.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::task::spawn_local(async move {
            crate::net::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let nudge = Nudge::default();
        let mesh = run_mesh(
            listener,
            store.clone(),
            config,
            nudge.clone(),
            events,
            stopped(stop_rx.clone()),
        );
        match radio {
            Some(radio) => {
                let central = crate::ble::run(radio, store, nudge, stopped(stop_rx));
                let (mesh, central) = tokio::join!(mesh, central);
                central?;
                mesh.map_err(|e| CliError::Other(e.to_string()))
            }
            None => mesh.await.map_err(|e| CliError::Other(e.to_string())),
        }
    });
    let _ = std::fs::remove_file(&status_path);
    if tty {
        println!();
    }
    result.map(|()| ExitCode::SUCCESS)
}
