//! Relays on loopback, as separate processes: islands that never meet reach
//! each other through a relay, which sees only ciphertext; a relay address
//! with the wrong key is refused; junk sessions do not stop honest clients.

use pollen_tests::{Phone, Server, contains, wait_for};
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// Starts `pollen relay`; returns it, its data directory and its metrics address.
fn relay(root: &std::path::Path) -> (Server, Phone, String) {
    // A Phone only for its data directory; `pollen relay` creates its store.
    let dir = Phone {
        dir: root.join("relay"),
        name: "relay".into(),
    };
    let metrics = free_port();
    let r = Server::start_with(
        &dir,
        &["relay", "--listen", "127.0.0.1:0", "--metrics", &metrics],
    );
    assert!(
        r.addr.starts_with("pollen-relay://127.0.0.1:"),
        "{}",
        r.addr
    );
    (r, dir, metrics)
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn two_islands_meet_through_a_relay_that_sees_only_ciphertext() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Anastasia");
    let b = Phone::new(root.path(), "Bo");
    let c = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    c.ok(&["receipts", "immediate"]);
    a.add(&c);
    c.add(&a);
    let secret = "the clinic opens at eight 5e1d";
    a.ok(&["send", "--to", "Chen", secret]);

    // Island 1: A and B, no uplink.
    let island = Server::start(&b);
    assert_eq!(a.json(&["sync", &island.addr])["sent"]["envelopes"], 1);
    island.stop();

    // B gets online and reaches the relay: it becomes a gateway for what it carries.
    let (r, r_dir, _) = relay(root.path());
    let up = b.json(&["sync", &r.addr]);
    assert_eq!(up["finished"], true, "{up}");
    assert_eq!(up["sent"]["envelopes"], 1, "{up}");

    // C never met A or B; it reaches the relay from elsewhere and reads A's message.
    let down = c.json(&["sync", &r.addr]);
    assert_eq!(down["received"]["opened"], 1, "{down}");
    assert!(c.texts().contains(&secret.to_owned()));
    // C's proof went back in the same session: the relay dropped its copy.
    assert_eq!(down["sent"]["proofs"], 1, "{down}");
    assert!(
        !contains(&r_dir.database_bytes(), secret),
        "relay holds no plaintext"
    );

    // B comes back online: the relay hands it the proof and B drops its copy.
    assert_eq!(b.json(&["status"])["carried_for_others"], 1);
    let again = b.json(&["sync", &r.addr]);
    assert_eq!(again["finished"], true, "{again}");
    assert_eq!(b.json(&["status"])["carried_for_others"], 0, "{again}");
    // A hears of it through B, as a gateway with `pollen run --relay` this time.
    let run_b = Server::start_with(
        &b,
        &[
            "run",
            "--listen",
            "127.0.0.1:0",
            "--no-mdns",
            "--relay",
            &r.addr,
        ],
    );
    let out = a.json(&["sync", &run_b.addr]);
    assert_eq!(out["delivered"], 1, "{out}");
    assert_eq!(a.json(&["status"])["own_delivered"], 1);
    wait_for(
        "B's run to reach the relay",
        Duration::from_secs(30),
        || b.json(&["status"])["run"]["relays"].as_u64() >= Some(1),
    );
    assert!(run_b.stop().success());
    assert!(r.stop().success());
}

#[test]
fn a_relay_address_with_the_wrong_key_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let (r, _, _) = relay(root.path());
    let (host, _) = r.addr.rsplit_once('/').unwrap();
    let fake = format!("{host}/{}", "ab".repeat(32));
    let err = a.fails(&["sync", &fake]);
    assert!(err.contains("relay authentication failed"), "{err}");
    // The right key works.
    assert_eq!(a.json(&["sync", &r.addr])["finished"], true);
    // And a neighbour that is not a relay refuses a relay handshake.
    let b = Phone::new(root.path(), "Bo");
    let plain = Server::start(&b);
    let host_port = plain.addr.clone();
    let err = a.fails(&[
        "sync",
        &format!("pollen-relay://{host_port}/{}", "cd".repeat(32)),
    ]);
    assert!(err.contains("relay authentication failed"), "{err}");
}

#[test]
fn junk_sessions_do_not_stop_honest_clients_and_metrics_count_them() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let c = Phone::new(root.path(), "Chen");
    a.add(&c);
    c.add(&a);
    a.ok(&["send", "--to", "Chen", "through the storm"]);
    let (r, _, metrics) = relay(root.path());
    let host_port = r
        .addr
        .trim_start_matches("pollen-relay://")
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    // 200 junk connections: half send garbage, half stall (bounded: they are
    // closed when this test ends, and the relay drops stalled ones after 5 s).
    let rss_before = r.rss_kib();
    let mut junk = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(&host_port).unwrap();
        if i % 2 == 0 {
            let _ = s.write_all(b"\x00\x01garbage garbage garbage");
        }
        junk.push(s);
    }
    let started = Instant::now();
    assert_eq!(a.json(&["sync", &r.addr])["finished"], true);
    assert_eq!(c.json(&["sync", &r.addr])["received"]["opened"], 1);
    eprintln!(
        "honest upload + download beside 200 junk links: {:?}",
        started.elapsed()
    );
    let rss_during = r.rss_kib();
    eprintln!("relay RSS: {rss_before} KiB before, {rss_during} KiB with 200 junk links");
    assert!(rss_before > 0, "cannot read the relay's memory");
    assert!(
        rss_during < rss_before + 64 * 1024,
        "junk links must not grow the relay's memory without bound"
    );
    drop(junk);
    // Metrics are served in Prometheus text format.
    let metrics = Command::new("python3")
        .args([
            "-c",
            "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
        ])
        .arg(format!("http://{metrics}/metrics"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.stdout);
    assert!(
        text.contains("pollen_relay_sessions_total{result=\"finished\"}"),
        "{text}"
    );
    assert!(
        text.contains("pollen_relay_envelopes_received_total"),
        "{text}"
    );
}
