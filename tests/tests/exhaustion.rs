//! Connection exhaustion (checklist D8): idle connections held open, or
//! renewed as fast as they are closed, must not keep an honest peer from a
//! real sync, on a node (`pollen serve`) or on a relay.

use pollen_tests::{Phone, Server, wait_for};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// 120 connections from this host that never say a word, held open.
fn hold_idle(addr: &str) -> Vec<TcpStream> {
    let idle: Vec<TcpStream> = (0..120)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // Let the server accept them all before the honest peer arrives.
    std::thread::sleep(Duration::from_millis(300));
    idle
}

/// From another loopback address (another "host"), keeps opening idle
/// connections (holding the newest 120) until `stop`; returns once it has
/// opened 150, so the honest peer meets a renewing flood.
fn churn(addr: &str, stop: Arc<AtomicBool>) -> (std::thread::JoinHandle<u64>, Arc<AtomicU64>) {
    let target: SocketAddr = addr.parse().unwrap();
    let opened = Arc::new(AtomicU64::new(0));
    let count = opened.clone();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut held = std::collections::VecDeque::new();
            while !stop.load(Ordering::Relaxed) {
                let s = tokio::net::TcpSocket::new_v4().unwrap();
                s.bind("127.0.0.2:0".parse().unwrap()).unwrap();
                if let Ok(c) = s.connect(target).await {
                    opened.fetch_add(1, Ordering::Relaxed);
                    held.push_back(c);
                }
                if held.len() > 120 {
                    held.pop_front();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        opened.load(Ordering::Relaxed)
    });
    wait_for(
        "the flood to renew its connections",
        Duration::from_secs(60),
        || count.load(Ordering::Relaxed) >= 150,
    );
    (handle, count)
}

fn pair(root: &std::path::Path) -> (Phone, Phone) {
    let a = Phone::new(root, "Ana");
    let b = Phone::new(root, "Bo");
    b.add(&a);
    a.add(&b);
    (a, b)
}

#[test]
fn d8_a_real_sync_succeeds_while_120_idle_connections_are_held_open() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(root.path());
    b.ok(&["send", "--to", "Ana", "past the crowd"]);
    let server = Server::start(&a);
    let idle = hold_idle(&server.addr);
    // The honest peer connects from the same host as the 120 idle links.
    let out = b.json(&["sync", &server.addr]);
    assert_eq!(out["finished"], true, "{out}");
    assert_eq!(out["sent"]["envelopes"], 1, "{out}");
    assert_eq!(a.texts(), vec!["past the crowd".to_owned()]);
    drop(idle);
}

#[test]
fn d8_a_real_sync_succeeds_while_another_host_renews_idle_connections() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(root.path());
    let server = Server::start(&a);
    let stop = Arc::new(AtomicBool::new(false));
    let (attacker, opened) = churn(&server.addr, stop.clone());
    let before = opened.load(Ordering::Relaxed);
    for n in 0..3 {
        let text = format!("still getting through {n}");
        b.ok(&["send", "--to", "Ana", &text]);
        let out = b.json(&["sync", &server.addr]);
        assert_eq!(out["finished"], true, "{out}");
        assert_eq!(out["sent"]["envelopes"], 1, "{out}");
    }
    stop.store(true, Ordering::Relaxed);
    let after = attacker.join().unwrap();
    assert!(
        after > before,
        "the flood went on during the syncs: {before} -> {after}"
    );
    assert_eq!(a.texts().len(), 3);
}

#[test]
fn d8_a_relay_serves_honest_clients_while_idle_connections_exceed_its_slots() {
    let root = tempfile::tempdir().unwrap();
    let (a, c) = pair(root.path());
    a.ok(&["send", "--to", "Bo", "through a crowded relay"]);
    let dir = Phone {
        dir: root.path().join("relay"),
        name: "relay".into(),
    };
    // Fewer slots than idle connections, as 2,048 would be against a botnet.
    let r = Server::start_with(
        &dir,
        &["relay", "--listen", "127.0.0.1:0", "--max-links", "64"],
    );
    let host_port = r
        .addr
        .trim_start_matches("pollen-relay://")
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned();
    let idle = hold_idle(&host_port);
    let stop = Arc::new(AtomicBool::new(false));
    let (attacker, opened) = churn(&host_port, stop.clone());
    let before = opened.load(Ordering::Relaxed);
    let up = a.json(&["sync", &r.addr]);
    assert_eq!(up["finished"], true, "{up}");
    assert_eq!(up["sent"]["envelopes"], 1, "{up}");
    let down = c.json(&["sync", &r.addr]);
    assert_eq!(down["received"]["opened"], 1, "{down}");
    stop.store(true, Ordering::Relaxed);
    assert!(attacker.join().unwrap() > before);
    drop(idle);
}
