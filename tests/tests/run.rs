//! `pollen run` on loopback with `--peer` (no multicast needed): news is
//! pushed within about a second, `status` shows the running node, and SIGTERM
//! shuts down cleanly. The mDNS mesh across hosts is `lan_mesh.rs`.

use pollen_tests::{Phone, Server, wait_for};
use std::path::Path;
use std::time::Duration;

/// True when the WAL holds frames and all of them are in the database
/// file: the WAL-index header (sqlite.org/walformat.html) keeps the last
/// valid frame (`mxFrame`, bytes 16..20) and the frames checkpointed
/// (`nBackfill`, bytes 96..100), in the machine's byte order.
fn wal_copied(shm: &Path) -> bool {
    let Ok(b) = std::fs::read(shm) else {
        return false;
    };
    let word = |at: usize| {
        b.get(at..at + 4)
            .map(|w| u32::from_ne_bytes(w.try_into().unwrap()))
    };
    matches!((word(16), word(96)), (Some(max), Some(back)) if max > 0 && back == max)
}

#[test]
fn run_pushes_a_local_message_to_its_neighbour_and_stops_cleanly() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    a.ok(&["receipts", "immediate"]);
    b.ok(&["receipts", "immediate"]);
    a.add(&b);
    b.add(&a);
    let run_b = Server::start_with(&b, &["run", "--listen", "127.0.0.1:0", "--no-mdns"]);
    let run_a = Server::start_with(
        &a,
        &[
            "run",
            "--listen",
            "127.0.0.1:0",
            "--no-mdns",
            "--peer",
            &run_b.addr,
        ],
    );
    wait_for("a first session", Duration::from_secs(20), || {
        a.json(&["status"])["run"]["sessions"].as_u64() >= Some(1)
    });
    let status = a.json(&["status"]);
    assert_eq!(status["run"]["listen"], run_a.addr.as_str());
    let err = a.fails(&["run", "--listen", "127.0.0.1:0", "--no-mdns"]);
    assert!(err.contains("already running"), "{err}");
    assert_eq!(status["run"]["neighbours"], 1, "{status}");

    // Written by another process on A's data dir while A runs.
    a.ok(&["send", "--to", "Bo", "pushed by run"]);
    let took = wait_for("B to receive", Duration::from_secs(20), || {
        b.texts().contains(&"pushed by run".to_owned())
    });
    eprintln!("local write to neighbour's inbox: {took:?}");
    // B is idle again, and its runtime copies the WAL into the database
    // then, not while a session commits (a few frames never reach SQLite's
    // own automatic checkpoint).
    let copied = wait_for("B's idle checkpoint", Duration::from_secs(10), || {
        wal_copied(&b.dir.join("pollen.db-shm"))
    });
    eprintln!("B's WAL copied {copied:?} after the message showed");
    wait_for("A to see it delivered", Duration::from_secs(20), || {
        a.json(&["status"])["own_delivered"] == 1
    });

    assert!(run_a.stop().success(), "SIGTERM ends run with status 0");
    assert!(run_b.stop().success());
    assert!(
        a.json(&["status"])["run"].is_null(),
        "the status file is removed"
    );
    assert!(!a.dir.join("run.json").exists());
}

#[test]
fn an_unreachable_relay_breaks_nothing_on_the_lan() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    a.add(&b);
    b.add(&a);
    // No internet: the relay's port is closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let relay = format!("pollen-relay://{closed}/{}", "ab".repeat(32));
    let run_b = Server::start_with(&b, &["run", "--listen", "127.0.0.1:0", "--no-mdns"]);
    let run_a = Server::start_with(
        &a,
        &[
            "run",
            "--listen",
            "127.0.0.1:0",
            "--no-mdns",
            "--peer",
            &run_b.addr,
            "--relay",
            &relay,
        ],
    );
    a.ok(&["send", "--to", "Bo", "no uplink today"]);
    wait_for("B to receive over the LAN", Duration::from_secs(20), || {
        b.texts().contains(&"no uplink today".to_owned())
    });
    // The relay is tried (and fails) while the LAN works.
    wait_for(
        "the relay attempt to be counted",
        Duration::from_secs(20),
        || a.json(&["status"])["run"]["failed_sessions"].as_u64() >= Some(1),
    );
    assert_eq!(a.json(&["status"])["run"]["relays"], 0);
    assert!(run_a.stop().success());
    assert!(run_b.stop().success());
    // A malformed relay address is a clear error before anything starts.
    let err = a.fails(&["run", "--no-mdns", "--relay", "http://example.org"]);
    assert!(err.contains("not a relay address"), "{err}");
}
