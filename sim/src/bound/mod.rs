//! The ideal blind spray: how much of the oracle a router could deliver
//! with a budget of copies if it cannot tell a good carrier from a bad one.
//!
//! Direct messages only: a group or channel message is wanted by members
//! a router does recognise, so handing it to them is delivery, not a blind
//! bet. For each direct message, the copies go to the first `copies`
//! people a foremost search from the source reaches without passing the
//! recipient or infrastructure, each at the earliest instant the contacts
//! allow. No real spray places its copies sooner, and the choice ignores
//! who the recipient is. The source and these holders then wait: each hands
//! the message to the recipient at their first contact, or to a gateway, in
//! which case the recipient gets it at its own first contact with
//! uplinked infrastructure. Nothing else moves, so a message costs at most
//! `copies` hand-overs to carriers plus its delivery.
//!
//! Where people's contacts do not depend on who they are (the city's random
//! waypoint), a router that reads nothing about the recipient's future
//! chooses carriers that are as good as these, only later; so this is what
//! a copy budget can buy there at best. It is an estimate, not a theorem:
//! a real router may move copies further (each move is a hand-over).

use crate::metrics::{percentile, ratio, round};
use crate::oracle::{Message, Oracle, Walk};
use crate::scenario::{Role, Scenario, Target};
use serde::Serialize;

pub mod encounter;
pub mod gradient;

/// What the ideal blind spray with one budget delivers on a scenario's
/// direct messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlindSpray {
    /// Copies handed to carriers, besides the source's own.
    pub copies: u32,
    /// Direct messages.
    pub targets: u64,
    /// Direct messages delivered.
    pub delivered: u64,
    /// Direct messages the oracle delivers.
    pub oracle_delivered: u64,
    /// `delivered / oracle_delivered`.
    pub share_of_oracle: f64,
    /// Median latency of the delivered messages, seconds.
    pub latency_p50_s: f64,
    /// Hand-overs to carriers per delivered message: the run's `overhead`
    /// measured the same way (transmissions minus deliveries, over
    /// deliveries).
    pub overhead: f64,
}

/// The earliest delivery of each direct message of `sc`'s workload under
/// the ideal blind spray with `copies` carriers, with the oracle's and the
/// number of carrier hand-overs, in workload order.
pub fn deliveries(sc: &Scenario, oracle: &Oracle, copies: u32) -> Vec<Pair> {
    deliveries_knowing(sc, oracle, copies, |_, _| Vec::new())
}

/// As [`deliveries`], and besides the recipient and the uplink, a holder
/// also hands a copy to any person inside the windows `knows(oracle,
/// recipient)` gives for it (by dense node): when a router would know that
/// person meets the recipient ([`encounter`]).
pub(crate) fn deliveries_knowing(
    sc: &Scenario,
    oracle: &Oracle,
    copies: u32,
    knows: impl Fn(&Oracle, usize) -> Vec<Vec<(f64, f64)>>,
) -> Vec<Pair> {
    let masks = masks(sc, oracle);
    each_direct(sc, oracle, |(from, to), times| {
        let windows = knows(oracle, to);
        spray(oracle, &masks, (from, to), times, copies, &windows)
    })
}

/// People and infrastructure among `oracle`'s dense nodes.
fn masks(sc: &Scenario, oracle: &Oracle) -> Masks {
    let person: Vec<bool> = oracle
        .ids()
        .iter()
        .map(|&id| sc.roles.get(id as usize) == Some(&Role::Person))
        .collect();
    Masks {
        infrastructure: person.iter().map(|p| !p).collect(),
        person,
    }
}

/// Each direct message of `sc`'s workload, in order, with the oracle's
/// delivery and what `route((from, to), (created_at, deadline))` gives
/// (delivery time, copies handed) for dense sender and recipient.
pub(crate) fn each_direct(
    sc: &Scenario,
    oracle: &Oracle,
    mut route: impl FnMut((usize, usize), (f64, f64)) -> (Option<f64>, u32),
) -> Vec<Pair> {
    let mut out = Vec::new();
    for m in &sc.messages {
        let Target::Direct(r) = m.to else { continue };
        let deadline = (m.at + m.ttl).min(sc.duration);
        let oracle_at = oracle
            .earliest_delivery(&Message {
                source: m.from,
                destination: r,
                created_at: m.at,
                ttl: m.ttl,
            })
            .filter(|&t| t <= deadline);
        let (delivered, handed) = match (oracle.dense(m.from), oracle.dense(r)) {
            (Some(from), Some(to)) if m.at <= deadline && from != to => {
                route((from, to), (m.at, deadline))
            }
            _ => (None, 0),
        };
        out.push(Pair {
            oracle: oracle_at,
            delivered,
            created_at: m.at,
            handed,
        });
    }
    out
}

