//! Sync sessions between real `pollen` processes over loopback TCP.

use pollen_tests::{Phone, Server, contains};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn a_message_hops_a_to_b_to_c_over_tcp_and_the_proof_comes_back() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Anastasia");
    let b = Phone::new(root.path(), "Bo");
    let c = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    c.ok(&["receipts", "immediate"]);
    a.add(&c);
    c.add(&a);
    let secret = "meet at the well at noon 41c9";
    a.ok(&["send", "--to", "Chen", secret]);

    // A syncs with B (B serving).
    let server_b = Server::start(&b);
    let out = a.json(&["sync", &server_b.addr]);
    assert_eq!(out["finished"], true, "{out}");
    assert_eq!(out["sent"]["envelopes"], 1, "{out}");
    let seen_by_b = server_b.next_session();
    assert_eq!(seen_by_b["received"]["carried"], 1, "{seen_by_b}");
    assert!(server_b.stop().success());
    assert_eq!(b.json(&["status"])["carried_for_others"], 1);

    // B syncs with C (C serving): C reads it, B never could.
    let server_c = Server::start(&c);
    let out = b.json(&["sync", &server_c.addr]);
    assert_eq!(out["finished"], true, "{out}");
    assert_eq!(out["sent"]["envelopes"], 1, "{out}");
    let seen_by_c = server_c.next_session();
    assert_eq!(seen_by_c["received"]["opened"], 1, "{seen_by_c}");
    assert!(server_c.stop().success());
    let inbox = c.inbox();
    assert!(
        inbox
            .iter()
            .any(|m| m["text"] == secret && m["from"] == "Anastasia")
    );
    assert!(b.texts().is_empty());
    assert!(!contains(&b.database_bytes(), secret));
    // C's delivery proof came back in the same session: B dropped its copy.
    assert_eq!(out["received"]["proofs"], 1, "{out}");
    assert_eq!(out["purged"], 1, "{out}");
    assert_eq!(b.json(&["status"])["carried_for_others"], 0);

    // The proof reaches A through B.
    assert_eq!(a.json(&["status"])["own_undelivered"], 1);
    let server_b = Server::start(&b);
    let out = a.json(&["sync", &server_b.addr]);
    assert_eq!(out["finished"], true, "{out}");
    assert_eq!(out["delivered"], 1, "{out}");
    server_b.next_session();
    let status = a.json(&["status"]);
    assert_eq!(status["own_undelivered"], 0);
    assert_eq!(status["own_delivered"], 1);
    assert_eq!(a.inbox()[0]["status"], "delivered");

    // A second encounter has nothing left to send.
    let again = a.json(&["sync", &server_b.addr]);
    assert_eq!(again["sent"]["envelopes"], 0, "{again}");
    assert_eq!(again["received"]["envelopes"], 0, "{again}");
}

#[test]
fn a_hostile_link_is_dropped_and_other_links_are_unaffected() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    b.add(&a);
    b.ok(&["send", "--to", "Ana", "still here"]);
    let a_server = Server::start(&a);

    // Garbage: the server answers with a close reason and hangs up.
    let mut s = TcpStream::connect(&a_server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    assert!(
        contains(&reply, "not a Pollen peer"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let report = a_server.next_session();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("not a Pollen peer")
    );

    // A lying length after a valid preamble.
    let mut s = TcpStream::connect(&a_server.addr).unwrap();
    s.write_all(b"POLN\x01\x01\x00\xb4\xff\xff").unwrap();
    let report = a_server.next_session();
    assert!(
        report["error"].as_str().unwrap().starts_with("framing:"),
        "{report}"
    );

    // A stalled peer holds a link but blocks nobody.
    let _stalled = TcpStream::connect(&a_server.addr).unwrap();
    let out = b.json(&["sync", &a_server.addr]);
    assert_eq!(out["finished"], true, "{out}");
    assert_eq!(out["sent"]["envelopes"], 1);
    assert_eq!(a.texts(), vec!["still here".to_owned()]);
}

#[test]
fn sync_reports_an_unreachable_peer_in_one_line() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    // Bind and drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = a.fails(&["sync", &format!("127.0.0.1:{port}")]);
    assert!(err.contains("cannot connect"), "{err}");
    let err = a.fails(&["sync", "not an address"]);
    assert!(err.contains("bad address"), "{err}");
}
