//! `village`: 300 people in households of 2–6 in six hamlets along a 4 km
//! valley, three days from midnight.
//!
//! The valley runs east from its mouth (x = 0), where the phone network of
//! the town beyond still reaches (x < 500 m); the town and the bus depot lie
//! 500 m outside it. The central hamlet (x = 2100) has the school and the
//! market, whose Wi-Fi hotspot is on from 07:30 to 12:00. Daily routines:
//! children go to school 08:00–14:00; farmers work their fields on the
//! valley sides morning and afternoon, home for lunch; the others stay
//! around home and often go to the morning market; some visit neighbours in
//! the evening. The bus (the one uplinked gateway) leaves the depot at 07:00
//! and 14:00, drives up the valley stopping at every hamlet and back; it is
//! online while near the town (x < 500). It doubles as the school bus for
//! children living more than 1 km from school, and a few people a day ride
//! it to town in the morning and back in the afternoon.
//!
//! Workload: household chats, direct messages across the valley, and
//! market announcements on the village channel in the mornings.

use super::contacts::{self, Hotspot, contacts_over, presence};
use super::mobility::{Path, PathBuilder, Point, in_disc};
use super::rng::SimRng;
use super::{
    Defaults, MessageSpec, Resolved, Role, Scenario, ScenarioError, ScenarioParams, Target,
    assemble, stream,
};
use crate::trace::LinkKind;
use crate::workload::{Writer, apportion, daytime};

const DEFAULTS: Defaults = Defaults {
    people: 300,
    duration: 3.0 * 86_400.0,
    messages: 1000,
    ttl: 2.0 * 86_400.0,
    range: 20.0,
    step: 10.0,
    min_contact: 30.0,
};

const DAY: f64 = 86_400.0;
const HOUR: f64 = 3600.0;
/// Hamlet centres along the valley road (y = 0).
const HAMLETS: [f64; 6] = [300.0, 900.0, 1500.0, 2100.0, 2800.0, 3500.0];
const SCHOOL: Point = Point::new(2100.0, 60.0);
const MARKET: Point = Point::new(2100.0, -40.0);
const DEPOT: Point = Point::new(-500.0, 0.0);
/// The town's phone network reaches this far up the valley.
const COVERAGE_X: f64 = 500.0;
const BUS_SPEED: f64 = 8.0;
const BUS_STOP_S: f64 = 120.0;
/// The bus is also the school bus: in before school, out after it.
const BUS_DEPARTURES_H: [f64; 2] = [7.0, 14.0];
/// Children living farther than this from school take the bus.
const SCHOOL_BUS_M: f64 = 1000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Occupation {
    Child,
    Farmer,
    Other,
}

struct Household {
    hamlet: usize,
    home: Point,
    field: Point,
    members: Vec<(u32, Occupation)>,
}

/// One bus run: `(stop position, arrival, departure)` in driving order,
/// from the depot up the valley and back to the depot.
type Run = Vec<(Point, f64, f64)>;

/// The village scenario (see the module doc for the model).
pub fn village(p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    let v = Resolved::new(p, &DEFAULTS)?;
    let people = v.people;
    let mut layout = SimRng::new(v.seed, stream::LAYOUT);
    let households = households(&mut layout, people);

    let (bus_path, runs) = bus(v.duration);
    let mut moving = SimRng::new(v.seed, stream::MOBILITY);
    let mut paths: Vec<Option<Path>> = vec![None; people as usize];
    for h in &households {
        for &(id, job) in &h.members {
            paths[id as usize] = Some(routine(&mut moving, h, job, &runs, v.duration));
        }
    }
    let bus_id = people;
    let relay = people + 1;
    let mut roles = vec![Role::Person; people as usize];
    roles.extend([Role::Gateway, Role::Relay]);

    let cfg = v.sampling();
    let online = presence(&bus_path, &cfg, |p| p.x < COVERAGE_X);
    paths.push(Some(bus_path));
    paths.push(None);
    let hotspot = Hotspot {
        centre: MARKET,
        radius: 40.0,
        windows: (0..days(v.duration))
            .map(|d| (d as f64 * DAY + 7.5 * HOUR, d as f64 * DAY + 12.0 * HOUR))
            .collect(),
    };
    let mut lan = vec![true; people as usize];
    lan.extend([false, false]);
    let mut trace = contacts::sample(&paths, &lan, &[hotspot], &cfg);
    trace.extend(contacts_over(bus_id, relay, LinkKind::Uplink, &online));

    let groups: Vec<Vec<u32>> = households
        .iter()
        .map(|h| h.members.iter().map(|m| m.0).collect())
        .collect();
    let channel: Vec<u32> = (0..people).collect();
    let messages = workload(&v, &households);
    Ok(assemble(
        "village", roles, trace, groups, channel, messages, v.duration,
    ))
}