/// One direct message's fate under the ideal blind spray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// When the message was written.
    pub created_at: f64,
    /// The oracle's delivery time.
    pub oracle: Option<f64>,
    /// The blind spray's delivery time.
    pub delivered: Option<f64>,
    /// Copies handed to carriers.
    pub handed: u32,
}

/// Dense nodes by kind.
struct Masks {
    /// People, who may carry copies.
    person: Vec<bool>,
    /// Gateways and the relay.
    infrastructure: Vec<bool>,
}

/// Places `copies` copies from dense node `from`, between `created_at` and
/// `deadline`, and returns when `to` gets one, with the copies handed to
/// carriers: those placed, and those handed inside `windows` (empty: none).
fn spray(
    oracle: &Oracle,
    masks: &Masks,
    (from, to): (usize, usize),
    (created_at, deadline): (f64, f64),
    copies: u32,
    windows: &[Vec<(f64, f64)>],
) -> (Option<f64>, u32) {
    let mut carriers = masks.person.clone();
    carriers[to] = false;
    let placed = oracle.walk(
        &[(from, created_at)],
        deadline,
        &Walk {
            enters: Some(&carriers),
            settle: Some(copies as usize + 1),
            ..Walk::default()
        },
    );
    let holders: Vec<(usize, f64)> = placed
        .order
        .iter()
        .map(|&d| (d, placed.arrival[d]))
        .collect();
    // Holders wait: only the recipient itself or the uplink may take it,
    // and people inside their windows.
    let mut waits = masks.infrastructure.clone();
    waits[to] = true;
    let reached = oracle.walk(
        &holders,
        deadline,
        &Walk {
            enters: Some(&waits),
            windows: (!windows.is_empty()).then_some(windows),
            stop_at: Some(to),
            ..Walk::default()
        },
    );
    let delivered = reached.settled[to].then_some(reached.arrival[to]);
    let told = reached
        .order
        .iter()
        .filter(|&&d| d != to && masks.person[d] && !placed.settled[d])
        .count();
    (delivered, (holders.len().saturating_sub(1) + told) as u32)
}

/// Sums up [`deliveries`] for one budget.
pub fn blind_spray(sc: &Scenario, oracle: &Oracle, copies: u32) -> BlindSpray {
    summarise(copies, &deliveries(sc, oracle, copies))
}

