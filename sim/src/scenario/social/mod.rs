//! `social`: 2,000 people on 2 × 2 km in a rolling blackout, two working
//! days from midnight, in the spirit of the Working Day Movement model
//! (Ekman et al. 2008). The random-waypoint `city` stays as the stress
//! case; this is the city with social structure.
//!
//! - **Districts** of about 500 m on a square grid (4 × 4 at defaults; the
//!   area grows with the people, so density stays 500 per km²). Each has
//!   a square, three cafés, two bars and a school.
//! - **Households** of 1–5 in homes spread over the districts. The first
//!   two members are adults, later ones mostly pupils. Adults work (72 %)
//!   or stay around home (retired, out of work).
//! - **Work**: offices of about 12 desks spread over the city; a quarter
//!   of the workers work in their own district, the others elsewhere.
//!   Everyone sits at the same desk every day, so colleagues meet daily.
//!   Work starts at a personal hour (08:30 ± 25 min) with ± 10 min a day
//!   and lasts 8.5 h; six in ten lunch at a café in the office's district.
//!   Pupils go to their district's school 08:00–15:00, and four in ten
//!   then play on the square. People at home go out once or twice a day to
//!   a café or the square.
//! - **Transit**: a line along every row and every column of districts,
//!   a vehicle from each end every 10 minutes from 05:30 to 23:30, stopping
//!   at each district's interchange. Trips over 900 m ride (changing lines
//!   at most once); riders share the vehicle, and so meet.
//! - **Evenings**: friend groups of 3–6 (half of the workers' groups are
//!   colleagues who meet near work, the rest neighbours) meet on half the
//!   evenings at their regular bar from about 19:00 for 1.5–3 h; now and
//!   then someone visits the related household. Nights at home.
//! - **Blackout**: three in ten districts have power and a gateway on
//!   their square (a generator and a satellite terminal), on a rolling
//!   timetable: 4 hours on, 8 off, the districts taking turns. A gateway
//!   is switched off (no BLE, no uplink) while its district has no power.
//!   Word of where there is power spreads: on a third of the days, people
//!   at home go to charge their phone on the nearest powered square while
//!   it has power (08:00–20:00), and one worker in seven does on the way
//!   home.
//!
//! Workload: direct messages to colleagues or classmates, friends and
//! relatives (40 %) and to anyone (10 %); household (10 %), friend-group
//! (25 %) and family (15 %, two related households) chats; written
//! 07:00–23:00. No public channel: this scenario measures private mail.

mod chats;
mod day;
mod places;
mod transit;

#[cfg(test)]
mod tests;

use super::contacts::{self, contacts_over, merge_intervals};
use super::mobility::{Path, Point};
use super::rng::SimRng;
use super::{Defaults, Resolved, Role, Scenario, ScenarioError, ScenarioParams, assemble, stream};
use crate::trace::{Contact, LinkKind};

const DEFAULTS: Defaults = Defaults {
    people: 2000,
    duration: 2.0 * day::DAY,
    messages: 5000,
    ttl: day::DAY,
    range: 15.0,
    step: 10.0,
    min_contact: 30.0,
};

/// Share of districts with a gateway (at least one).
const POWERED: f64 = 0.3;
/// Length of a rolling-blackout block, and how many district shifts share
/// the day's blocks (each shift is on one block in that many).
const BLOCK_S: f64 = 4.0 * 3600.0;
const SHIFTS: usize = 3;

