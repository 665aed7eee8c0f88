//! When to sync with one neighbour next: when there is news for it (no
//! sooner than the schedule's least gap after the last sync), every resync
//! period otherwise, backing off after failures. One rule for every way a
//! node meets neighbours: TCP dials, platform links, Bluetooth LE links
//! (`ble::manager`) and the simulator's pairs (`pollen-sim`), each with the
//! [`Schedule`] of its transport.

/// Failures in a row after which a neighbour nobody vouches for (learned
/// from a dial-in, or a platform peer) is forgotten: it is out of range.
pub const MAX_FAILURES: u32 = 5;

/// How often and how patiently one kind of link is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// News goes to a neighbour no sooner than this after its last sync.
    pub min_resync_ms: u64,
    /// What this phone's user just wrote goes no sooner than this after the
    /// last sync: someone is waiting for it, so it does not wait like news
    /// that only passes through.
    pub min_local_ms: u64,
    /// A quiet neighbour is re-synced this often.
    pub resync_ms: u64,
    /// First retry delay after a failure.
    pub backoff_min_ms: u64,
    /// Longest retry delay (a neighbour that went away is retried at least this often).
    pub backoff_max_ms: u64,
}

impl Schedule {
    /// TCP and platform links: a session is cheap, so news goes at once.
    pub const LAN: Schedule = Schedule {
        min_resync_ms: 0,
        min_local_ms: 0,
        resync_ms: 30_000,
        backoff_min_ms: 500,
        backoff_max_ms: 10_000,
    };
    /// Bluetooth LE: a connection costs seconds of radio time and one of a
    /// handful of link slots, so news passing through waits for ten seconds
    /// after a sync and a quiet neighbour waits five minutes; what the user
    /// wrote waits one second (a burst of messages shares one connection).
    pub const BLE: Schedule = Schedule {
        min_resync_ms: 10_000,
        min_local_ms: 1_000,
        resync_ms: 300_000,
        backoff_min_ms: 2_000,
        backoff_max_ms: 120_000,
    };
    /// No gaps and no backoff (the simulator's idealised runs).
    pub const IMMEDIATE: Schedule = Schedule {
        min_resync_ms: 0,
        min_local_ms: 0,
        resync_ms: 30_000,
        backoff_min_ms: 0,
        backoff_max_ms: 0,
    };

    /// A neighbour counts as present this long after its last good session.
    pub fn present_ms(&self) -> u64 {
        2 * self.resync_ms + 5_000
    }

    /// The retry delay after `rounds` full rounds of failures.
    pub fn backoff_ms(&self, rounds: u32) -> u64 {
        (self.backoff_min_ms << rounds.min(16)).min(self.backoff_max_ms)
    }
}

/// One neighbour's sync schedule.
#[derive(Clone, Debug)]
pub struct Cadence {
    /// The rule of the transport it is met on.
    pub schedule: Schedule,
    /// Something new happened here since the last session with it started.
    pub dirty: bool,
    /// Of which something this node's user wrote (see [`Schedule::min_local_ms`]).
    pub urgent: bool,
    /// Failed sessions (or link requests) in a row.
    pub failures: u32,
    /// Not before this time (ms).
    pub next_ms: u64,
    /// Last good session (ms).
    pub last_ok_ms: Option<u64>,
}

impl Cadence {
    /// A neighbour just met: due at once, with news.
    pub fn new(now_ms: u64, schedule: Schedule) -> Cadence {
        Cadence {
            schedule,
            dirty: true,
            urgent: false,
            failures: 0,
            next_ms: now_ms,
            last_ok_ms: None,
        }
    }