/// The figures of one budget's deliveries.
fn summarise(copies: u32, pairs: &[Pair]) -> BlindSpray {
    let delivered: Vec<&Pair> = pairs.iter().filter(|p| p.delivered.is_some()).collect();
    let mut latency: Vec<f64> = delivered
        .iter()
        .filter_map(|p| p.delivered.map(|t| t - p.created_at))
        .collect();
    latency.sort_by(f64::total_cmp);
    let oracle_delivered = pairs.iter().filter(|p| p.oracle.is_some()).count() as u64;
    let handed: u64 = pairs.iter().map(|p| u64::from(p.handed)).sum();
    let n = delivered.len() as f64;
    BlindSpray {
        copies,
        targets: pairs.len() as u64,
        delivered: delivered.len() as u64,
        oracle_delivered,
        share_of_oracle: round(ratio(n, oracle_delivered as f64), 3),
        latency_p50_s: round(percentile(&latency, 0.5), 1),
        overhead: round(ratio(handed as f64, n), 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::tests::small_case;
    use crate::scenario::{MessageSpec, Target};
    use crate::trace::{Trace, parse};
    use proptest::prelude::*;

    pub(super) fn scenario(trace: Trace, roles: Vec<Role>, messages: Vec<MessageSpec>) -> Scenario {
        Scenario {
            name: "test".into(),
            roles,
            duration: trace.end.max(1000.0),
            trace,
            groups: Vec::new(),
            channel: Vec::new(),
            messages,
        }
    }

    pub(super) fn direct(at: f64, from: u32, to: u32, ttl: f64) -> MessageSpec {
        MessageSpec {
            at,
            from,
            to: Target::Direct(to),
            size: 10,
            ttl,
        }
    }

    #[test]
    fn one_copy_goes_to_the_first_person_met_and_waits_there() {
        // 0 meets 1 at 10, then 2 at 20; 2 meets 3 at 30, 1 meets 3 at 40.
        let trace = parse(
            "10 CONN 0 1 up\n11 CONN 0 1 down\n20 CONN 0 2 up\n21 CONN 0 2 down\n\
             30 CONN 2 3 up\n31 CONN 2 3 down\n40 CONN 1 3 up\n41 CONN 1 3 down\n",
        )
        .unwrap();
        let sc = scenario(trace, vec![Role::Person; 4], vec![direct(0.0, 0, 3, 500.0)]);
        let oracle = Oracle::new(&sc.trace);
        let one = deliveries(&sc, &oracle, 1);
        assert_eq!(one[0].oracle, Some(30.0));
        assert_eq!(one[0].delivered, Some(40.0), "the copy went to 1, not 2");
        assert_eq!(one[0].handed, 1);
        let two = deliveries(&sc, &oracle, 2);
        assert_eq!(two[0].delivered, Some(30.0));
        // A carrier does not pass its copy on: 1 cannot reach 3 through 2.
        let none = deliveries(&sc, &oracle, 0);
        assert_eq!(none[0].delivered, None);
    }

    #[test]
    fn the_uplink_takes_a_copy_to_a_recipient_who_visits_a_gateway() {
        // 0 meets gateway 2 at 10; the relay 3 is up throughout to 2 and 4;
        // the recipient 1 meets gateway 4 at 50.
        let trace = parse(
            "0 CONN 2 3 up\n0 CONN 3 4 up\n10 CONN 0 2 up\n11 CONN 0 2 down\n\
             50 CONN 1 4 up\n51 CONN 1 4 down\n",
        )
        .unwrap();
        let roles = vec![
            Role::Person,
            Role::Person,
            Role::Gateway,
            Role::Relay,
            Role::Gateway,
        ];
        let group = MessageSpec {
            to: Target::Group(0),
            ..direct(0.0, 0, 1, 500.0)
        };
        let mut sc = scenario(trace, roles, vec![direct(0.0, 0, 1, 500.0), group]);
        sc.groups = vec![vec![0, 1]];
        let oracle = Oracle::new(&sc.trace);
        let got = deliveries(&sc, &oracle, 0);
        assert_eq!(got.len(), 1, "group messages are not blind bets");
        assert_eq!(got[0].delivered, Some(50.0));
        assert_eq!(got[0].oracle, Some(50.0));
        let s = blind_spray(&sc, &oracle, 0);
        assert_eq!(
            (s.delivered, s.oracle_delivered, s.share_of_oracle),
            (1, 1, 1.0)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Never earlier than the oracle; with a copy for everyone it is
        /// the oracle (people only: every journey runs through carriers);
        /// more copies never deliver later.
        #[test]
        fn never_beats_the_oracle_and_matches_it_with_copies_for_all(
            (trace, msgs) in small_case()
        ) {
            let n = trace.nodes;
            let messages: Vec<MessageSpec> = msgs
                .iter()
                .filter(|m| m.source != m.destination && m.ttl.is_finite())
                .map(|m| direct(m.created_at, m.source, m.destination, m.ttl))
                .collect();
            let sc = scenario(trace, vec![Role::Person; n as usize], messages);
            let oracle = Oracle::new(&sc.trace);
            let all = deliveries(&sc, &oracle, n);
            let mut before = deliveries(&sc, &oracle, 0);
            for p in &all {
                prop_assert_eq!(p.delivered, p.oracle);
            }
            for copies in 1..n {
                let now = deliveries(&sc, &oracle, copies);
                for (a, b) in before.iter().zip(&now) {
                    if let Some(t) = b.delivered {
                        prop_assert!(t >= b.oracle.unwrap());
                    }
                    if let Some(t) = a.delivered {
                        prop_assert!(b.delivered.is_some_and(|u| u <= t));
                    }
                    prop_assert!(b.handed <= copies);
                }
                before = now;
            }
        }
    }
}
