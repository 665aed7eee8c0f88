//! The social city's own promises: people meet the same colleagues and
//! housemates day after day, at home by night and at work by day; riders
//! share vehicles; gateways are on only while their district has power;
//! messages go to people the writer knows.

use std::collections::{HashMap, HashSet};

use super::places::Occupation;
use super::*;
use crate::scenario::Target;

const HOUR: f64 = 3600.0;

fn small(seed: u64, people: u32, hours: f64) -> (Scenario, places::Society, places::City) {
    let p = ScenarioParams {
        seed,
        people: Some(people),
        duration_s: Some(hours * HOUR),
        ..Default::default()
    };
    let s = social(&p).unwrap();
    // Rebuild the society the same way, to know who is who.
    let mut layout = SimRng::new(seed, stream::LAYOUT);
    let mut ties = SimRng::new(seed, stream::SOCIAL);
    let mut city = places::city(&mut layout, people);
    let society = places::society(&mut layout, &mut ties, &mut city, people);
    (s, society, city)
}

/// BLE contacts between persons, by unordered pair: their intervals.
fn pairs(s: &Scenario) -> HashMap<(u32, u32), Vec<(f64, f64)>> {
    let persons = s.persons().len() as u32;
    let mut out: HashMap<(u32, u32), Vec<(f64, f64)>> = HashMap::new();
    for c in &s.trace.contacts {
        if c.kind == LinkKind::Ble && c.b < persons {
            out.entry((c.a, c.b)).or_default().push((c.start, c.end));
        }
    }
    out
}

fn meet_at(intervals: &[(f64, f64)], t: f64) -> bool {
    intervals.iter().any(|&(a, b)| a <= t && t < b)
}

#[test]
fn housemates_meet_at_night_and_colleagues_by_day_every_day() {
    let (s, society, city) = small(11, 300, 48.0);
    let met = pairs(&s);
    let key = |a: u32, b: u32| (a.min(b), a.max(b));
    // Households of two or more are together at 03:00 on both nights.
    let mut together = 0;
    let mut couples = 0;
    for h in society.households.iter().filter(|h| h.members.len() >= 2) {
        let (a, b) = (h.members[0], h.members[1]);
        couples += 1;
        let seen = met.get(&key(a, b)).map_or(&[][..], |v| v.as_slice());
        if meet_at(seen, 3.0 * HOUR) && meet_at(seen, 27.0 * HOUR) {
            together += 1;
        }
    }
    assert!(
        couples > 20 && together == couples,
        "{together} of {couples}"
    );
    // Colleagues whose desks are close meet at 10:00 and 15:00 each day.
    let staff = society.staff(city.offices.len());
    let mut near = 0;
    let mut daily = 0;
    for members in &staff {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let (pa, pb) = (&society.people[a as usize], &society.people[b as usize]);
                if pa.desk.dist(pb.desk) > 10.0 {
                    continue;
                }
                near += 1;
                let seen = met.get(&key(a, b)).map_or(&[][..], |v| v.as_slice());
                let hours = [10.5, 15.0, 34.5, 39.0];
                if hours.iter().all(|&h| meet_at(seen, h * HOUR)) {
                    daily += 1;
                }
            }
        }
    }
    assert!(near > 50, "{near}");
    // Late starters and early leavers miss some of these hours.
    assert!(daily as f64 > 0.6 * near as f64, "{daily} of {near}");
    // Colleagues in different households do not meet at 03:00.
    let night_colleagues = staff
        .iter()
        .flat_map(|m| m.iter().flat_map(move |&a| m.iter().map(move |&b| (a, b))))
        .filter(|&(a, b)| a < b)
        .filter(|&(a, b)| {
            society.people[a as usize].household != society.people[b as usize].household
        })
        .filter(|&(a, b)| met.get(&(a, b)).is_some_and(|v| meet_at(v, 3.0 * HOUR)))
        .count();
    assert!(night_colleagues < 5, "{night_colleagues}");
}

#[test]
fn people_are_home_at_night_and_most_workers_at_their_desk_by_day() {
    let (_, society, city) = small(12, 300, 30.0);
    let mut moving = SimRng::new(12, stream::MOBILITY);
    let meetings = day::meetings(&mut moving, society.friends.len(), 30.0 * HOUR);
    let world = day::World {
        society: &society,
        city: &city,
        meetings: &meetings,
        blackout: &[],
    };
    let mut home = 0;
    let mut at_desk = 0;
    let mut workers = 0;
    let mut far = 0;
    for me in &society.people {
        let path = day::routine(&mut moving, me, &world, 30.0 * HOUR);
        if path.at(27.0 * HOUR).dist(me.home) < 1.0 {
            home += 1;
        }
        if let Occupation::Worker { office } = me.job {
            workers += 1;
            if path.at(11.0 * HOUR).dist(me.desk) < 1.0 {
                at_desk += 1;
            }
            if city.offices[office].district != me.district {
                far += 1;
            }
        }
    }
    assert_eq!(home, society.people.len());
    assert!(
        at_desk as f64 > 0.95 * workers as f64,
        "{at_desk} of {workers}"
    );
    // Most work in another district.
    assert!(far as f64 > 0.5 * workers as f64, "{far} of {workers}");
}

