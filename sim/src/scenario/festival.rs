//! `festival`: 2,000 people in friend groups of 3–6 on a 600 × 600 m site,
//! six hours from 18:00 to midnight.
//!
//! Site: a camping field along the north edge, reached through one gate
//! where the info point (the only uplinked gateway) stands, so everyone
//! entering the arena waits beside it for the wristband check; south of
//! the gate the arena with three stages, a food court, two bars and
//! toilets.
//!
//! Radio: 5 m BLE range by default, because in a packed crowd bodies absorb
//! most of 2.4 GHz, and contacts under 30 s are dropped (background
//! discovery is slow). This keeps the default run near 200k contacts.
//!
//! Groups move together (members a metre or two apart) from one point of
//! interest to the next, chosen by time of day: a stage while it plays a set
//! (and until the set ends), the food court at dinner time, bars late, the
//! tent at night. Now and then one member wanders off alone (toilets, a
//! drink, the info point) and comes back. Workload: group chats, direct
//! messages (mostly to friends: one's own group and two groups one knows),
//! a public channel with a few posts an hour that half the crowd follows.

use super::contacts::{self, contacts_over};
use super::mobility::{Path, PathBuilder, Point, in_disc, in_rect};
use super::rng::SimRng;
use super::{
    Defaults, MessageSpec, Resolved, Role, Scenario, ScenarioError, ScenarioParams, Target,
    assemble, stream,
};
use crate::trace::LinkKind;
use crate::workload::{Writer, apportion};

const DEFAULTS: Defaults = Defaults {
    people: 2000,
    duration: 6.0 * 3600.0,
    messages: 3000,
    ttl: 6.0 * 3600.0,
    range: 5.0,
    step: 5.0,
    min_contact: 30.0,
};

/// Time 0 is 18:00.
const CLOCK0_H: f64 = 18.0;
/// The camping field: x 20–580, y 460–590.
const CAMP: (f64, f64, f64, f64) = (20.0, 460.0, 580.0, 590.0);
/// Everything north of this is camp, south is arena.
const CAMP_EDGE_Y: f64 = 450.0;
/// The gate between camp and arena (people spread ±6 m across it).
const GATE: Point = Point::new(300.0, 440.0);
/// The info point, at the gate, where everyone entering the arena waits
/// for the wristband check.
const INFO: Point = Point::new(300.0, 443.0);
/// Channel posts per hour.
const CHANNEL_RATE_H: f64 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Index into `STAGES`.
    Stage(usize),
    Food,
    Bar,
    Toilet,
    Info,
    Camp,
}

struct Poi {
    kind: Kind,
    centre: Point,
    radius: f64,
}

const POIS: [Poi; 9] = [
    poi(Kind::Stage(0), 300.0, 110.0, 60.0),
    poi(Kind::Stage(1), 100.0, 260.0, 45.0),
    poi(Kind::Stage(2), 500.0, 270.0, 38.0),
    poi(Kind::Food, 300.0, 300.0, 40.0),
    poi(Kind::Bar, 170.0, 170.0, 20.0),
    poi(Kind::Bar, 440.0, 160.0, 20.0),
    poi(Kind::Toilet, 60.0, 410.0, 8.0),
    poi(Kind::Toilet, 540.0, 410.0, 8.0),
    poi(Kind::Info, INFO.x, INFO.y - 4.0, 3.0),
];

const fn poi(kind: Kind, x: f64, y: f64, radius: f64) -> Poi {
    Poi {
        kind,
        centre: Point::new(x, y),
        radius,
    }
}

/// A stage's programme: sets of `length` hours every `period` hours from
/// `first` (clock hours) while they start before half past midnight.
struct Stage {
    first: f64,
    period: f64,
    length: f64,
    pull: f64,
}

const STAGES: [Stage; 3] = [
    Stage {
        first: 14.5,
        period: 2.0,
        length: 1.25,
        pull: 10.0,
    },
    Stage {
        first: 14.0,
        period: 1.5,
        length: 1.0,
        pull: 5.0,
    },
    Stage {
        first: 14.75,
        period: 1.25,
        length: 0.9,
        pull: 4.0,
    },
];

impl Stage {
    /// The end (absolute clock hours) of the set playing at `clock`, or
    /// about to start (people arrive up to a quarter hour early).
    fn set_end(&self, clock: f64) -> Option<f64> {
        let day = (clock / 24.0).floor();
        for d in [day - 1.0, day] {
            let mut start = d * 24.0 + self.first;
            while start < d * 24.0 + 24.5 {
                if start - 0.25 <= clock && clock < start + self.length {
                    return Some(start + self.length);
                }
                start += self.period;
            }
        }
        None
    }
}

