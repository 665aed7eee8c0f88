//! Synthetic message workloads: the uniform direct-message workload used
//! for replayed traces, and the pieces the built-in scenarios compose
//! their social workloads from (sizes, times of day, shares).
//!
//! Sizes are log-uniform between the bounds: most texts are short, a few
//! are long, as in real chat logs, rather than evenly spread.

use crate::scenario::rng::{SimRng, stream};

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// One person, by node id.
    Direct(u32),
    /// Every member of a group, by index into [`Scenario::groups`](crate::Scenario::groups).
    Group(u32),
    /// Every member of the public channel.
    Channel,
}

/// One message the workload writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageSpec {
    /// When it is written, seconds.
    pub at: f64,
    /// The writer (a Person).
    pub from: u32,
    /// Who it is for.
    pub to: Target,
    /// Plaintext size in bytes.
    pub size: usize,
    /// Seconds after `at` it may be dropped.
    pub ttl: f64,
}

/// How to write messages: sizes, time to live.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// Plaintext size range `(min, max)`, bytes, inclusive.
    pub size: (usize, usize),
    /// Time to live, seconds.
    pub ttl: f64,
}

/// Collects messages, drawing each one's size.
#[derive(Debug, Clone)]
pub struct Writer {
    style: Style,
    /// The stream sizes and choices are drawn from.
    pub rng: SimRng,
    out: Vec<MessageSpec>,
}

impl Writer {
    /// An empty workload drawing from `rng`.
    pub fn new(style: Style, rng: SimRng) -> Self {
        Writer {
            style,
            rng,
            out: Vec::new(),
        }
    }

    /// Adds a message from `from` to `to`, written at `at`.
    pub fn write(&mut self, at: f64, from: u32, to: Target) {
        let size = log_uniform(&mut self.rng, self.style.size);
        self.out.push(MessageSpec {
            at,
            from,
            to,
            size,
            ttl: self.style.ttl,
        });
    }

    /// The workload, sorted (see [`sort_messages`]).
    pub fn finish(mut self) -> Vec<MessageSpec> {
        sort_messages(&mut self.out);
        self.out
    }
}

/// A size in `min..=max`, log-uniform.
pub fn log_uniform(rng: &mut SimRng, (min, max): (usize, usize)) -> usize {
    let (lo, hi) = (
        libm::log(min.max(1) as f64),
        libm::log((max.max(min) + 1) as f64),
    );
    (libm::exp(rng.range(lo, hi)) as usize).clamp(min, max.max(min))
}

/// Sorts by time, then sender, target, size: a total order, so equal
/// workloads compare equal whatever built them.
pub fn sort_messages(messages: &mut [MessageSpec]) {
    let key = |t: &Target| match *t {
        Target::Direct(n) => (0, n),
        Target::Group(g) => (1, g),
        Target::Channel => (2, 0),
    };
    messages.sort_by(|x, y| {
        x.at.total_cmp(&y.at)
            .then(x.from.cmp(&y.from))
            .then(key(&x.to).cmp(&key(&y.to)))
            .then(x.size.cmp(&y.size))
            .then(x.ttl.total_cmp(&y.ttl))
    });
}