fn days(duration: f64) -> usize {
    (duration / DAY).ceil() as usize
}

/// Households of 2–6 in hamlets (round robin, so every hamlet is lived
/// in), homes off the road, fields on the valley side.
fn households(rng: &mut SimRng, people: u32) -> Vec<Household> {
    let mut out = Vec::new();
    let mut next = 0;
    while next < people {
        let size = (2 + rng.below(5) as u32).min(people - next);
        let hamlet = out.len() % HAMLETS.len();
        let side = if rng.chance(0.5) { 1.0 } else { -1.0 };
        let home = Point::new(
            HAMLETS[hamlet] + rng.range(-120.0, 120.0),
            side * rng.range(20.0, 150.0),
        );
        let field = Point::new(
            HAMLETS[hamlet] + rng.range(-300.0, 300.0),
            side * rng.range(200.0, 450.0),
        );
        let members = (next..next + size)
            .enumerate()
            .map(|(k, id)| {
                // The first two are adults; later ones mostly children.
                let job = if k >= 2 && rng.chance(0.7) {
                    Occupation::Child
                } else if rng.chance(0.55) {
                    Occupation::Farmer
                } else {
                    Occupation::Other
                };
                (id, job)
            })
            .collect();
        out.push(Household {
            hamlet,
            home,
            field,
            members,
        });
        next += size;
    }
    out
}

/// The bus's path and its runs, one per departure per day.
fn bus(duration: f64) -> (Path, Vec<Run>) {
    let mut b = PathBuilder::start(0.0, DEPOT);
    let mut runs = Vec::new();
    for d in 0..days(duration) {
        for h in BUS_DEPARTURES_H {
            b.stay_until(d as f64 * DAY + h * HOUR);
            let mut run: Run = vec![(DEPOT, b.now(), b.now())];
            let stops = HAMLETS.iter().chain(HAMLETS.iter().rev().skip(1));
            for &x in stops {
                let arrive = b.walk_to(Point::new(x, 5.0), BUS_SPEED);
                b.stay_until(arrive + BUS_STOP_S);
                run.push((Point::new(x, 5.0), arrive, b.now()));
            }
            let back = b.walk_to(DEPOT, BUS_SPEED);
            run.push((DEPOT, back, back));
            runs.push(run);
        }
    }
    (b.build(), runs)
}

