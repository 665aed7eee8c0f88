//! From positions to contacts: sample every path every `step` seconds, find
//! the pairs within radio range with a uniform grid, and turn the samples
//! at which a pair was in range into contact intervals.
//!
//! A pair seen at sample time `t` is taken to be in contact over
//! `[t, t + step]`; intervals closer than `merge_gap` are merged, so people
//! at the edge of range do not flicker into hundreds of one-sample contacts
//! (each of which would cost the engine a whole sync session); contacts
//! shorter than `min_length` are dropped.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::mobility::{Path, Point};
use crate::trace::{Contact, LinkKind};

/// How positions are sampled and turned into contacts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleConfig {
    /// Seconds between samples.
    pub step: f64,
    /// Radio range in metres: in contact while the distance is at most this.
    pub range: f64,
    /// Contacts of one pair separated by at most this many seconds are one.
    pub merge_gap: f64,
    /// Contacts shorter than this (after merging) are dropped: phones
    /// scanning in the background take tens of seconds to discover each
    /// other and connect, so a brief pass-by forms no link.
    pub min_length: f64,
    /// Sampling covers `[0, duration]`; contacts end by then.
    pub duration: f64,
}

/// A Wi-Fi hotspot: during each of its `windows`, everyone within `radius`
/// of `centre` shares a LAN with everyone else there.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// Where the access point is.
    pub centre: Point,
    /// How far it reaches, metres.
    pub radius: f64,
    /// When it is on: `(from, to)` in seconds, sorted.
    pub windows: Vec<(f64, f64)>,
}

impl Hotspot {
    fn on_at(&self, t: f64) -> bool {
        self.windows.iter().any(|&(a, b)| a <= t && t < b)
    }
}

/// Merges closed intervals that overlap or lie at most `gap` apart; the
/// result is sorted and disjoint (with gaps larger than `gap`).
pub fn merge_intervals(mut intervals: Vec<(f64, f64)>, gap: f64) -> Vec<(f64, f64)> {
    intervals.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1 + gap => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// The intervals during which `inside` holds for the position on `path`,
/// judged at every sample (same convention as contacts: a sample at `t`
/// covers `[t, t + step]`), clipped to `duration`.
pub fn presence(
    path: &Path,
    cfg: &SampleConfig,
    inside: impl Fn(Point) -> bool,
) -> Vec<(f64, f64)> {
    let mut cursor = 0;
    let samples = sample_times(cfg)
        .filter(|&t| inside(path.position(t, &mut cursor)))
        .map(|t| (t, (t + cfg.step).min(cfg.duration)))
        .collect();
    merge_intervals(samples, cfg.merge_gap)
}

/// One contact of `kind` between `a` and `b` per interval.
pub fn contacts_over(a: u32, b: u32, kind: LinkKind, intervals: &[(f64, f64)]) -> Vec<Contact> {
    intervals
        .iter()
        .map(|&(start, end)| Contact {
            a: a.min(b),
            b: a.max(b),
            start,
            end,
            kind,
        })
        .collect()
}

/// Sample times `0, step, 2 step, …` before `duration`: none at the very
/// end, whose contact would last no time at all.
fn sample_times(cfg: &SampleConfig) -> impl Iterator<Item = f64> + use<> {
    let (step, duration) = (cfg.step, cfg.duration);
    // Counting samples as integers avoids drift from adding `step` up.
    let n = (duration / step).ceil() as u64;
    (0..n)
        .map(move |k| k as f64 * step)
        .filter(move |&t| t < duration)
}

/// Samples `paths` (one per node; `None` for a node without a place, such
/// as the internet relay) and returns their BLE contacts, plus LAN contacts
/// among the nodes with `lan[node]` inside a hotspot that is on, sorted by
/// start. Deterministic: the result does not depend on hashing order.
pub fn sample(
    paths: &[Option<Path>],
    lan: &[bool],
    hotspots: &[Hotspot],
    cfg: &SampleConfig,
) -> Vec<Contact> {
    let mut ble = Tracker::new(LinkKind::Ble, cfg);
    let mut wifi = Tracker::new(LinkKind::Lan, cfg);
    let placed: Vec<(u32, &Path)> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| (i as u32, p)))
        .collect();
    let mut cursors = vec![0usize; placed.len()];
    let mut pos = vec![Point::new(0.0, 0.0); placed.len()];
    let mut grid = Grid::default();
    let mut present: Vec<u32> = Vec::new();
    let range2 = cfg.range * cfg.range;

    for (k, t) in sample_times(cfg).enumerate() {
        for (i, (_, path)) in placed.iter().enumerate() {
            pos[i] = path.position(t, &mut cursors[i]);
        }
        if k % 64 == 63 {
            ble.expire(t);
            wifi.expire(t);
        }
        grid.fill(&pos, cfg.range);
        grid.for_each_close_pair(&pos, range2, |i, j| {
            ble.seen(placed[i].0, placed[j].0, t);
        });
        for h in hotspots.iter().filter(|h| h.on_at(t)) {
            present.clear();
            present.extend(
                placed
                    .iter()
                    .zip(&pos)
                    .filter(|((id, _), p)| {
                        lan.get(*id as usize).copied().unwrap_or(false)
                            && p.dist(h.centre) <= h.radius
                    })
                    .map(|((id, _), _)| *id),
            );
            for (x, &a) in present.iter().enumerate() {
                for &b in &present[x + 1..] {
                    wifi.seen(a, b, t);
                }
            }
        }
    }
    let mut out = ble.finish();
    out.extend(wifi.finish());
    sort_contacts(&mut out);
    out
}