/// How much a group wants to go to `kind` at `clock` (hours).
fn pull(kind: Kind, clock: f64) -> f64 {
    let h = clock.rem_euclid(24.0);
    match kind {
        Kind::Stage(s) => match STAGES[s].set_end(clock) {
            Some(_) => STAGES[s].pull,
            None => 0.3,
        },
        Kind::Food if (12.0..14.0).contains(&h) || (18.0..20.5).contains(&h) => 5.0,
        Kind::Food => 1.0,
        Kind::Bar if !(2.0..20.0).contains(&h) => 2.5,
        Kind::Bar => 1.2,
        // Nobody goes to the toilets as a group.
        Kind::Toilet => 0.0,
        Kind::Info => 0.1,
        Kind::Camp if (1.0..9.0).contains(&h) => 15.0,
        Kind::Camp if h < 1.0 => 4.0,
        Kind::Camp if (9.0..12.0).contains(&h) => 3.0,
        // Back to the tent for a jumper or a drink between sets.
        Kind::Camp => 1.0,
    }
}

/// How long (seconds) a group stays at `kind` when arriving at `clock`.
fn stay(rng: &mut SimRng, kind: Kind, clock: f64) -> f64 {
    let h = clock.rem_euclid(24.0);
    let minutes = match kind {
        Kind::Stage(s) => match STAGES[s].set_end(clock) {
            Some(end) => ((end - clock) * 60.0 + rng.normal(0.0, 5.0)).max(10.0),
            None => rng.range(10.0, 25.0),
        },
        Kind::Food => rng.range(20.0, 45.0),
        Kind::Bar => rng.range(15.0, 40.0),
        Kind::Toilet | Kind::Info => rng.range(3.0, 8.0),
        Kind::Camp if (1.0..9.0).contains(&h) => rng.range(180.0, 360.0),
        Kind::Camp => rng.range(20.0, 60.0),
    };
    minutes * 60.0
}

/// Where a group (or a lone walker) stands at point of interest `i`.
fn spot(rng: &mut SimRng, i: Option<usize>, tent: Point) -> Point {
    match i {
        Some(i) => in_disc(rng, POIS[i].centre, POIS[i].radius),
        None => tent,
    }
}

/// How to pass the gate: where across it, and how long the wristband
/// check takes on the way into the arena.
#[derive(Debug, Clone, Copy)]
struct Gate {
    x: f64,
    y: f64,
    check: f64,
}

impl Gate {
    fn draw(rng: &mut SimRng) -> Self {
        Gate {
            x: rng.range(-6.0, 6.0),
            y: rng.range(0.0, 12.0),
            check: rng.range(5.0, 45.0),
        }
    }
}

/// Walks to `p`, through the gate if that crosses between camp and arena
/// (waiting for the check when entering the arena); returns the arrival.
fn go(b: &mut PathBuilder, p: Point, gate: Gate, speed: f64) -> f64 {
    let camp = |q: Point| q.y >= CAMP_EDGE_Y;
    let from_camp = camp(b.here());
    if from_camp == camp(p) {
        return b.walk_to(p, speed);
    }
    let at_gate = b.walk_to(Point::new(GATE.x + gate.x, GATE.y + gate.y), speed);
    if from_camp {
        b.stay_until(at_gate + gate.check);
    }
    b.walk_to(p, speed)
}

/// Splits `people` into friend groups of 3–6 (a smaller last one if need
/// be), as consecutive id ranges.
fn friend_groups(rng: &mut SimRng, people: u32) -> Vec<Vec<u32>> {
    let mut groups = Vec::new();
    let mut next = 0;
    while next < people {
        let size = [3, 3, 4, 4, 4, 5, 5, 6][rng.below(8)];
        let end = (next + size).min(people);
        groups.push((next..end).collect());
        next = end;
    }
    groups
}

