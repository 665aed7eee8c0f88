//! Killing `pollen` in the middle of an import leaves a database that opens
//! and holds everything an earlier import reported; killing it at random
//! points of ingest, sync, import and eviction (`crash_kills.rs`) loses
//! nothing it acknowledged.

mod crash_support;

use crash_support::{Kind, Stranger};
use pollen_tests::{Phone, pollen_bin};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A bundle of `n` channel envelopes nobody here can read (carried traffic).
fn carried_bundle(path: &Path, n: usize) -> Vec<[u8; 32]> {
    Stranger::new()
        .bundle(path, &vec![Kind::Carried; n])
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn kill_during_import_loses_nothing_reported() {
    let root = tempfile::tempdir().unwrap();
    let b = Phone::new(root.path(), "Bo");
    let first = root.path().join("first.pollen");
    let first_ids = carried_bundle(&first, 600);
    let report = b.json(&["bundle", "import", first.to_str().unwrap()]);
    assert_eq!(report["carried"], 600);

    let second = root.path().join("second.pollen");
    carried_bundle(&second, 20_000);
    let mut child = Command::new(pollen_bin())
        .arg("--data")
        .arg(&b.dir)
        .args(["bundle", "import", second.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("committed"), "{line}");
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        still_running,
        "import finished before it could be killed; make the bundle larger"
    );

    // The database opens, passes SQLite's own check, and holds every envelope
    // of the first import.
    let db = rusqlite::Connection::open(b.dir.join("pollen.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut has = db.prepare("SELECT 1 FROM envelopes WHERE id = ?1").unwrap();
    for id in &first_ids {
        assert!(
            has.exists([&id[..]]).unwrap(),
            "envelope of the first import lost"
        );
    }
    let stored = b.json(&["status"])["envelopes_stored"].as_u64().unwrap();
    assert!(
        stored >= 600 + 256,
        "the reported batch of the second import is kept: {stored}"
    );
    assert!(stored < 600 + 20_000);

    // Importing again completes the interrupted work, each envelope once.
    let again = b.json(&["bundle", "import", second.to_str().unwrap()]);
    assert_eq!(again["complete"], true);
    assert_eq!(b.json(&["status"])["envelopes_stored"], 600 + 20_000);
}
