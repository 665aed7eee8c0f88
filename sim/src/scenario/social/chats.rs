//! Who writes to whom in the social city: chats of households, friend
//! groups and families (two related households), direct messages mostly to
//! people one sees or is related to, and a few to anyone.

use std::ops::Range;

use super::super::rng::SimRng;
use super::super::{MessageSpec, Resolved, Target, stream};
use super::DEFAULTS;
use super::places::{Occupation, Society};
use crate::workload::{Writer, apportion, daytime};

/// Shares of the workload: direct to someone close, direct to anyone,
/// household chats, friend-group chats, family chats.
const SHARES: [f64; 5] = [0.40, 0.10, 0.10, 0.25, 0.15];
/// Messages are written between 07:00 and 23:00.
const AWAKE_H: (f64, f64) = (7.0, 23.0);

/// The chat groups, by kind: indices into `groups`.
pub(super) struct Chats {
    /// Every chat's members, ascending: the scenario's groups.
    pub groups: Vec<Vec<u32>>,
    /// Households of two or more.
    pub households: Range<usize>,
    /// Friend groups of two or more.
    pub friends: Range<usize>,
    /// Pairs of related households.
    pub families: Range<usize>,
}

/// Households of two or more, friend groups, and each pair of related
/// households as one family.
pub(super) fn chats(society: &Society) -> Chats {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut push = |kind: &mut dyn Iterator<Item = Vec<u32>>| {
        let from = groups.len();
        groups.extend(kind.filter(|g| g.len() >= 2));
        from..groups.len()
    };
    let households = push(&mut society.households.iter().map(|h| h.members.clone()));
    let friends = push(&mut society.friends.iter().map(|f| f.members.clone()));
    let families = push(
        &mut society
            .households
            .iter()
            .enumerate()
            .filter(|&(h, hh)| h < hh.relatives)
            .map(|(_, hh)| {
                let mut members = hh.members.clone();
                members.extend(&society.households[hh.relatives].members);
                members.sort_unstable();
                members
            }),
    );
    Chats {
        groups,
        households,
        friends,
        families,
    }
}

/// The workload (see the module doc); a category with nobody to write to
/// falls back on a direct message to anyone, so an explicit size is met.
pub(super) fn workload(
    v: &Resolved,
    society: &Society,
    chats: &Chats,
    staff: &[Vec<u32>],
    pupils: &[Vec<u32>],
) -> Vec<MessageSpec> {
    let people = v.people as usize;
    let split = apportion(v.scaled_messages(&DEFAULTS), &SHARES);
    let mut w = Writer::new(v.style(), SimRng::new(v.seed, stream::WORKLOAD));
    for (kind, &count) in split.iter().enumerate() {
        for _ in 0..count {
            let at = daytime(&mut w.rng, v.duration, 0.0, AWAKE_H.0, AWAKE_H.1);
            let rng = &mut w.rng;
            let pick = match kind {
                0 => close(rng, society, staff, pupils),
                1 => None,
                2 => group(rng, chats, &chats.households),
                3 => group(rng, chats, &chats.friends),
                _ => group(rng, chats, &chats.families),
            };
            let (from, to) = pick.unwrap_or_else(|| anyone(rng, people));
            w.write(at, from, to);
        }
    }
    w.finish()
}

/// A direct message to a colleague or classmate, a friend or a relative
/// in the other household, from a random writer who has one.
fn close(
    rng: &mut SimRng,
    society: &Society,
    staff: &[Vec<u32>],
    pupils: &[Vec<u32>],
) -> Option<(u32, Target)> {
    let from = rng.below(society.people.len());
    let me = &society.people[from];
    let mates: &[u32] = match me.job {
        Occupation::Worker { office } => &staff[office],
        Occupation::Student { school } => &pupils[school],
        Occupation::AtHome => &[],
    };
    let friends: &[u32] = me.friends.map_or(&[], |g| &society.friends[g].members);
    let relatives = society.households[me.household].relatives;
    let family: &[u32] = if relatives == me.household {
        &[]
    } else {
        &society.households[relatives].members
    };
    let circles: Vec<&[u32]> = [mates, friends, family]
        .into_iter()
        .filter(|c| c.iter().any(|&m| m as usize != from))
        .collect();
    if circles.is_empty() {
        return None;
    }
    let circle = circles[rng.below(circles.len())];
    loop {
        let to = *rng.pick(circle);
        if to as usize != from {
            return Some((from as u32, Target::Direct(to)));
        }
    }
}

/// A message to a random group of one kind, from a random member.
fn group(rng: &mut SimRng, chats: &Chats, kind: &Range<usize>) -> Option<(u32, Target)> {
    if kind.is_empty() {
        return None;
    }
    let g = kind.start + rng.below(kind.len());
    let from = *rng.pick(&chats.groups[g]);
    Some((from, Target::Group(g as u32)))
}

/// A direct message between two random people.
fn anyone(rng: &mut SimRng, people: usize) -> (u32, Target) {
    let from = rng.below(people);
    let to = loop {
        let to = rng.below(people);
        if to != from {
            break to;
        }
    };
    (from as u32, Target::Direct(to as u32))
}