/// Splits `total` into parts proportional to `shares` (largest remainder),
/// so the parts add up to `total` exactly.
pub fn apportion(total: u32, shares: &[f64]) -> Vec<u32> {
    let sum: f64 = shares.iter().map(|s| s.max(0.0)).sum();
    if sum <= 0.0 {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares
        .iter()
        .map(|s| f64::from(total) * s.max(0.0) / sum)
        .collect();
    let mut parts: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Stable sort on the remainder: ties go to the earlier share.
    order.sort_by(|&i, &j| (exact[j] - exact[j].floor()).total_cmp(&(exact[i] - exact[i].floor())));
    let missing = total - parts.iter().sum::<u32>();
    for &i in order.iter().take(missing as usize) {
        parts[i] += 1;
    }
    parts
}

/// A time in `[0, duration)` during the daily window `[from_h, to_h)`
/// (hours of the clock, `clock0_h` being the clock at time 0); uniform
/// over the window's occurrences. Falls back to uniform over the whole
/// run if the run holds no such window.
pub fn daytime(rng: &mut SimRng, duration: f64, clock0_h: f64, from_h: f64, to_h: f64) -> f64 {
    const DAY: f64 = 86_400.0;
    let first_day = -1.0;
    let days = (duration / DAY).ceil() + 1.0;
    for _ in 0..64 {
        let day = first_day + rng.below(days as usize + 1) as f64;
        let t = day * DAY + rng.range(from_h, to_h) * 3600.0 - clock0_h * 3600.0;
        if (0.0..duration).contains(&t) {
            return t;
        }
    }
    rng.range(0.0, duration)
}

/// The workload for a replayed trace: `count` direct messages between
/// distinct random members of `nodes`, written uniformly in `window`.
/// Empty when fewer than two nodes could write to each other.
pub fn random_direct(
    seed: u64,
    nodes: &[u32],
    count: u32,
    window: (f64, f64),
    style: Style,
) -> Vec<MessageSpec> {
    let mut w = Writer::new(style, SimRng::new(seed, stream::WORKLOAD));
    if nodes.len() < 2 {
        return Vec::new();
    }
    for _ in 0..count {
        let at = w.rng.range(window.0, window.1);
        let from = *w.rng.pick(nodes);
        let mut to = from;
        while to == from {
            to = *w.rng.pick(nodes);
        }
        w.write(at, from, Target::Direct(to));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn style() -> Style {
        Style {
            size: (20, 300),
            ttl: 100.0,
        }
    }

    #[test]
    fn random_direct_writes_between_distinct_listed_nodes() {
        let nodes = [3, 5, 9];
        let msgs = random_direct(1, &nodes, 500, (10.0, 20.0), style());
        assert_eq!(msgs.len(), 500);
        for m in &msgs {
            let Target::Direct(to) = m.to else {
                panic!("not direct: {m:?}")
            };
            assert!(nodes.contains(&m.from) && nodes.contains(&to) && to != m.from);
            assert!((10.0..20.0).contains(&m.at));
            assert!((20..=300).contains(&m.size));
            assert_eq!(m.ttl, 100.0);
        }
        assert!(msgs.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(random_direct(1, &[4], 10, (0.0, 1.0), style()).is_empty());
        assert_ne!(msgs, random_direct(2, &nodes, 500, (10.0, 20.0), style()));
    }

    #[test]
    fn sizes_are_skewed_towards_short_texts() {
        let mut rng = SimRng::new(4, 0);
        let sizes: Vec<usize> = (0..2000)
            .map(|_| log_uniform(&mut rng, (20, 300)))
            .collect();
        assert!(sizes.iter().all(|s| (20..=300).contains(s)));
        let short = sizes.iter().filter(|&&s| s < 100).count();
        // Log-uniform puts ln(100/20)/ln(301/20) ≈ 59 % below 100 bytes.
        assert!((1050..1300).contains(&short), "{short}");
        assert!(sizes.contains(&300) || sizes.iter().any(|&s| s > 290));
        assert_eq!(log_uniform(&mut rng, (7, 7)), 7);
    }

    #[test]
    fn daytime_lands_inside_the_window() {
        let mut rng = SimRng::new(2, 0);
        // Clock starts at 18:00; window 8-11 h; three days.
        for _ in 0..500 {
            let t = daytime(&mut rng, 3.0 * 86_400.0, 18.0, 8.0, 11.0);
            let clock = (18.0 + t / 3600.0) % 24.0;
            assert!((8.0..11.0).contains(&clock), "{clock}");
        }
        // No window fits in one hour from 18:00: uniform fallback.
        let t = daytime(&mut rng, 3600.0, 18.0, 8.0, 11.0);
        assert!((0.0..3600.0).contains(&t));
    }

    proptest! {
        #[test]
        fn apportion_adds_up_and_stays_within_one(total in 0u32..10_000, shares in proptest::collection::vec(0.0f64..10.0, 1..6)) {
            let parts = apportion(total, &shares);
            let sum: f64 = shares.iter().sum();
            if sum > 0.0 {
                prop_assert_eq!(parts.iter().sum::<u32>(), total);
                for (p, s) in parts.iter().zip(&shares) {
                    let exact = f64::from(total) * s / sum;
                    prop_assert!((f64::from(*p) - exact).abs() < 1.0 + 1e-9);
                }
            } else {
                prop_assert!(parts.iter().all(|&p| p == 0));
            }
        }
    }
}