/// The paths of one friend group's members, from time 0 to `duration`.
fn group_paths(rng: &mut SimRng, members: usize, duration: f64) -> Vec<Path> {
    let tent = in_rect(rng, CAMP.0, CAMP.1, CAMP.2, CAMP.3);
    // Members keep their place around the group's spot, a metre or two off.
    let offsets: Vec<(f64, f64)> = (0..members)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / members as f64;
            (1.5 * libm::cos(a), 1.5 * libm::sin(a))
        })
        .collect();
    let mut builders: Vec<PathBuilder> = offsets
        .iter()
        .map(|&(dx, dy)| PathBuilder::start(0.0, tent.offset(dx, dy)))
        .collect();
    let mut at: Option<usize> = None; // None: at the tent.
    // Groups set off over the first half hour, not all at 18:00 sharp.
    let mut t = rng.range(0.0, 1800.0);
    while t < duration {
        let clock = CLOCK0_H + t / 3600.0;
        // Next place: any other point of interest or the tent, by pull.
        let mut weights: Vec<f64> = POIS.iter().map(|p| pull(p.kind, clock)).collect();
        weights.push(pull(Kind::Camp, clock));
        match at {
            Some(i) => weights[i] = 0.0,
            None => weights[POIS.len()] = 0.0,
        }
        let choice = rng.weighted(&weights);
        let next = (choice < POIS.len()).then_some(choice);
        let kind = next.map_or(Kind::Camp, |i| POIS[i].kind);
        let target = spot(rng, next, tent);
        let speed = rng.range(0.6, 1.3);
        let gate = Gate::draw(rng);
        let mut arrival: f64 = t;
        for (b, &(dx, dy)) in builders.iter_mut().zip(&offsets) {
            b.stay_until(t);
            arrival = arrival.max(go(b, target.offset(dx, dy), gate, speed));
        }
        let leave = arrival + stay(rng, kind, CLOCK0_H + arrival / 3600.0);
        for (b, &(dx, dy)) in builders.iter_mut().zip(&offsets) {
            if rng.chance(0.15) {
                wander(rng, b, leave, target.offset(dx, dy));
            }
            b.stay_until(leave);
        }
        at = next;
        t = leave;
    }
    builders.into_iter().map(PathBuilder::build).collect()
}

/// One member slips off alone for a few minutes and comes back to `home`.
fn wander(rng: &mut SimRng, b: &mut PathBuilder, leave: f64, home: Point) {
    let now = b.now();
    let off = now + rng.range(0.0, 0.5) * (leave - now);
    b.stay_until(off);
    let kinds: Vec<f64> = POIS
        .iter()
        .map(|p| match p.kind {
            Kind::Toilet => 3.0,
            Kind::Bar | Kind::Food => 1.0,
            Kind::Info => 1.0,
            _ => 0.0,
        })
        .collect();
    let i = rng.weighted(&kinds);
    let p = in_disc(rng, POIS[i].centre, POIS[i].radius);
    let speed = rng.range(0.8, 1.5);
    let gate = Gate::draw(rng);
    let there = go(b, p, gate, speed);
    b.stay_until(there + rng.range(3.0, 8.0) * 60.0);
    go(b, home, gate, speed);
}

/// The festival scenario (see the module doc for the model).
pub fn festival(p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    // Messages live as long as the event, however long it is made.
    let defaults = Defaults {
        ttl: p.duration_s.unwrap_or(DEFAULTS.duration),
        ..DEFAULTS
    };
    let v = Resolved::new(p, &defaults)?;
    let people = v.people;
    let mut layout = SimRng::new(v.seed, stream::LAYOUT);
    let groups = friend_groups(&mut layout, people);

    let mut moving = SimRng::new(v.seed, stream::MOBILITY);
    let mut paths: Vec<Option<Path>> = Vec::with_capacity(people as usize + 2);
    for g in &groups {
        paths.extend(
            group_paths(&mut moving, g.len(), v.duration)
                .into_iter()
                .map(Some),
        );
    }
    let info = people;
    let relay = people + 1;
    paths.push(Some(Path::fixed(INFO)));
    paths.push(None);
    let mut roles = vec![Role::Person; people as usize];
    roles.extend([Role::Gateway, Role::Relay]);

    let cfg = v.sampling();
    let mut trace = contacts::sample(&paths, &[], &[], &cfg);
    trace.extend(contacts_over(
        info,
        relay,
        LinkKind::Uplink,
        &[(0.0, v.duration)],
    ));

    let mut social = SimRng::new(v.seed, stream::SOCIAL);
    let mut channel: Vec<u32> = (0..people).filter(|_| social.chance(0.5)).collect();
    if channel.is_empty() {
        channel.push(0);
    }
    let messages = workload(&v, &groups, &channel);
    Ok(assemble(
        "festival", roles, trace, groups, channel, messages, v.duration,
    ))
}