/// One person's days.
fn routine(rng: &mut SimRng, h: &Household, job: Occupation, runs: &[Run], duration: f64) -> Path {
    let home = in_disc(rng, h.home, 4.0);
    let speed = rng.range(0.8, 1.4);
    let mut b = PathBuilder::start(0.0, home);
    for d in 0..days(duration) {
        let day = d as f64 * DAY;
        let at = |rng: &mut SimRng, hour: f64, sd_min: f64| {
            day + hour * HOUR + rng.normal(0.0, sd_min * 60.0)
        };
        match job {
            Occupation::Child => {
                let school = in_disc(rng, SCHOOL, 25.0);
                let far = (HAMLETS[h.hamlet] - SCHOOL.x).abs() > SCHOOL_BUS_M;
                let stop = HAMLETS[h.hamlet];
                let runs = (runs.get(2 * d), runs.get(2 * d + 1));
                match runs {
                    (Some(morning), _)
                        if far && ride(rng, &mut b, morning, stop, SCHOOL.x, speed) => {}
                    _ => {
                        b.stay_until(at(rng, 7.4, 8.0));
                    }
                }
                b.walk_to(school, speed);
                b.stay_until(at(rng, 14.0, 3.0));
                match runs {
                    (_, Some(afternoon))
                        if far && ride(rng, &mut b, afternoon, SCHOOL.x, stop, speed) => {}
                    _ => {}
                }
                b.walk_to(home, speed);
                if rng.chance(0.5) {
                    b.stay_until(at(rng, 16.0, 20.0));
                    b.walk_to(
                        in_disc(rng, Point::new(HAMLETS[h.hamlet], 0.0), 60.0),
                        speed,
                    );
                    b.stay_until(at(rng, 18.0, 20.0));
                    b.walk_to(home, speed);
                }
            }
            Occupation::Farmer if !rng.chance(0.15) => {
                let field = in_disc(rng, h.field, 30.0);
                b.stay_until(at(rng, 6.5, 20.0));
                b.walk_to(field, speed);
                b.stay_until(at(rng, 12.0, 15.0));
                b.walk_to(home, speed);
                b.stay_until(at(rng, 13.5, 15.0));
                b.walk_to(field, speed);
                b.stay_until(at(rng, 18.0, 30.0));
                b.walk_to(home, speed);
            }
            _ => {
                // A farmer's day off, or anyone else: market, town, or home.
                if rng.chance(0.08) {
                    ride_to_town(rng, &mut b, h, runs, d, home, speed);
                } else if rng.chance(0.5) {
                    b.stay_until(day + rng.range(7.8, 10.5) * HOUR);
                    b.walk_to(in_disc(rng, MARKET, 30.0), speed);
                    let leave = b.now() + rng.range(20.0, 90.0) * 60.0;
                    b.stay_until(leave);
                    b.walk_to(home, speed);
                }
            }
        }
        if job != Occupation::Child && rng.chance(0.25) {
            // An evening visit to neighbours in the same hamlet.
            let near = in_disc(rng, Point::new(HAMLETS[h.hamlet], 0.0), 150.0);
            b.stay_until(at(rng, 19.0, 20.0));
            b.walk_to(near, speed);
            b.stay_until(at(rng, 21.0, 20.0));
            b.walk_to(home, speed);
        }
    }
    b.build()
}

/// Rides the morning bus down to town from the home hamlet's stop and the
/// afternoon bus back, if day `d` has both runs.
fn ride_to_town(
    rng: &mut SimRng,
    b: &mut PathBuilder,
    h: &Household,
    runs: &[Run],
    d: usize,
    home: Point,
    speed: f64,
) {
    let (Some(morning), Some(afternoon)) = (runs.get(2 * d), runs.get(2 * d + 1)) else {
        return;
    };
    let stop = HAMLETS[h.hamlet];
    if !ride(rng, b, morning, stop, DEPOT.x, speed) {
        return;
    }
    let town = in_disc(rng, DEPOT.offset(-200.0, 0.0), 100.0);
    b.walk_to(town, speed);
    b.stay_until(afternoon[0].1 - rng.range(5.0, 20.0) * 60.0);
    // Should the bus be missed, the long walk home.
    ride(rng, b, afternoon, DEPOT.x, stop, speed);
    b.walk_to(home, speed);
}

/// Takes the bus on `run` from the stop at `from_x` to the stop at `to_x`:
/// the earliest arrival at `to_x`, boarding at the last call at `from_x`
/// before it. Walks to the stop to be there a few minutes early (or at
/// once if that is too late); returns false, having done nothing, if the
/// run serves no such trip or leaves before one could reach it.
fn ride(
    rng: &mut SimRng,
    b: &mut PathBuilder,
    run: &[(Point, f64, f64)],
    from_x: f64,
    to_x: f64,
    speed: f64,
) -> bool {
    let trip = (0..run.len())
        .filter(|&j| run[j].0.x == to_x)
        .find_map(|j| (0..j).rev().find(|&i| run[i].0.x == from_x).map(|i| (i, j)));
    let Some((i, j)) = trip else {
        return false;
    };
    let (stop, arrive, depart) = run[i];
    let walk = b.here().dist(stop) / speed;
    let set_off = (arrive - walk - rng.range(2.0, 10.0) * 60.0).max(b.now());
    if set_off + walk > depart {
        return false;
    }
    b.stay_until(set_off);
    b.walk_to(stop, speed);
    b.stay_until(depart);
    for &(p, arrive, depart) in &run[i + 1..=j] {
        b.walk_to(p, BUS_SPEED);
        // Snap to the bus's timetable so rounding cannot drift us apart.
        b.stay_until(arrive);
        if p.x != to_x {
            b.stay_until(depart);
        }
    }
    true
}