/// Sorts by start, then by every other field, so equal inputs give equal
/// orders whatever produced them.
pub fn sort_contacts(contacts: &mut [Contact]) {
    contacts.sort_by(|x, y| {
        x.start
            .total_cmp(&y.start)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
            .then(x.kind.cmp(&y.kind))
            .then(x.end.total_cmp(&y.end))
    });
}

/// Open and finished contacts of one kind, keyed by pair.
struct Tracker {
    kind: LinkKind,
    step: f64,
    gap: f64,
    min_length: f64,
    duration: f64,
    open: HashMap<u64, (f64, f64), BuildHasherDefault<PairHasher>>,
    done: Vec<Contact>,
}

impl Tracker {
    fn new(kind: LinkKind, cfg: &SampleConfig) -> Self {
        Tracker {
            kind,
            step: cfg.step,
            gap: cfg.merge_gap,
            min_length: cfg.min_length,
            duration: cfg.duration,
            open: HashMap::default(),
            done: Vec::new(),
        }
    }

    /// Pair `a < b` was in range at sample time `t` (times non-decreasing).
    fn seen(&mut self, a: u32, b: u32, t: f64) {
        let key = (u64::from(a) << 32) | u64::from(b);
        let end = (t + self.step).min(self.duration);
        let interval = self.open.entry(key).or_insert((t, end));
        // Same rule as `merge_intervals`, applied as samples stream in.
        if t <= interval.1 + self.gap {
            interval.1 = interval.1.max(end);
        } else {
            let (start, old_end) = *interval;
            *interval = (t, end);
            self.close(key, start, old_end);
        }
    }

    /// Closes the contacts that can no longer be extended at time `t` or
    /// later: the table then holds only current pairs, not every pair that
    /// ever met, and stays in cache.
    fn expire(&mut self, t: f64) {
        let gap = self.gap;
        let mut closed = Vec::new();
        self.open.retain(|&key, &mut (start, end)| {
            let keep = t <= end + gap;
            if !keep {
                closed.push((key, start, end));
            }
            keep
        });
        for (key, start, end) in closed {
            self.close(key, start, end);
        }
    }

    fn close(&mut self, key: u64, start: f64, end: f64) {
        if end - start >= self.min_length {
            self.done.push(self.contact(key, start, end));
        }
    }

    fn contact(&self, key: u64, start: f64, end: f64) -> Contact {
        Contact {
            a: (key >> 32) as u32,
            b: key as u32,
            start,
            end,
            kind: self.kind,
        }
    }

    fn finish(mut self) -> Vec<Contact> {
        let open = std::mem::take(&mut self.open);
        for (key, (start, end)) in open {
            self.close(key, start, end);
        }
        self.done
    }
}

/// Hashes the packed pair key with one multiply (Fibonacci hashing): the
/// default SipHash costs more than the rest of the sampling loop, and the
/// keys are not attacker-chosen.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fold the well-mixed high half down: the table indexes by the low
        // bits.
        let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 32);
    }
}

/// A uniform grid over the current positions, rebuilt at every sample:
/// cells at least `range` wide, so partners in range are in the same or
/// an adjacent cell. Nodes are kept sorted by cell, so only occupied cells
/// cost anything, however large and empty the site.
#[derive(Default)]
struct Grid {
    cols: i64,
    x0: f64,
    y0: f64,
    cell: f64,
    /// `(cell, node)`, sorted.
    order: Vec<(i64, usize)>,
}

