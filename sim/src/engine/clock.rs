//! Virtual time shared by every simulated node.

use pollen_node::node::Clock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A clock the engine moves; nodes read it like the wall clock.
#[derive(Clone, Debug)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    /// A clock at `ms` unix milliseconds.
    pub fn new(ms: u64) -> SimClock {
        SimClock(Arc::new(AtomicU64::new(ms)))
    }

    /// Moves the clock to `ms` unix milliseconds.
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::Relaxed);
    }
}

impl Clock for SimClock {
    fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
