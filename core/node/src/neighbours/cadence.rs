//! When to sync with one neighbour next: at once when there is news for it,
//! every [`RESYNC_MS`] otherwise, backing off after failures. One rule for
//! every transport whose links the node asks for (TCP dials, platform links);
//! Bluetooth LE keeps its own timings in `ble::manager`, set by the radio's
//! power budget.

/// Re-sync with a quiet neighbour this often, even with nothing new.
pub const RESYNC_MS: u64 = 30_000;
/// First retry delay after a failed session.
pub const BACKOFF_MIN_MS: u64 = 500;
/// Longest retry delay (a neighbour that went away is retried at least this often).
pub const BACKOFF_MAX_MS: u64 = 10_000;
/// A neighbour counts as present this long after its last good session.
pub const PRESENT_MS: u64 = 2 * RESYNC_MS + 5_000;
/// Failures in a row after which a neighbour nobody vouches for (learned
/// from a dial-in, or a platform peer) is forgotten: it is out of range.
pub const MAX_FAILURES: u32 = 5;

/// One neighbour's sync schedule.
#[derive(Clone, Debug)]
pub struct Cadence {
    /// Something new happened here since the last session with it.
    pub dirty: bool,
    /// Failed sessions (or link requests) in a row.
    pub failures: u32,
    /// Not before this time (ms).
    pub next_ms: u64,
    /// Last good session (ms).
    pub last_ok_ms: Option<u64>,
}

impl Cadence {
    /// A neighbour just met: due at once, with news.
    pub fn new(now_ms: u64) -> Cadence {
        Cadence {
            dirty: true,
            failures: 0,
            next_ms: now_ms,
            last_ok_ms: None,
        }
    }

    /// Whether a session is due now (the caller knows whether one runs).
    pub fn due(&self, now_ms: u64) -> bool {
        if now_ms < self.next_ms {
            return false;
        }
        let resync = self.last_ok_ms.is_none_or(|t| now_ms >= t + RESYNC_MS);
        self.dirty || resync || self.failures > 0
    }

    /// A session was started: its news is on the way.
    pub fn started(&mut self) {
        self.dirty = false;
    }

    /// A session finished.
    pub fn succeeded(&mut self, now_ms: u64) {
        self.failures = 0;
        self.last_ok_ms = Some(now_ms);
        self.next_ms = now_ms;
    }

    /// A session or link request failed; `retry_now` when another route to
    /// the same neighbour (its next address) is worth trying at once.
    /// `rounds` is how many full rounds of routes have failed.
    pub fn failed(&mut self, now_ms: u64, retry_now: bool, rounds: u32) {
        self.failures += 1;
        // Gone or unreachable: no longer counted as present.
        self.last_ok_ms = None;
        self.dirty = true;
        let delay = if retry_now {
            0
        } else {
            (BACKOFF_MIN_MS << rounds.min(8)).min(BACKOFF_MAX_MS)
        };
        self.next_ms = now_ms + delay;
    }

    /// A fresh sighting (an advertisement): forget the backoff.
    pub fn refreshed(&mut self, now_ms: u64) {
        if self.failures > 0 {
            self.failures = 0;
            self.next_ms = now_ms;
        }
    }

    /// Whether it had a good session recently.
    pub fn present(&self, now_ms: u64) -> bool {
        self.last_ok_ms.is_some_and(|t| now_ms < t + PRESENT_MS)
    }

    /// The earliest time a session becomes due.
    pub fn next_due(&self) -> u64 {
        if self.dirty || self.failures > 0 {
            self.next_ms
        } else {
            self.last_ok_ms.map_or(self.next_ms, |t| t + RESYNC_MS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_is_due_at_once_and_quiet_waits_for_the_resync() {
        let mut c = Cadence::new(0);
        assert!(c.due(0));
        c.started();
        c.succeeded(100);
        assert!(!c.due(200));
        assert_eq!(c.next_due(), 100 + RESYNC_MS);
        assert!(c.due(100 + RESYNC_MS));
        c.dirty = true;
        assert!(c.due(300));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut c = Cadence::new(0);
        let mut last = 0;
        for round in 1..=20 {
            c.failed(0, false, round);
            let delay = c.next_ms;
            assert!(delay >= last && delay <= BACKOFF_MAX_MS, "{delay}");
            last = delay;
        }
        assert_eq!(last, BACKOFF_MAX_MS);
        c.refreshed(5);
        assert!(c.due(5));
    }
}