impl Grid {
    fn fill(&mut self, pos: &[Point], range: f64) {
        let (mut x0, mut y0, mut x1) = (f64::MAX, f64::MAX, f64::MIN);
        for p in pos {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
        }
        if pos.is_empty() {
            (x0, y0, x1) = (0.0, 0.0, 0.0);
        }
        self.cell = range.max(1e-6);
        self.x0 = x0;
        self.y0 = y0;
        // One spare column, so a cell's east neighbour never wraps round
        // to the next row's west end.
        self.cols = ((x1 - x0) / self.cell) as i64 + 2;
        self.order.clear();
        for (i, p) in pos.iter().enumerate() {
            let cx = ((p.x - self.x0) / self.cell) as i64;
            let cy = ((p.y - self.y0) / self.cell) as i64;
            self.order.push((cy * self.cols + cx, i));
        }
        self.order.sort_unstable();
    }

    /// Calls `f(i, j)` once per unordered pair within `sqrt(range2)`, with
    /// `i < j` indices into `pos`.
    fn for_each_close_pair(&self, pos: &[Point], range2: f64, mut f: impl FnMut(usize, usize)) {
        let close = |i: usize, j: usize| {
            let (p, q) = (pos[i], pos[j]);
            let (dx, dy) = (p.x - q.x, p.y - q.y);
            dx * dx + dy * dy <= range2
        };
        // Half of the neighbourhood (E, SW, S, SE), so each pair of cells
        // is visited once.
        let neighbours = [1, self.cols - 1, self.cols, self.cols + 1];
        // Where each neighbour cell starts in `order`. Cells are visited in
        // ascending order, so each neighbour's start only moves forward:
        // one pass per sample. Two binary searches per neighbour of every
        // occupied cell took the social city at 20,000 people, 2 days,
        // 114 s to generate instead of 52 s.
        let mut starts = [0usize; 4];
        let order = &self.order;
        let run = |from: usize, c: i64| order[from..].iter().take_while(|&&(k, _)| k == c).count();
        let mut at = 0;
        while at < order.len() {
            let c = order[at].0;
            let len = run(at, c);
            let here = &order[at..at + len];
            for (k, &(_, i)) in here.iter().enumerate() {
                for &(_, j) in &here[k + 1..] {
                    if close(i, j) {
                        f(i.min(j), i.max(j));
                    }
                }
            }
            for (start, d) in starts.iter_mut().zip(neighbours) {
                while *start < order.len() && order[*start].0 < c + d {
                    *start += 1;
                }
                let there = &order[*start..*start + run(*start, c + d)];
                for &(_, j) in there {
                    for &(_, i) in here {
                        if close(i, j) {
                            f(i.min(j), i.max(j));
                        }
                    }
                }
            }
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::mobility::PathBuilder;
    use crate::scenario::rng::SimRng;
    use proptest::prelude::*;

    fn cfg(step: f64, range: f64, gap: f64, duration: f64) -> SampleConfig {
        SampleConfig {
            step,
            range,
            merge_gap: gap,
            min_length: 0.0,
            duration,
        }
    }

    #[test]
    fn two_walkers_meet_once_and_a_fixed_third_never() {
        // 0 walks east along y=0, 1 stands at x=50; 2 stands far away.
        let mut b = PathBuilder::start(0.0, Point::new(0.0, 0.0));
        b.walk_to(Point::new(100.0, 0.0), 1.0);
        let paths = vec![
            Some(b.build()),
            Some(Path::fixed(Point::new(50.0, 0.0))),
            Some(Path::fixed(Point::new(50.0, 500.0))),
            None,
        ];
        let got = sample(&paths, &[true; 4], &[], &cfg(5.0, 10.0, 10.0, 200.0));
        assert_eq!(
            got,
            vec![Contact {
                a: 0,
                b: 1,
                start: 40.0,
                end: 65.0,
                kind: LinkKind::Ble
            }]
        );
    }

    #[test]
    fn short_contacts_are_dropped_after_merging() {
        // 1 stands still; 0 passes by quickly, then stands close for good.
        let mut b = PathBuilder::start(0.0, Point::new(-20.0, 0.0));
        b.walk_to(Point::new(20.0, 0.0), 2.0);
        b.walk_to(Point::new(20.0, 100.0), 2.0);
        b.walk_to(Point::new(3.0, 0.0), 2.0);
        let paths = vec![Some(b.build()), Some(Path::fixed(Point::new(0.0, 0.0)))];
        let mut c = cfg(5.0, 5.0, 5.0, 400.0);
        let all = sample(&paths, &[], &[], &c);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].end - all[0].start, 5.0);
        c.min_length = 30.0;
        let long = sample(&paths, &[], &[], &c);
        assert_eq!(long, all[1..]);
    }

