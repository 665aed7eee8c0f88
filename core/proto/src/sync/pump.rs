//! A deterministic in-memory link between two sessions, with a throughput
//! cap, latency and a cut point: for tests, benchmarks and the simulator.
//! Time is virtual, so nothing here sleeps.

use super::session::{Session, SessionEvent};
use super::store::SyncStore;
use std::collections::VecDeque;

/// How the simulated link behaves.
#[derive(Clone, Copy, Debug)]
pub struct LinkModel {
    /// Bytes each direction carries per millisecond (`usize::MAX`: unlimited).
    pub bytes_per_ms: usize,
    /// One-way delay in milliseconds.
    pub latency_ms: u64,
    /// Break the link after this many bytes have been written (both ways).
    pub cut_after: Option<u64>,
    /// Give up after this much virtual time.
    pub max_ms: u64,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            bytes_per_ms: usize::MAX,
            latency_ms: 1,
            cut_after: None,
            max_ms: 600_000,
        }
    }
}

/// What happened on the link.
#[derive(Debug, Default)]
pub struct PumpReport {
    /// Both sessions finished normally.
    pub finished: bool,
    /// The link was cut before that.
    pub cut: bool,
    /// Virtual milliseconds from start to end.
    pub elapsed_ms: u64,
    /// Bytes written by the first and the second side.
    pub bytes: [u64; 2],
    /// Every event of the first and the second side, in order.
    pub events: [Vec<SessionEvent>; 2],
}

struct Direction {
    queue: VecDeque<(u64, Vec<u8>)>,
}

impl Direction {
    /// Delivers what is due at `now` within `budget` bytes.
    fn take(&mut self, now: u64, mut budget: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while budget > 0 {
            let Some((at, chunk)) = self.queue.front_mut() else {
                break;
            };
            if *at > now {
                break;
            }
            if chunk.len() <= budget {
                budget -= chunk.len();
                out.extend_from_slice(chunk);
                self.queue.pop_front();
            } else {
                out.extend_from_slice(&chunk[..budget]);
                chunk.drain(..budget);
                budget = 0;
            }
        }
        out
    }

    fn next_at(&self) -> Option<u64> {
        self.queue.front().map(|(at, _)| *at)
    }
}

/// A store seen as `dyn SyncStore`, sized or not: what [`pump_with`] takes,
/// so its hook gets the caller's own type back.
pub trait AsDynStore {
    /// The store as a trait object.
    fn as_dyn(&mut self) -> &mut dyn SyncStore;
}

impl<T: SyncStore> AsDynStore for T {
    fn as_dyn(&mut self) -> &mut dyn SyncStore {
        self
    }
}

impl AsDynStore for dyn SyncStore + '_ {
    fn as_dyn(&mut self) -> &mut dyn SyncStore {
        self
    }
}

/// Runs two sessions against each other from `start_ms` until both finish,
/// one closes, or the link is cut (then both get `link_lost`).
pub fn pump(
    a: &mut Session,
    store_a: &mut dyn SyncStore,
    b: &mut Session,
    store_b: &mut dyn SyncStore,
    model: LinkModel,
    start_ms: u64,
) -> PumpReport {
    pump_with(a, store_a, b, store_b, model, start_ms, |_, _, _, _| {})
}

/// [`pump`], calling `during(now, a, store_a, b)` at every step: a test or
/// a benchmark acting on the first side while the link runs (writing a
/// message mid-transfer, say).
pub fn pump_with<A: AsDynStore + ?Sized, B: AsDynStore + ?Sized>(
    a: &mut Session,
    store_a: &mut A,
    b: &mut Session,
    store_b: &mut B,
    model: LinkModel,
    start_ms: u64,
    mut during: impl FnMut(u64, &mut Session, &mut A, &Session),
) -> PumpReport {
    let mut report = PumpReport::default();
    let mut dirs = [
        Direction {
            queue: VecDeque::new(),
        },
        Direction {
            queue: VecDeque::new(),
        },
    ];
    let mut now = start_ms;
    let mut written: u64 = 0;
    let mut cut = false;
    loop {
        during(now, a, store_a, b);
        let mut progressed = false;
        // Writes.
        for (side, dir) in [(0usize, 0usize), (1, 1)] {
            let (session, store): (&mut Session, &mut dyn SyncStore) = if side == 0 {
                (&mut *a, store_a.as_dyn())
            } else {
                (&mut *b, store_b.as_dyn())
            };
            while !cut && let Some(mut bytes) = session.poll_transmit(store) {
                progressed = true;
                if let Some(limit) = model.cut_after
                    && written + bytes.len() as u64 >= limit
                {
                    bytes.truncate((limit - written) as usize);
                    cut = true;
                }
                written += bytes.len() as u64;
                report.bytes[side] += bytes.len() as u64;
                if !bytes.is_empty() {
                    dirs[dir].queue.push_back((now + model.latency_ms, bytes));
                }
            }
        }
        // Deliveries: side 0 writes into direction 0, which side 1 reads.
        for (dir, reader) in [(0usize, 1usize), (1, 0)] {
            let bytes = dirs[dir].take(now, model.bytes_per_ms);
            if bytes.is_empty() {
                continue;
            }
            progressed = true;
            if reader == 0 {
                a.handle_input(&bytes, now, store_a.as_dyn());
            } else {
                b.handle_input(&bytes, now, store_b.as_dyn());
            }
        }
        // Timers.
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now, store_a.as_dyn());
            progressed = true;
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now, store_b.as_dyn());
            progressed = true;
        }
        while let Some(e) = a.poll_event() {
            report.events[0].push(e);
        }
        while let Some(e) = b.poll_event() {
            report.events[1].push(e);
        }
        let drained = dirs.iter().all(|d| d.queue.is_empty());
        if cut && drained {
            a.link_lost(store_a.as_dyn());
            b.link_lost(store_b.as_dyn());
            report.cut = true;
            break;
        }
        if a.is_closed() && b.is_closed() && drained {
            // Both may still hold final bytes (a close reason, the last Done).
            let (mut fa, mut fb) = (Vec::new(), Vec::new());
            while let Some(x) = a.poll_transmit(store_a.as_dyn()) {
                fa.extend(x);
            }
            while let Some(x) = b.poll_transmit(store_b.as_dyn()) {
                fb.extend(x);
            }
            if fa.is_empty() && fb.is_empty() {
                break;
            }
            report.bytes[0] += fa.len() as u64;
            report.bytes[1] += fb.len() as u64;
            continue;
        }
        if now - start_ms >= model.max_ms {
            break;
        }
        if !progressed {
            // Jump to the next thing that can happen.
            let next = [
                dirs[0].next_at(),
                dirs[1].next_at(),
                a.poll_timeout(),
                b.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t > now => now = t,
                Some(_) => now += 1,
                None => break,
            }
        } else if !drained {
            now += 1;
        }
    }
    while let Some(e) = a.poll_event() {
        report.events[0].push(e);
    }
    while let Some(e) = b.poll_event() {
        report.events[1].push(e);
    }
    report.finished = a.is_finished() && b.is_finished();
    report.elapsed_ms = now - start_ms;
    report
}