/// Group chats (60 %), direct messages (40 %: 35 % within one's own
/// group, 50 % to friends in two groups one knows, 15 % to anyone), and a
/// few channel posts an hour, at uniform times.
fn workload(v: &Resolved, groups: &[Vec<u32>], channel: &[u32]) -> Vec<MessageSpec> {
    let total = v.scaled_messages(&DEFAULTS);
    let posts = ((CHANNEL_RATE_H * v.duration / 3600.0).round() as u32).min(total / 10);
    let split = apportion(total - posts, &[0.6, 0.4]);
    let mut w = Writer::new(v.style(), SimRng::new(v.seed, stream::WORKLOAD));
    let of_group: Vec<usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, m)| m.iter().map(move |_| g))
        .collect();
    let chatty: Vec<usize> = (0..groups.len()).filter(|&g| groups[g].len() > 1).collect();
    for _ in 0..split[0] {
        if chatty.is_empty() {
            break;
        }
        let at = w.rng.range(0.0, v.duration);
        let g = *w.rng.pick(&chatty);
        let from = *w.rng.pick(&groups[g]);
        w.write(at, from, Target::Group(g as u32));
    }
    // Each group knows two other groups (neighbours at the camp, friends
    // of friends): most direct messages stay within this circle.
    let known: Vec<[usize; 2]> = (0..groups.len())
        .map(|_| [w.rng.below(groups.len()), w.rng.below(groups.len())])
        .collect();
    for _ in 0..split[1] {
        let at = w.rng.range(0.0, v.duration);
        let from = w.rng.below(v.people as usize) as u32;
        let g = of_group[from as usize];
        let mut to = from;
        while to == from {
            let circle = w.rng.unit();
            to = if circle < 0.35 {
                *w.rng.pick(&groups[g])
            } else if circle < 0.85 {
                let other = known[g][w.rng.below(2)];
                *w.rng.pick(&groups[other])
            } else {
                w.rng.below(v.people as usize) as u32
            };
        }
        w.write(at, from, Target::Direct(to));
    }
    for _ in 0..posts {
        let at = w.rng.range(0.0, v.duration);
        let from = *w.rng.pick(channel);
        w.write(at, from, Target::Channel);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_sets_follow_the_programme() {
        let main = &STAGES[0];
        // Sets from 14:30 every two hours, 75 minutes long.
        assert_eq!(main.set_end(14.5), Some(15.75));
        assert_eq!(main.set_end(14.3), Some(15.75)); // arriving early
        assert_eq!(main.set_end(16.0), None);
        assert_eq!(main.set_end(22.6), Some(23.75));
        // The last set starts at 22:30; the night is quiet.
        assert_eq!(main.set_end(24.6), None);
        assert_eq!(main.set_end(30.0), None);
        // The tent's last set, 23:30 to 00:24, runs past midnight.
        let end = STAGES[2].set_end(24.2).unwrap();
        assert!((end - 24.4).abs() < 1e-9, "{end}");
        // Next day's programme starts again in the afternoon.
        assert_eq!(main.set_end(24.0 + 14.6), Some(24.0 + 15.75));
        assert!(pull(Kind::Stage(0), 20.6) > pull(Kind::Stage(0), 20.0));
        assert!(pull(Kind::Food, 19.0) > pull(Kind::Food, 22.0));
        assert!(pull(Kind::Camp, 3.0) > pull(Kind::Camp, 21.0));
    }

    /// Occupancy of point of interest `i` at time `t`, over all paths.
    fn at_poi(paths: &[Path], i: usize, t: f64) -> usize {
        let poi = &POIS[i];
        paths
            .iter()
            .filter(|p| p.at(t).dist(poi.centre) <= poi.radius + 2.0)
            .count()
    }

    #[test]
    fn crowds_follow_the_sets_and_friends_stay_together() {
        let mut rng = SimRng::new(3, stream::MOBILITY);
        let groups: Vec<Vec<Path>> = (0..150)
            .map(|k| group_paths(&mut rng, 3 + k % 4, 3.0 * 3600.0))
            .collect();
        let all: Vec<Path> = groups.iter().flatten().cloned().collect();
        // Main stage: a set 20:30-21:45 (t = 2.5 h to 3.75 h), none 19:45-20:15.
        let during = at_poi(&all, 0, 2.9 * 3600.0);
        let between = at_poi(&all, 0, 2.0 * 3600.0);
        assert!(during > 3 * between.max(1), "{during} vs {between}");
        assert!(during < all.len() * 3 / 4, "{during} of {}", all.len());
        // Friends: most of the time within a few metres of each other
        // (wandering off alone now and then).
        let (mut close, mut total) = (0, 0);
        for g in &groups {
            for k in 0..36 {
                let t = f64::from(k) * 300.0;
                close += usize::from(g[0].at(t).dist(g[1].at(t)) <= 5.0);
                total += 1;
            }
        }
        let share = close as f64 / total as f64;
        assert!((0.75..0.99).contains(&share), "{share}");
    }
}