    #[test]
    fn hotspot_links_everyone_present_while_it_is_on() {
        let centre = Point::new(0.0, 0.0);
        let paths = vec![
            Some(Path::fixed(Point::new(-30.0, 0.0))),
            Some(Path::fixed(Point::new(30.0, 0.0))),
            Some(Path::fixed(Point::new(0.0, 35.0))),
            Some(Path::fixed(Point::new(0.0, 80.0))),
        ];
        let hotspot = Hotspot {
            centre,
            radius: 40.0,
            windows: vec![(100.0, 200.0)],
        };
        // Node 2 may not use the LAN (say, a gateway box).
        let lan = [true, true, false, true];
        let got = sample(&paths, &lan, &[hotspot], &cfg(10.0, 5.0, 10.0, 300.0));
        assert_eq!(
            got,
            vec![Contact {
                a: 0,
                b: 1,
                start: 100.0,
                end: 200.0,
                kind: LinkKind::Lan
            }]
        );
    }

    #[test]
    fn grid_finds_exactly_the_pairs_brute_force_finds() {
        let mut rng = SimRng::new(9, 0);
        let pos: Vec<Point> = (0..300)
            .map(|_| Point::new(rng.range(-50.0, 250.0), rng.range(0.0, 90.0)))
            .collect();
        let mut grid = Grid::default();
        grid.fill(&pos, 12.0);
        let mut got = Vec::new();
        grid.for_each_close_pair(&pos, 144.0, |i, j| got.push((i, j)));
        got.sort_unstable();
        let mut want = Vec::new();
        for i in 0..pos.len() {
            for j in i + 1..pos.len() {
                if pos[i].dist(pos[j]) <= 12.0 {
                    want.push((i, j));
                }
            }
        }
        assert!(!want.is_empty());
        assert_eq!(got, want);
    }

    #[test]
    fn presence_follows_the_predicate() {
        let mut b = PathBuilder::start(0.0, Point::new(0.0, 0.0));
        b.walk_to(Point::new(100.0, 0.0), 1.0);
        b.walk_to(Point::new(0.0, 0.0), 1.0);
        let path = b.build();
        let got = presence(&path, &cfg(10.0, 1.0, 0.0, 250.0), |p| p.x < 25.0);
        assert_eq!(got, vec![(0.0, 30.0), (180.0, 250.0)]);
    }

    fn intervals() -> impl Strategy<Value = Vec<(f64, f64)>> {
        proptest::collection::vec((0u32..100, 0u32..10), 0..20).prop_map(|v| {
            v.into_iter()
                .map(|(s, l)| (f64::from(s), f64::from(s + l)))
                .collect()
        })
    }

    proptest! {
        /// With no gap allowed, merging is the union: every half-integer
        /// (and integer) point is covered by the output exactly when it
        /// was by the input, and the output intervals are disjoint.
        #[test]
        fn merging_without_gap_is_the_union(v in intervals()) {
            let merged = merge_intervals(v.clone(), 0.0);
            for w in merged.windows(2) {
                prop_assert!(w[0].1 < w[1].0);
            }
            for k in 0..230 {
                let x = f64::from(k) / 2.0;
                let inside = |s: &[(f64, f64)]| s.iter().any(|&(a, b)| a <= x && x <= b);
                prop_assert_eq!(inside(&v), inside(&merged), "at {}", x);
            }
        }

        /// With a gap, the output still covers the input, never starts
        /// anything new, and leaves only gaps wider than allowed.
        #[test]
        fn merging_with_gap_covers_and_bridges_small_gaps(v in intervals(), gap in 0u32..6) {
            let gap = f64::from(gap);
            let merged = merge_intervals(v.clone(), gap);
            for w in merged.windows(2) {
                prop_assert!(w[1].0 - w[0].1 > gap);
            }
            for &(a, b) in &v {
                prop_assert!(merged.iter().any(|&(x, y)| x <= a && b <= y));
            }
            for &(x, _) in &merged {
                prop_assert!(v.iter().any(|&(a, _)| a == x));
            }
        }

        /// The streaming tracker agrees with `merge_intervals` on the
        /// sample intervals of one pair.
        #[test]
        fn streaming_tracker_equals_batch_merge(
            seen in proptest::collection::btree_set(0u32..200, 0..40),
            gap in 0u32..4,
        ) {
            let c = cfg(5.0, 1.0, f64::from(gap) * 5.0, 1000.0);
            let mut tracker = Tracker::new(LinkKind::Ble, &c);
            let times: Vec<f64> = seen.iter().map(|&k| f64::from(k) * 5.0).collect();
            for (k, &t) in times.iter().enumerate() {
                // Expiring early is only ever a speed-up.
                if k % 3 == 0 {
                    tracker.expire(t);
                }
                tracker.seen(1, 2, t);
            }
            let mut got: Vec<(f64, f64)> =
                tracker.finish().iter().map(|c| (c.start, c.end)).collect();
            got.sort_by(|x, y| x.0.total_cmp(&y.0));
            let want = merge_intervals(times.iter().map(|&t| (t, t + 5.0)).collect(), c.merge_gap);
            prop_assert_eq!(got, want);
        }
    }
}
