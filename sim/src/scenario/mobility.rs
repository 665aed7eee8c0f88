//! Positions over time: every moving thing follows a piecewise-linear
//! [`Path`] (walk, stand still, walk on), built with a [`PathBuilder`].
//! The movement models (group trips between points of interest, daily
//! routines, random waypoint) are ways of filling a builder.

use super::rng::SimRng;

/// A point on the site, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// East, metres.
    pub x: f64,
    /// North, metres.
    pub y: f64,
}

impl Point {
    /// The point at `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// Straight-line distance to `other`.
    pub fn dist(self, other: Point) -> f64 {
        // Not `hypot`: the platform's may differ in the last bit.
        let (dx, dy) = (self.x - other.x, self.y - other.y);
        (dx * dx + dy * dy).sqrt()
    }

    /// This point moved by `(dx, dy)`.
    pub fn offset(self, dx: f64, dy: f64) -> Point {
        Point::new(self.x + dx, self.y + dy)
    }
}

/// A uniformly random point in the disc of `radius` around `centre`.
pub fn in_disc(rng: &mut SimRng, centre: Point, radius: f64) -> Point {
    // sqrt keeps the density uniform over the area, not the radius.
    let r = radius * rng.unit().sqrt();
    let a = rng.range(0.0, std::f64::consts::TAU);
    centre.offset(r * libm::cos(a), r * libm::sin(a))
}

/// A uniformly random point in the rectangle `[x0, x1) × [y0, y1)`.
pub fn in_rect(rng: &mut SimRng, x0: f64, y0: f64, x1: f64, y1: f64) -> Point {
    Point::new(rng.range(x0, x1), rng.range(y0, y1))
}

/// One corner of a path: where the walker is at time `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Waypoint {
    t: f64,
    p: Point,
}

/// Where one node is over time: straight lines between waypoints, still
/// before the first and after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    points: Vec<Waypoint>,
}

impl Path {
    /// A node that never moves.
    pub fn fixed(p: Point) -> Self {
        Path {
            points: vec![Waypoint { t: 0.0, p }],
        }
    }

    /// The position at time `t`, searching from waypoint `*cursor` on;
    /// callers asking for non-decreasing times get amortised O(1).
    pub fn position(&self, t: f64, cursor: &mut usize) -> Point {
        let pts = &self.points;
        if *cursor >= pts.len() || pts[*cursor].t > t {
            *cursor = 0;
        }
        while *cursor + 1 < pts.len() && pts[*cursor + 1].t <= t {
            *cursor += 1;
        }
        let here = pts[*cursor];
        match pts.get(*cursor + 1) {
            Some(next) if next.t > here.t && t > here.t => {
                let f = (t - here.t) / (next.t - here.t);
                Point::new(
                    here.p.x + f * (next.p.x - here.p.x),
                    here.p.y + f * (next.p.y - here.p.y),
                )
            }
            _ => here.p,
        }
    }

    /// The position at time `t` (O(log n), for one-off queries).
    pub fn at(&self, t: f64) -> Point {
        let i = self.points.partition_point(|w| w.t <= t).saturating_sub(1);
        let mut cursor = i;
        self.position(t, &mut cursor)
    }
}

/// Builds a [`Path`] leg by leg, keeping its own clock.
#[derive(Debug, Clone)]
pub struct PathBuilder {
    points: Vec<Waypoint>,
}

impl PathBuilder {
    /// Starts at `p` at time `t`.
    pub fn start(t: f64, p: Point) -> Self {
        PathBuilder {
            points: vec![Waypoint { t, p }],
        }
    }

    /// The time the path has been built up to.
    pub fn now(&self) -> f64 {
        self.points.last().map_or(0.0, |w| w.t)
    }

    /// Where the path currently ends.
    pub fn here(&self) -> Point {
        self.points.last().map_or(Point::new(0.0, 0.0), |w| w.p)
    }

    /// Stands still until `t` (nothing if `t` has already passed: someone
    /// who arrives late simply leaves late).
    pub fn stay_until(&mut self, t: f64) -> &mut Self {
        if t > self.now() {
            let p = self.here();
            self.points.push(Waypoint { t, p });
        }
        self
    }

    /// Walks straight to `p` at `speed` m/s; returns the arrival time.
    pub fn walk_to(&mut self, p: Point, speed: f64) -> f64 {
        let from = self.here();
        let t = self.now() + from.dist(p) / speed.max(0.01);
        if from != p {
            self.points.push(Waypoint { t, p });
        }
        t
    }

    /// Walks through each of `via` in turn and then to `p`.
    pub fn walk_via(&mut self, via: &[Point], p: Point, speed: f64) -> f64 {
        for &v in via {
            self.walk_to(v, speed);
        }
        self.walk_to(p, speed)
    }

    /// The finished path.
    pub fn build(self) -> Path {
        Path {
            points: self.points,
        }
    }
}

/// Random waypoint with pauses: start at a point from `pick`, walk to the
/// next point from `pick` at a speed drawn from `speed`, pause for an
/// exponential time of mean `mean_pause`, repeat until `duration`. Classic
/// random waypoint draws uniformly over a rectangle; `pick` lets a model
/// favour some places.
pub fn random_waypoint(
    rng: &mut SimRng,
    mut pick: impl FnMut(&mut SimRng) -> Point,
    speed: (f64, f64),
    mean_pause: f64,
    duration: f64,
) -> Path {
    let start = pick(rng);
    let mut b = PathBuilder::start(0.0, start);
    // Start part-way through a pause, so not everyone sets off at once.
    let first = rng.exponential(mean_pause);
    b.stay_until(first);
    while b.now() < duration {
        let target = pick(rng);
        let v = rng.range(speed.0, speed.1);
        b.walk_to(target, v);
        let pause = rng.exponential(mean_pause);
        let until = b.now() + pause;
        b.stay_until(until);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_interpolate_and_hold_at_the_ends() {
        let mut b = PathBuilder::start(10.0, Point::new(0.0, 0.0));
        assert_eq!(b.walk_to(Point::new(30.0, 40.0), 1.0), 60.0);
        b.stay_until(100.0);
        b.stay_until(50.0); // already past: no effect
        assert_eq!(b.now(), 100.0);
        let path = b.build();
        let mut c = 0;
        assert_eq!(path.position(0.0, &mut c), Point::new(0.0, 0.0));
        assert_eq!(path.position(35.0, &mut c), Point::new(15.0, 20.0));
        assert_eq!(path.position(80.0, &mut c), Point::new(30.0, 40.0));
        assert_eq!(path.position(1e9, &mut c), Point::new(30.0, 40.0));
        // Going back in time resets the cursor instead of answering wrong.
        assert_eq!(path.position(35.0, &mut c), Point::new(15.0, 20.0));
        assert_eq!(path.at(35.0), Point::new(15.0, 20.0));
    }

    #[test]
    fn random_waypoint_stays_inside_and_walks_at_plausible_speeds() {
        let mut rng = SimRng::new(5, 0);
        let uniform = |r: &mut SimRng| in_rect(r, 0.0, 0.0, 300.0, 200.0);
        let path = random_waypoint(&mut rng, uniform, (0.5, 1.5), 120.0, 3600.0);
        let mut c = 0;
        let mut last = path.position(0.0, &mut c);
        for k in 1..=3600 {
            let p = path.position(f64::from(k), &mut c);
            assert!((0.0..300.0).contains(&p.x) && (0.0..200.0).contains(&p.y));
            assert!(p.dist(last) <= 1.5 + 1e-9, "too fast at {k}");
            last = p;
        }
    }
}
