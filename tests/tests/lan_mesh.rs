//! Pollen's LAN mesh across five real network hosts made of network
//! namespaces (two bridges joined only by h3, which carries messages as a
//! node and routes nothing): runs `tests/netns/lan_mesh.sh`.
//!
//! Creating namespaces needs root, so these tests are `#[ignore]`d and a run
//! as another user reports them as ignored. `scripts/test.sh` runs them as
//! root (`-- --include-ignored`, with `POLLEN_REQUIRE_NETNS=1`); once asked for, they
//! must really run: the script's `SKIP:` (not root) fails them.

use pollen_tests::pollen_bin;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// The two modes build the same addresses and bridges under different
/// names; one at a time keeps their timings apart on a 2-core machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lan_mesh(mode: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("netns/lan_mesh.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--mode", mode])
        .env("POLLEN_BIN", pollen_bin())
        .env_remove("POLLEN_DATA")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    if !stderr.is_empty() {
        println!("stderr:\n{stderr}");
    }
    assert!(
        out.status.success(),
        "lan_mesh.sh --mode {mode} failed ({}); its output is above",
        out.status
    );
    if let Some(skip) = stdout.lines().find(|l| l.starts_with("SKIP:")) {
        panic!("the LAN mesh test was asked for but skipped (run it as root): {skip}");
    }
    assert!(
        stdout.contains("PASSED:"),
        "lan_mesh.sh --mode {mode} exited 0 without PASSED"
    );
}

/// The topology, driven by `pollen serve` and `pollen sync`.
#[test]
#[ignore = "needs root: creates network namespaces"]
fn lan_mesh_with_serve_and_sync() {
    lan_mesh("sync");
}

/// Five `pollen run` nodes finding each other by mDNS: first sessions, a
/// message across h3, a partition, a crash of the carrier, idle CPU.
#[test]
#[ignore = "needs root: creates network namespaces"]
fn lan_mesh_with_pollen_run() {
    lan_mesh("run");
}
