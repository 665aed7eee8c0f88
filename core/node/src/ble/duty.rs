//! How much radio time Bluetooth LE may take: the app's power mode and the
//! scan and advertising duty cycle it means (the battery budget in
//! `docs/PROTOCOL.md`, "Duty cycle and battery budget").

/// Radio-on time of one advertising event (a 31-byte PDU on three channels
/// and the scan-response exchange), for the battery budget.
pub const ADV_EVENT_US: u64 = 1_500;

/// How much radio time the node may spend, chosen by the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerMode {
    /// The app is on screen: find neighbours within seconds.
    Foreground,
    /// The app is in the background: find neighbours within a minute.
    Background,
    /// The battery is low: find neighbours within two minutes.
    Saver,
}

/// When the node scans and how often it advertises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DutyCycle {
    /// Scanning lasts this long ...
    pub scan_on_ms: u64,
    /// ... at the start of every period this long.
    pub scan_period_ms: u64,
    /// Interval between advertising events (asked of the platform).
    pub adv_interval_ms: u64,
}

impl PowerMode {
    /// The duty cycle of this mode (the battery budget in `docs/PROTOCOL.md`).
    pub fn duty_cycle(self) -> DutyCycle {
        match self {
            PowerMode::Foreground => DutyCycle {
                scan_on_ms: 5_000,
                scan_period_ms: 10_000,
                adv_interval_ms: 250,
            },
            PowerMode::Background => DutyCycle {
                scan_on_ms: 5_000,
                scan_period_ms: 60_000,
                adv_interval_ms: 1_000,
            },
            PowerMode::Saver => DutyCycle {
                scan_on_ms: 4_000,
                scan_period_ms: 120_000,
                adv_interval_ms: 2_000,
            },
        }
    }
}

impl DutyCycle {
    /// Expected radio-on milliseconds per hour spent scanning and advertising
    /// (connections come on top, bounded by the sync work itself).
    pub fn radio_on_ms_per_hour(&self) -> u64 {
        const HOUR: u64 = 3_600_000;
        let scan = HOUR * self.scan_on_ms / self.scan_period_ms;
        let adv = HOUR / self.adv_interval_ms * ADV_EVENT_US / 1000;
        scan + adv
    }

    pub(super) fn scanning_at(&self, phase_start: u64, now: u64) -> bool {
        (now.saturating_sub(phase_start)) % self.scan_period_ms < self.scan_on_ms
    }

    pub(super) fn next_toggle(&self, phase_start: u64, now: u64) -> u64 {
        let into = now.saturating_sub(phase_start) % self.scan_period_ms;
        if into < self.scan_on_ms {
            now + (self.scan_on_ms - into)
        } else {
            now + (self.scan_period_ms - into)
        }
    }
}
