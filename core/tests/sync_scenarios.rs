//! Sync sessions between real nodes (SQLite stores, sealed envelopes) over an
//! in-memory link on virtual time: a BLE-sized link with a throughput cap.

use pollen_core::node::{Clock, Node};
use pollen_core::sync::pump::{LinkModel, PumpReport, pump};
use pollen_core::sync::{Session, SessionConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Default)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const T0: u64 = 1_800_000_000;

fn node(root: &std::path::Path, name: &str, clock: &TestClock) -> Node {
    Node::init(&root.join(name), name, Box::new(clock.clone())).unwrap()
}

/// One encounter over a 180-byte, 10 kB/s link with 30 ms latency.
fn ble(initiator: &mut Node, responder: &mut Node) -> PumpReport {
    let mut a = Session::new(SessionConfig::small(true, "ble-a", 180), T0 * 1000);
    let mut b = Session::new(SessionConfig::small(false, "ble-b", 180), T0 * 1000);
    let model = LinkModel {
        bytes_per_ms: 10,
        latency_ms: 30,
        ..LinkModel::default()
    };
    let r = pump(&mut a, initiator, &mut b, responder, model, T0 * 1000);
    assert!(r.finished, "{:?}", r.events);
    r
}

#[test]
fn a_to_b_to_c_over_a_180_byte_link_and_the_proof_comes_back() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock(Arc::new(AtomicU64::new(T0)));
    let mut a = node(root.path(), "Anastasia", &clock);
    let mut b = node(root.path(), "Bo", &clock);
    let mut c = node(root.path(), "Chen", &clock);
    a.add_contact(&c.card(), None).unwrap();
    c.add_contact(&a.card(), None).unwrap();
    let secret = "the ferry leaves at six 9d2e";
    a.send_direct("Chen", secret).unwrap();
    // Some unrelated carried traffic at B, so priorities matter.
    b.send_channel("market", "fresh bread at the square")
        .or_else(|_| {
            b.join_channel("market").unwrap();
            b.send_channel("market", "fresh bread at the square")
        })
        .unwrap();

    let r = ble(&mut a, &mut b);
    assert_eq!(b.status().unwrap().carried_for_others, 1);
    // A BLE-sized link: at 10 bytes/ms, a few seconds of virtual time.
    assert!(r.elapsed_ms > 100, "{}", r.elapsed_ms);

    let r = ble(&mut b, &mut c);
    let texts: Vec<String> = c
        .messages(None, 10, None)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(texts.contains(&secret.to_owned()), "{texts:?}");
    assert!(
        b.messages(None, 10, None)
            .unwrap()
            .iter()
            .all(|m| m.text != secret)
    );
    // The proof came back to B in the same session and B dropped its copy.
    assert_eq!(b.status().unwrap().carried_for_others, 0, "{r:?}");

    ble(&mut a, &mut b);
    let status = a.status().unwrap();
    assert_eq!(status.own_undelivered, 0);
    assert_eq!(status.own_delivered, 1);
}
