//! Fixtures the app model's tests share: a clock the test moves, in-memory
//! nodes on it that know each other, and hand-carrying envelopes.

#![allow(dead_code)] // each test file uses its own part

use pollen_node::node::{Clock, IngestOutcome, Node};
use pollen_node::store::StoreLimits;
use pollen_proto::envelope::{DeliveryProof, EnvelopeId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Unix seconds the test sets; clones share one time.
#[derive(Clone)]
pub struct TestClock(pub Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// 2027-01-15 08:00:00 UTC.
pub const T0: u64 = 1_800_000_000;
/// One day in seconds.
pub const DAY: u64 = 86_400;

impl TestClock {
    /// A clock at `t`.
    pub fn at(t: u64) -> Self {
        Self(Arc::new(AtomicU64::new(t)))
    }
    /// Moves the time on by `secs`.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    /// The time now.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// An in-memory node called `name` on `clock`, keeping its events.
pub fn node(name: &str, clock: &TestClock) -> Node {
    let n = Node::in_memory(name, StoreLimits::default(), Box::new(clock.clone())).unwrap();
    n.watch_events(true);
    n
}

/// Nodes that know each other's cards.
pub fn people(names: &[&str]) -> (TestClock, Vec<Node>) {
    let clock = TestClock::at(T0);
    let nodes: Vec<Node> = names.iter().map(|n| node(n, &clock)).collect();
    for a in &nodes {
        for b in &nodes {
            if a.card() != b.card() {
                a.add_contact(&b.card(), None).unwrap();
            }
        }
    }
    for n in &nodes {
        n.take_events();
    }
    (clock, nodes)
}

/// Hands the envelope `id` from `from` to `to`; returns the proof, if any.
pub fn carry(from: &Node, to: &Node, id: EnvelopeId) -> Option<DeliveryProof> {
    let rec = from
        .store()
        .envelopes(from.now())
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("envelope held");
    match to
        .ingest_envelopes(&[(rec.bytes, Some(rec.id))], "test")
        .unwrap()[0]
    {
        Ok(IngestOutcome::Opened { proof, .. }) => proof,
        ref other => panic!("not opened: {other:?}"),
    }
}

/// Hands every envelope `from` holds to `to` (what is not for `to` is carried).
pub fn carry_all(from: &Node, to: &Node) {
    let batch: Vec<_> = from
        .store()
        .envelopes(from.now())
        .unwrap()
        .into_iter()
        .map(|r| (r.bytes, Some(r.id)))
        .collect();
    // Envelopes `to` holds already come back as duplicates: that is fine.
    to.ingest_envelopes(&batch, "test").unwrap();
}