    /// Whether a session is due now (the caller knows whether one runs).
    pub fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_due()
    }

    /// A session was started: its news is on the way.
    pub fn started(&mut self) {
        self.dirty = false;
        self.urgent = false;
    }

    /// This node's user wrote something: news that someone waits for.
    pub fn local_news(&mut self) {
        self.dirty = true;
        self.urgent = true;
    }

    /// A session finished.
    pub fn succeeded(&mut self, now_ms: u64) {
        self.failures = 0;
        self.last_ok_ms = Some(now_ms);
        self.next_ms = now_ms;
    }

    /// A session or link request failed; `retry_now` when another route to
    /// the same neighbour (its next address) is worth trying at once.
    /// `rounds` is how many full rounds of routes had failed before this one.
    pub fn failed(&mut self, now_ms: u64, retry_now: bool, rounds: u32) {
        self.failures += 1;
        // What the session was to carry has not arrived.
        self.dirty = true;
        let delay = if retry_now {
            0
        } else {
            self.schedule.backoff_ms(rounds)
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

    /// Whether it had a good session recently and none failed since.
    pub fn present(&self, now_ms: u64) -> bool {
        self.failures == 0
            && self
                .last_ok_ms
                .is_some_and(|t| now_ms < t + self.schedule.present_ms())
    }

    /// The earliest time a session becomes due.
    pub fn next_due(&self) -> u64 {
        let s = &self.schedule;
        match self.last_ok_ms {
            _ if self.failures > 0 => self.next_ms,
            None => self.next_ms,
            Some(t) if self.urgent => self.next_ms.max(t + s.min_local_ms),
            Some(t) if self.dirty => self.next_ms.max(t + s.min_resync_ms),
            Some(t) => self.next_ms.max(t + s.resync_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_is_due_at_once_and_quiet_waits_for_the_resync() {
        let resync = Schedule::LAN.resync_ms;
        let mut c = Cadence::new(0, Schedule::LAN);
        assert!(c.due(0));
        c.started();
        c.succeeded(100);
        assert!(!c.due(200));
        assert_eq!(c.next_due(), 100 + resync);
        assert!(c.due(100 + resync));
        c.dirty = true;
        assert!(c.due(300));
    }

    #[test]
    fn ble_news_waits_for_the_least_gap() {
        let s = Schedule::BLE;
        let mut c = Cadence::new(0, s);
        c.started();
        c.succeeded(1_000);
        c.dirty = true;
        assert!(!c.due(1_000 + s.min_resync_ms - 1));
        assert!(c.due(1_000 + s.min_resync_ms));
        c.dirty = false;
        assert_eq!(c.next_due(), 1_000 + s.resync_ms);
    }

    #[test]
    fn what_the_user_wrote_waits_less_than_news_passing_through() {
        let s = Schedule::BLE;
        let mut c = Cadence::new(0, s);
        c.started();
        c.succeeded(1_000);
        c.local_news();
        assert!(!c.due(1_000 + s.min_local_ms - 1));
        assert!(c.due(1_000 + s.min_local_ms));
        assert!(s.min_local_ms < s.min_resync_ms);
        c.started();
        assert!(!c.urgent, "the session carries it");
        c.dirty = true;
        assert_eq!(c.next_due(), 1_000 + s.min_resync_ms);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_a_sighting_forgets_it() {
        for s in [Schedule::LAN, Schedule::BLE] {
            let mut c = Cadence::new(0, s);
            let mut last = 0;
            for round in 0..20 {
                c.failed(0, false, round);
                let delay = c.next_ms;
                assert!(delay >= last && delay <= s.backoff_max_ms, "{delay}");
                assert!(!c.present(0));
                last = delay;
            }
            assert_eq!(last, s.backoff_max_ms);
            c.refreshed(5);
            assert!(c.due(5));
        }
    }

    #[test]
    fn a_failure_keeps_the_last_sync_but_ends_presence() {
        let mut c = Cadence::new(0, Schedule::LAN);
        c.started();
        c.succeeded(10);
        assert!(c.present(20));
        c.failed(30, false, 0);
        assert_eq!(c.last_ok_ms, Some(10));
        assert!(!c.present(40));
        assert!(c.due(30 + Schedule::LAN.backoff_min_ms));
        c.started();
        c.succeeded(2_000);
        assert!(c.present(2_001));
    }
}
