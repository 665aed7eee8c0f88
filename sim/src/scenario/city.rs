//! `city`: 2,500 people in a blackout over 2.5 × 2.5 km (smaller or
//! larger with fewer or more people, at the same density), twelve hours
//! from 08:00. With the phone network down people walk between places
//! (random waypoint, 0.5–1.5 m/s) and stay a while at each (pauses of 40
//! minutes on average). Five fixed gateways with their own uplink
//! (a satellite terminal, a generator-backed line) stand spread over the
//! area; word of them spreads, and one trip in twenty heads for one. Workload: direct messages to a handful of personal contacts who
//! usually live elsewhere in the city, and family group chats.

use super::contacts::{self, contacts_over};
use super::mobility::{Path, Point, in_disc, in_rect, random_waypoint};
use super::rng::SimRng;
use super::{
    Defaults, MessageSpec, Resolved, Role, Scenario, ScenarioError, ScenarioParams, Target,
    assemble, stream,
};
use crate::trace::LinkKind;
use crate::workload::{Writer, apportion};

const DEFAULTS: Defaults = Defaults {
    people: 2500,
    duration: 12.0 * 3600.0,
    messages: 2000,
    ttl: 12.0 * 3600.0,
    range: 15.0,
    step: 5.0,
    min_contact: 30.0,
};

/// Side of the square area at the default 2,500 people, metres; it scales
/// with the square root of the people, so density stays the same.
const SIDE: f64 = 2500.0;
/// Gateways, as fractions of the side.
const GATEWAYS: [(f64, f64); 5] = [(0.2, 0.2), (0.8, 0.2), (0.5, 0.5), (0.2, 0.8), (0.8, 0.8)];
/// Share of trips that head for a gateway.
const TO_GATEWAY: f64 = 0.05;
/// Personal contacts each person writes to.
const CONTACTS: usize = 5;

/// The city scenario (see the module doc for the model).
pub fn city(p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    let v = Resolved::new(p, &DEFAULTS)?;
    let people = v.people;
    let side = SIDE * (f64::from(people) / f64::from(DEFAULTS.people)).sqrt();
    let mut moving = SimRng::new(v.seed, stream::MOBILITY);
    let gateways: Vec<Point> = GATEWAYS
        .iter()
        .map(|&(x, y)| Point::new(x * side, y * side))
        .collect();
    // Word spreads of where the internet still works: some trips go there.
    let pick = |r: &mut SimRng| {
        if r.chance(TO_GATEWAY) {
            let g = *r.pick(&gateways);
            in_disc(r, g, 25.0)
        } else {
            in_rect(r, 0.0, 0.0, side, side)
        }
    };
    let mut paths: Vec<Option<Path>> = (0..people)
        .map(|_| {
            Some(random_waypoint(
                &mut moving,
                pick,
                (0.5, 1.5),
                40.0 * 60.0,
                v.duration,
            ))
        })
        .collect();
    paths.extend(gateways.iter().map(|&g| Some(Path::fixed(g))));
    paths.push(None);
    let relay = people + GATEWAYS.len() as u32;
    let mut roles = vec![Role::Person; people as usize];
    roles.extend([Role::Gateway; GATEWAYS.len()]);
    roles.push(Role::Relay);

    let mut trace = contacts::sample(&paths, &[], &[], &v.sampling());
    for g in people..relay {
        trace.extend(contacts_over(
            g,
            relay,
            LinkKind::Uplink,
            &[(0.0, v.duration)],
        ));
    }

    let mut social = SimRng::new(v.seed, stream::SOCIAL);
    let groups = family_groups(&mut social, people);
    let messages = workload(&v, &mut social, &groups);
    Ok(assemble(
        "city",
        roles,
        trace,
        groups,
        Vec::new(),
        messages,
        v.duration,
    ))
}

/// Families and friends scattered over the city: one group of 3–6 random
/// people per 8 people.
fn family_groups(rng: &mut SimRng, people: u32) -> Vec<Vec<u32>> {
    let mut groups = Vec::new();
    for _ in 0..(people / 8).max(1) {
        let size = (3 + rng.below(4)).min(people as usize);
        let mut members: Vec<u32> = Vec::with_capacity(size);
        while members.len() < size {
            let m = rng.below(people as usize) as u32;
            if !members.contains(&m) {
                members.push(m);
            }
        }
        members.sort_unstable();
        groups.push(members);
    }
    groups
}

/// Three in four messages are direct, to one of the writer's personal
/// contacts; the rest go to the writer's groups.
fn workload(v: &Resolved, social: &mut SimRng, groups: &[Vec<u32>]) -> Vec<MessageSpec> {
    let people = v.people as usize;
    let contacts: Vec<Vec<u32>> = (0..people)
        .map(|me| {
            (0..CONTACTS)
                .map(|_| {
                    loop {
                        let c = social.below(people);
                        if c != me {
                            break c as u32;
                        }
                    }
                })
                .collect()
        })
        .collect();
    let split = apportion(v.scaled_messages(&DEFAULTS), &[0.75, 0.25]);
    let mut w = Writer::new(v.style(), SimRng::new(v.seed, stream::WORKLOAD));
    for _ in 0..split[0] {
        let at = w.rng.range(0.0, v.duration);
        let from = w.rng.below(people);
        let to = *w.rng.pick(&contacts[from]);
        w.write(at, from as u32, Target::Direct(to));
    }
    for _ in 0..split[1] {
        let at = w.rng.range(0.0, v.duration);
        let g = w.rng.below(groups.len());
        let from = *w.rng.pick(&groups[g]);
        w.write(at, from, Target::Group(g as u32));
    }
    w.finish()
}
