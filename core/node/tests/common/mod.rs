//! Fixtures shared by the node's integration tests: a clock the test moves,
//! and nodes on it in a temporary directory.

#![allow(dead_code)] // each test file uses its own part

use pollen_node::node::{Clock, Node};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fixed start time (2027), far from any edge.
pub const T0: u64 = 1_800_000_000;

/// Unix seconds the test sets; clones share one time.
#[derive(Clone, Default)]
pub struct TestClock(pub Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    /// A clock at `t`.
    pub fn at(t: u64) -> Self {
        Self(Arc::new(AtomicU64::new(t)))
    }

    /// One second later.
    pub fn tick(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Moves the clock to `t` (Unix seconds).
    #[allow(dead_code)]
    pub fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

/// A new identity named `name` under `root`, on `clock`.
pub fn node(root: &std::path::Path, name: &str, clock: &TestClock) -> Node {
    Node::init(&root.join(name), name, Box::new(clock.clone())).unwrap()
}

/// Ana and Chen under `root`, on `clock`, each holding the other's card.
pub fn ana_and_chen(root: &std::path::Path, clock: &TestClock) -> (Node, Node) {
    let a = node(root, "Ana", clock);
    let c = node(root, "Chen", clock);
    a.add_contact(&c.card(), None).unwrap();
    c.add_contact(&a.card(), None).unwrap();
    (a, c)
}

/// Every envelope `from` holds, handed to `to`.
pub fn carry_all(from: &pollen_node::node::Node, to: &pollen_node::node::Node) {
    let all: Vec<_> = from
        .store()
        .envelopes(from.now())
        .unwrap()
        .into_iter()
        .map(|r| (r.bytes, Some(r.id)))
        .collect();
    to.ingest_envelopes(&all, "test").unwrap();
}