/// Household chats (40 %), direct messages across the valley (45 %: seven
/// in ten to another hamlet) between 07:00 and 22:00, and market
/// announcements (15 %) on the village channel, 07:30–11:00, by a few
/// regular market people.
fn workload(v: &Resolved, households: &[Household]) -> Vec<MessageSpec> {
    let split = apportion(v.scaled_messages(&DEFAULTS), &[0.4, 0.45, 0.15]);
    let mut w = Writer::new(v.style(), SimRng::new(v.seed, stream::WORKLOAD));
    let hamlet_of: Vec<usize> = households
        .iter()
        .flat_map(|h| h.members.iter().map(move |_| h.hamlet))
        .collect();
    let people = v.people as usize;
    let chatty: Vec<usize> = (0..households.len())
        .filter(|&g| households[g].members.len() > 1)
        .collect();
    for _ in 0..split[0] {
        if chatty.is_empty() {
            break;
        }
        let at = daytime(&mut w.rng, v.duration, 0.0, 7.0, 22.0);
        let g = *w.rng.pick(&chatty);
        let from = w.rng.pick(&households[g].members).0;
        w.write(at, from, Target::Group(g as u32));
    }
    for _ in 0..split[1] {
        let at = daytime(&mut w.rng, v.duration, 0.0, 7.0, 22.0);
        let from = w.rng.below(people);
        let far = w.rng.chance(0.7);
        let mut tries = 0;
        let to = loop {
            let to = w.rng.below(people);
            let elsewhere = hamlet_of[to] != hamlet_of[from];
            // Anyone will do once a tiny village has shown it has no match.
            tries += 1;
            if to != from && (elsewhere == far || tries > 64) {
                break to;
            }
        };
        w.write(at, from as u32, Target::Direct(to as u32));
    }
    let announcers: Vec<u32> = (0..people.min(5) as u32)
        .map(|k| k * (v.people / 5).max(1))
        .collect();
    for _ in 0..split[2] {
        let at = daytime(&mut w.rng, v.duration, 0.0, 7.5, 11.0);
        let from = *w.rng.pick(&announcers);
        w.write(at, from, Target::Channel);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_routines_put_people_where_they_belong() {
        let mut layout = SimRng::new(4, stream::LAYOUT);
        let homes = households(&mut layout, 300);
        let (bus_path, runs) = bus(2.0 * DAY);
        let mut rng = SimRng::new(4, stream::MOBILITY);
        let mut people = Vec::new();
        for h in &homes {
            for &(_, job) in &h.members {
                people.push((h, job, routine(&mut rng, h, job, &runs, 2.0 * DAY)));
            }
        }
        let share = |job: Occupation, t: f64, place: &dyn Fn(&Household) -> Point, within: f64| {
            let of_job: Vec<_> = people.iter().filter(|p| p.1 == job).collect();
            let there = of_job
                .iter()
                .filter(|(h, _, path)| path.at(t).dist(place(h)) <= within)
                .count();
            there as f64 / of_job.len() as f64
        };
        let day2 = DAY;
        // 03:00: everyone at home.
        for job in [Occupation::Child, Occupation::Farmer, Occupation::Other] {
            assert_eq!(share(job, day2 + 3.0 * HOUR, &|h| h.home, 5.0), 1.0);
        }
        // 10:00: children at school, most farmers in their fields.
        let school = share(Occupation::Child, day2 + 10.0 * HOUR, &|_| SCHOOL, 26.0);
        assert_eq!(school, 1.0);
        let fields = share(Occupation::Farmer, day2 + 10.0 * HOUR, &|h| h.field, 31.0);
        assert!((0.7..0.95).contains(&fields), "{fields}");
        // The bus is at the far end of the valley early in its run, and back
        // at the depot by 09:00.
        assert!(bus_path.at(day2 + 7.3 * HOUR).x > 3000.0);
        assert_eq!(bus_path.at(day2 + 9.0 * HOUR), DEPOT);
        // Children from far hamlets ride it: some children are on the bus
        // (at its position) on the morning run.
        let t = day2 + 7.15 * HOUR;
        let on_bus = people
            .iter()
            .filter(|p| p.1 == Occupation::Child && p.2.at(t).dist(bus_path.at(t)) < 1.0)
            .count();
        assert!(on_bus > 3, "{on_bus}");
    }
}