#[test]
fn riders_share_vehicles_and_meet_aboard() {
    let (s, society, city) = small(13, 800, 11.0);
    assert!(city.k >= 3, "{}", city.k);
    // Commuters between far districts are in range of strangers (people of
    // other households and offices) during the morning rush, away from
    // homes and offices: aboard, or waiting at a stop.
    let met = pairs(&s);
    let strangers_in_the_rush = met
        .iter()
        .filter(|&(&(a, b), v)| {
            let (pa, pb) = (&society.people[a as usize], &society.people[b as usize]);
            pa.household != pb.household
                && pa.job != pb.job
                && v.iter().any(|&(x, y)| x >= 6.5 * HOUR && y <= 9.5 * HOUR)
        })
        .count();
    assert!(strangers_in_the_rush > 100, "{strangers_in_the_rush}");
}

#[test]
fn gateways_are_on_only_while_their_district_has_power() {
    let (s, _, city) = small(14, 300, 30.0);
    let gateways = s.ids_of(Role::Gateway);
    let expected = ((city.districts.len() as f64 * POWERED).round() as usize).max(1);
    assert_eq!(gateways.len(), expected);
    let persons = s.persons().len() as u32;
    let mut ble = 0;
    for c in &s.trace.contacts {
        let g = if c.b >= persons && c.b < persons + gateways.len() as u32 {
            c.b
        } else {
            continue;
        };
        let windows = timetable(((g - persons) as usize) % SHIFTS, s.duration);
        let inside = windows.iter().any(|&(a, b)| a <= c.start && c.end <= b);
        assert!(inside, "{c:?} outside {windows:?}");
        ble += usize::from(c.kind == LinkKind::Ble);
    }
    assert!(ble > 0, "nobody ever meets a gateway");
    // Up in 4-hour blocks, one in three: 00–04, 12–16, 24–28.
    let up: f64 = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Uplink && c.a == gateways[0])
        .map(|c| c.end - c.start)
        .sum();
    assert_eq!(up, 12.0 * HOUR);
}

#[test]
fn direct_messages_mostly_go_to_people_the_writer_knows() {
    let (s, society, city) = small(15, 300, 24.0);
    let staff = society.staff(city.offices.len());
    let pupils = society.pupils(city.districts.len());
    let knows = |a: u32, b: u32| {
        let (pa, pb) = (&society.people[a as usize], &society.people[b as usize]);
        let mates = match pa.job {
            Occupation::Worker { office } => staff[office].contains(&b),
            Occupation::Student { school } => pupils[school].contains(&b),
            Occupation::AtHome => false,
        };
        mates
            || (pa.friends.is_some() && pa.friends == pb.friends)
            || society.households[pa.household].relatives == pb.household
    };
    let direct: Vec<(u32, u32)> = s
        .messages
        .iter()
        .filter_map(|m| match m.to {
            Target::Direct(to) => Some((m.from, to)),
            _ => None,
        })
        .collect();
    let known = direct.iter().filter(|&&(a, b)| knows(a, b)).count();
    // 40 of every 50 direct messages go to someone close; a few of the
    // others do by chance.
    let share = known as f64 / direct.len() as f64;
    assert!((0.78..0.9).contains(&share), "{share}");
    // Every kind of chat is written in.
    let groups: HashSet<u32> = s
        .messages
        .iter()
        .filter_map(|m| match m.to {
            Target::Group(g) => Some(g),
            _ => None,
        })
        .collect();
    let chats = chats::chats(&society);
    for kind in [chats.households, chats.friends, chats.families] {
        assert!(groups.iter().any(|&g| kind.contains(&(g as usize))));
    }
    // 5,000 messages for 2,000 people over 2 days, scaled.
    assert_eq!(s.messages.len(), 375);
}

#[test]
fn blackout_timetable_takes_turns() {
    assert_eq!(
        timetable(1, 30.0 * HOUR),
        vec![
            (4.0 * HOUR, 8.0 * HOUR),
            (16.0 * HOUR, 20.0 * HOUR),
            (28.0 * HOUR, 30.0 * HOUR)
        ]
    );
    assert_eq!(timetable(2, 6.0 * HOUR), vec![]);
    let cut = switch_off(
        vec![Contact {
            a: 0,
            b: 5,
            start: 3.0 * HOUR,
            end: 5.0 * HOUR,
            kind: LinkKind::Ble,
        }],
        |n| (n == 5).then_some(&[(4.0 * HOUR, 8.0 * HOUR)][..]),
        30.0,
    );
    assert_eq!(cut.len(), 1);
    assert_eq!((cut[0].start, cut[0].end), (4.0 * HOUR, 5.0 * HOUR));
}
