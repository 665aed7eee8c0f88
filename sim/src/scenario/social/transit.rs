//! Transit: one line along every row of districts and one along every
//! column, stopping at each district's interchange, with vehicles leaving
//! both ends every few minutes from early morning to late evening. Riders
//! follow their vehicle's path exactly, so everyone aboard is in range of
//! everyone else; trips change lines at most once.

use super::super::mobility::{PathBuilder, Point, in_disc};
use super::super::rng::SimRng;
use super::places::City;

const DAY: f64 = 86_400.0;
/// Average speed between stops, m/s (a bus in a city without traffic
/// lights, or a slow metro).
const SPEED: f64 = 8.0;
/// Seconds a vehicle waits at each stop.
const DWELL: f64 = 30.0;
/// Seconds between departures from each end of a line.
const HEADWAY: f64 = 600.0;
/// First and last departures from a terminal, clock hours.
const SERVICE_H: (f64, f64) = (5.5, 23.5);
/// Stops of a line sit this far from the interchange, so that riders of
/// crossing lines wait apart.
const STOP_OFFSET_M: f64 = 20.0;
/// Trips shorter than this are walked.
pub(super) const WALK_M: f64 = 900.0;

/// Which way a line runs: along a row (west–east) or a column
/// (south–north) of districts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Line {
    Row(usize),
    Column(usize),
}

/// Takes `b` from where it is to `to`: on foot if it is near, the grid has
/// one district, or no vehicle runs; otherwise by transit, along the row
/// and then the column of districts, walking to, between and from stops.
pub(super) fn travel(rng: &mut SimRng, b: &mut PathBuilder, city: &City, to: Point, speed: f64) {
    let from = b.here();
    if city.k < 2 || from.dist(to) < WALK_M {
        b.walk_to(to, speed);
        return;
    }
    let (r0, c0) = city.cell(city.district_at(from));
    let (r1, c1) = city.cell(city.district_at(to));
    let legs = [(Line::Row(r0), c0, c1), (Line::Column(c1), r0, r1)];
    for (line, i, j) in legs {
        if i != j && !ride(rng, b, city, line, i, j, speed) {
            break;
        }
    }
    b.walk_to(to, speed);
}

/// Where `line`'s stop in its `i`-th district is.
fn stop(city: &City, line: Line, i: usize) -> Point {
    let k = city.k;
    match line {
        Line::Row(r) => city.districts[r * k + i].centre.offset(0.0, -STOP_OFFSET_M),
        Line::Column(c) => city.districts[i * k + c].centre.offset(-STOP_OFFSET_M, 0.0),
    }
}

/// Rides `line` from its `i`-th stop to its `j`-th: walks to the stop,
/// waits for the first vehicle that leaves it after arriving, and stays
/// aboard to `j`. Returns false, having only walked to the stop, if no
/// vehicle runs before the end of the next day's service.
fn ride(
    rng: &mut SimRng,
    b: &mut PathBuilder,
    city: &City,
    line: Line,
    i: usize,
    j: usize,
    speed: f64,
) -> bool {
    let k = city.k;
    // Positions along the direction of travel: stop `i` is the `n`-th the
    // vehicle reaches after leaving its terminal.
    let along = |s: usize| if j > i { s } else { k - 1 - s };
    let hop = city.side / SPEED + DWELL;
    let board_at = stop(city, line, i);
    let wait_spot = in_disc(rng, board_at, 6.0);
    let there = b.walk_to(wait_spot, speed);
    // The vehicle that left its terminal at `dep` leaves stop `n` at
    // `dep + n * hop + DWELL`.
    let offset = along(i) as f64 * hop + DWELL;
    let Some(dep) = departure(there + 5.0 - offset) else {
        return false;
    };
    let leave = dep + offset;
    b.stay_until(leave - 5.0);
    b.walk_to(board_at, 2.0);
    b.stay_until(leave);
    let stops: Vec<usize> = if j > i {
        (i + 1..=j).collect()
    } else {
        (j..i).rev().collect()
    };
    for s in stops {
        let arrive = dep + along(s) as f64 * hop;
        b.walk_to(stop(city, line, s), SPEED);
        // Snap to the timetable, so rounding cannot drift riders apart.
        b.stay_until(arrive);
        if s != j {
            b.stay_until(arrive + DWELL);
        }
    }
    true
}

/// The first terminal departure at or after `t`, within a day's wait.
fn departure(t: f64) -> Option<f64> {
    let day = (t / DAY).floor();
    for d in [day, day + 1.0] {
        let first = d * DAY + SERVICE_H.0 * 3600.0;
        let last = d * DAY + SERVICE_H.1 * 3600.0;
        let n = ((t - first) / HEADWAY).ceil().max(0.0);
        let dep = first + n * HEADWAY;
        if dep <= last {
            return Some(dep);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_follow_the_timetable() {
        assert_eq!(departure(0.0), Some(5.5 * 3600.0));
        assert_eq!(departure(6.0 * 3600.0 + 1.0), Some(6.0 * 3600.0 + HEADWAY));
        // After the last one, the first of the next morning.
        assert_eq!(departure(23.9 * 3600.0), Some(DAY + 5.5 * 3600.0));
    }
}
