//! One radio link between two simulated nodes, carrying a real sync session
//! each way on virtual time: bytes queue behind each other at the link's
//! rate, arrive after its latency, and the link can drop.

use pollen_proto::sync::session::Session;
use std::collections::VecDeque;

/// How a kind of link behaves.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LinkModel {
    /// Bytes per second each way (0: unlimited).
    pub bytes_per_s: u64,
    /// One-way latency in milliseconds.
    pub latency_ms: u64,
    /// Connection set-up time in milliseconds.
    pub setup_ms: u64,
    /// Largest record (the frame size the session uses).
    pub max_record: usize,
    /// Mean time between random drops in seconds (0: never drops).
    pub mean_drop_s: f64,
    /// Links one node may hold at once of this kind (0: no cap).
    pub max_links: usize,
}

/// One direction: chunks in flight, and when the radio is next free.
#[derive(Default)]
struct Direction {
    queue: VecDeque<(u64, Vec<u8>)>,
    free_at: u64,
}

/// A live link: the two sessions and what is in the air between them.
pub(crate) struct Link {
    pub ends: [u32; 2],
    pub sessions: [Session; 2],
    dirs: [Direction; 2],
    pub model: LinkModel,
    /// When a random drop cuts the link, if it lasts that long.
    pub drop_at: Option<u64>,
    /// Bytes each end wrote.
    pub bytes: [u64; 2],
}

impl Link {
    pub fn new(
        ends: [u32; 2],
        sessions: [Session; 2],
        model: LinkModel,
        drop_at: Option<u64>,
    ) -> Link {
        Link {
            ends,
            sessions,
            dirs: [Direction::default(), Direction::default()],
            model,
            drop_at,
            bytes: [0, 0],
        }
    }

    /// Queues bytes written by end `side` at `now`.
    pub fn send(&mut self, side: usize, bytes: Vec<u8>, now: u64) {
        self.bytes[side] += bytes.len() as u64;
        let dir = &mut self.dirs[side];
        let start = now.max(dir.free_at);
        let airtime = match self.model.bytes_per_s {
            0 => 0,
            rate => (bytes.len() as u64 * 1000).div_ceil(rate),
        };
        dir.free_at = start + airtime;
        dir.queue
            .push_back((dir.free_at + self.model.latency_ms, bytes));
    }

    /// Everything end `side` wrote that has arrived at the other end by `now`.
    pub fn arrived(&mut self, side: usize, now: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let q = &mut self.dirs[side].queue;
        while q.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, chunk)) = q.pop_front() {
                out.extend(chunk);
            }
        }
        out
    }

    /// Whether nothing is in the air.
    pub fn drained(&self) -> bool {
        self.dirs.iter().all(|d| d.queue.is_empty())
    }

    /// When the next chunk lands.
    pub fn next_arrival(&self) -> Option<u64> {
        self.dirs
            .iter()
            .filter_map(|d| d.queue.front().map(|(at, _)| *at))
            .min()
    }
}