/// The social city scenario (see the module doc for the model).
pub fn social(p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    let v = Resolved::new(p, &DEFAULTS)?;
    let people = v.people;
    let mut layout = SimRng::new(v.seed, stream::LAYOUT);
    let mut ties = SimRng::new(v.seed, stream::SOCIAL);
    let mut city = places::city(&mut layout, people);
    let society = places::society(&mut layout, &mut ties, &mut city, people);

    let powered = powered_districts(&mut layout, city.districts.len());
    let blackout: Vec<(Point, Vec<(f64, f64)>)> = powered
        .iter()
        .enumerate()
        .map(|(n, &d)| (city.districts[d].square, timetable(n % SHIFTS, v.duration)))
        .collect();
    let mut moving = SimRng::new(v.seed, stream::MOBILITY);
    let meetings = day::meetings(&mut moving, society.friends.len(), v.duration);
    let world = day::World {
        society: &society,
        city: &city,
        meetings: &meetings,
        blackout: &blackout,
    };
    let mut paths: Vec<Option<Path>> = society
        .people
        .iter()
        .map(|me| Some(day::routine(&mut moving, me, &world, v.duration)))
        .collect();
    paths.extend(
        blackout
            .iter()
            .map(|&(square, _)| Some(Path::fixed(square))),
    );
    paths.push(None);
    let relay = people + powered.len() as u32;
    let mut roles = vec![Role::Person; people as usize];
    roles.extend(vec![Role::Gateway; powered.len()]);
    roles.push(Role::Relay);

    let on = |node: u32| (node >= people).then(|| blackout[(node - people) as usize].1.as_slice());
    let mut trace = switch_off(
        contacts::sample(&paths, &[], &[], &v.sampling()),
        on,
        v.min_contact,
    );
    for (n, (_, windows)) in blackout.iter().enumerate() {
        trace.extend(contacts_over(
            people + n as u32,
            relay,
            LinkKind::Uplink,
            windows,
        ));
    }

    let chats = chats::chats(&society);
    let staff = society.staff(city.offices.len());
    let pupils = society.pupils(city.districts.len());
    let messages = chats::workload(&v, &society, &chats, &staff, &pupils);
    Ok(assemble(
        "social",
        roles,
        trace,
        chats.groups,
        Vec::new(),
        messages,
        v.duration,
    ))
}

/// The districts with power and a gateway, ascending.
fn powered_districts(rng: &mut SimRng, districts: usize) -> Vec<usize> {
    let n = ((districts as f64 * POWERED).round() as usize).clamp(1, districts);
    let mut all: Vec<usize> = (0..districts).collect();
    rng.shuffle(&mut all);
    let mut chosen = all[..n].to_vec();
    chosen.sort_unstable();
    chosen
}

/// When a district of `shift` has power: one block in every [`SHIFTS`],
/// from midnight, clipped to `duration`.
fn timetable(shift: usize, duration: f64) -> Vec<(f64, f64)> {
    let blocks = (duration / BLOCK_S).ceil() as usize;
    let on = (shift..blocks)
        .step_by(SHIFTS)
        .map(|b| (b as f64 * BLOCK_S, ((b + 1) as f64 * BLOCK_S).min(duration)))
        .filter(|&(a, b)| a < b)
        .collect();
    merge_intervals(on, 0.0)
}

/// Cuts BLE contacts down to the times both ends are switched on
/// (`on(node)` gives a gateway's powered windows, `None` for a phone),
/// dropping pieces shorter than `min_length`.
fn switch_off<'a>(
    contacts: Vec<Contact>,
    on: impl Fn(u32) -> Option<&'a [(f64, f64)]>,
    min_length: f64,
) -> Vec<Contact> {
    let mut out = Vec::with_capacity(contacts.len());
    for c in contacts {
        let mut pieces = vec![(c.start, c.end)];
        for node in [c.a, c.b] {
            if let Some(windows) = on(node) {
                pieces = pieces
                    .iter()
                    .flat_map(|&(s, e)| {
                        windows
                            .iter()
                            .map(move |&(a, b)| (s.max(a), e.min(b)))
                            .filter(|&(a, b)| a < b)
                    })
                    .collect();
            }
        }
        out.extend(
            pieces
                .into_iter()
                .filter(|&(a, b)| b - a >= min_length)
                .map(|(start, end)| Contact { start, end, ..c }),
        );
    }
    out
}
