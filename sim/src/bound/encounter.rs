//! The ideal encounter router: what the blind spray of [`super`] delivers
//! when, besides, every holder also hands a copy to anyone a router would
//! know meets the recipient. Knowledge is exact here (no Bloom false
//! positive, no summary bytes, no margin or threshold) and copies to
//! knowing people are unlimited, so this estimates what a kind of
//! knowledge can buy at best, whatever rule and wire carry it; the cost
//! shows in the overhead.
//!
//! Kinds of knowledge ([`Knowledge`]), all learnt from contacts before the
//! moment of the hand-over:
//!
//! - **met today**: the person met the recipient earlier on the same UTC
//!   day. What Pollen's daily summaries tell (`docs/ROUTING.md`,
//!   *Encounter routing*).
//! - **met in the last 24 h**: the same, remembered a day whatever the
//!   clock says; what keeping yesterday's keys would add.
//! - **two meetings today**: the person met the recipient, or met someone
//!   who had met the recipient, today (PRoPHET's transitivity without its
//!   decay).

use super::{BlindSpray, deliveries_knowing, each_direct, masks, summarise};
use crate::oracle::Oracle;
use crate::scenario::Scenario;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const DAY_S: f64 = 86_400.0;

/// What a router knows of whom a person meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Knowledge {
    /// Nothing: the ideal blind spray.
    Blind,
    /// Who met the recipient earlier today (UTC days from the trace's 0).
    MetToday,
    /// Who met the recipient in the last 24 hours.
    MetLastDay,
    /// Who met the recipient, or someone who had, earlier today.
    TwoMeetingsToday,
}

impl Knowledge {
    /// Every kind, least first.
    pub const ALL: [Knowledge; 4] = [
        Knowledge::Blind,
        Knowledge::MetToday,
        Knowledge::MetLastDay,
        Knowledge::TwoMeetingsToday,
    ];
}

/// How a router with knowledge spends copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The blind spray's copies, and a copy for everyone who knows
    /// ([`ideal_encounter`]).
    Unlimited,
    /// Pollen's binary spray, a last copy climbing to whoever knows more
    /// ([`gradient`]).
    Gradient,
}

/// One row of the ideal encounter router: a budget and a kind of knowledge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdealEncounter {
    /// How copies are spent.
    pub rule: Rule,
    /// What the router knows.
    pub knowledge: Knowledge,
    /// The figures, as for the ideal blind spray; `overhead` counts copies
    /// handed to knowing people too.
    #[serde(flatten)]
    pub figures: BlindSpray,
}

/// What the ideal router with `copies` blind copies and `knowledge`
/// delivers of `sc`'s direct messages.
pub fn ideal_encounter(
    sc: &Scenario,
    oracle: &Oracle,
    copies: u32,
    knowledge: Knowledge,
) -> IdealEncounter {
    let pairs = deliveries_knowing(sc, oracle, copies, |o, r| windows(o, r, knowledge));
    IdealEncounter {
        rule: Rule::Unlimited,
        knowledge,
        figures: summarise(copies, &pairs),
    }
}

/// A budgeted router with exact knowledge: binary spray of `copies` as
/// Pollen's, and a last copy moves to a person who knows more of the
/// recipient than its holder (met it, above met someone who had, above
/// nothing), the holder keeping it for the recipient only. What a summary
/// carrying `knowledge` could buy under Pollen's copy rule, with no false
/// positive and no bytes. Hand-overs are instant, and the uplink is left
/// out (1.5–3 % of deliveries in the social city).
pub fn gradient(
    sc: &Scenario,
    oracle: &Oracle,
    copies: u32,
    knowledge: Knowledge,
) -> IdealEncounter {
    let person = masks(sc, oracle).person;
    let pairs = each_direct(sc, oracle, |(from, to), times| {
        let one = match knowledge {
            Knowledge::MetLastDay => knowledge,
            _ => Knowledge::MetToday,
        };
        let further = match knowledge {
            Knowledge::TwoMeetingsToday => windows(oracle, to, knowledge),
            _ => Vec::new(),
        };
        let know = Know {
            knowledge,
            met: windows(oracle, to, one),
            further,
        };
        sweep(oracle, &person, &know, (from, to), times, copies)
    });
    IdealEncounter {
        rule: Rule::Gradient,
        knowledge,
        figures: summarise(copies, &pairs),
    }
}

/// What a [`gradient`] router knows of one recipient.
struct Know {
    knowledge: Knowledge,
    /// Who met the recipient today, when.
    met: Vec<Vec<(f64, f64)>>,
    /// Who met someone who had (two meetings), when; empty for less.
    further: Vec<Vec<(f64, f64)>>,
}

impl Know {
    /// How much `node` knows of the recipient at `t`: 2 met it, 1 met
    /// someone who had, 0 nothing.
    fn level(&self, node: usize, t: f64) -> u8 {
        let inside = |w: &[Vec<(f64, f64)>]| {
            w.get(node)
                .is_some_and(|w| w.iter().any(|&(s, e)| s <= t && t < e))
        };
        match self.knowledge {
            Knowledge::Blind => 0,
            _ if inside(&self.met) => 2,
            _ if inside(&self.further) => 1,
            _ => 0,
        }
    }
}

/// One message through the contacts under the gradient rule: when `to`
/// gets it, and the copies handed to carriers. A node handed a copy also
/// meets at once everyone it is in contact with at that moment.
fn sweep(
    oracle: &Oracle,
    person: &[bool],
    know: &Know,
    (from, to): (usize, usize),
    (created_at, deadline): (f64, f64),
    copies: u32,
) -> (Option<f64>, u32) {
    let mut state = Sweep {
        held: vec![None; person.len()],
        handed: 0,
        person,
        know,
        to,
    };
    state.held[from] = Some(copies.max(1));
    // Each holder's next contact to come up, earliest first.
    let mut next: BinaryHeap<Reverse<(Time, usize, usize)>> = BinaryHeap::new();
    let mut queue = vec![from];
    let mut t = created_at;
    loop {
        // Everyone handed a copy at `t` meets whom it is with, and waits
        // for its next contact.
        while let Some(x) = queue.pop() {
            for (y, start, end) in oracle.contacts(x) {
                if start <= t
                    && t <= end
                    && let Some(at) = state.meet(x, y, t, &mut queue)
                {
                    return (Some(at), state.handed);
                }
            }
            let i = oracle.first_after(x, t);
            if let Some((_, start, _)) = oracle.contact(x, i) {
                next.push(Reverse((Time(start), x, i)));
            }
        }
        let Some(Reverse((Time(at), x, i))) = next.pop() else {
            return (None, state.handed);
        };
        if at > deadline {
            return (None, state.handed);
        }
        t = at;
        if let Some((_, start, _)) = oracle.contact(x, i + 1) {
            next.push(Reverse((Time(start), x, i + 1)));
        }
        if let Some((y, _, _)) = oracle.contact(x, i)
            && let Some(at) = state.meet(x, y, t, &mut queue)
        {
            return (Some(at), state.handed);
        }
    }
}

/// A time ordered by `total_cmp`, for the heap.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Time(f64);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The state of one message in a [`sweep`].
struct Sweep<'a> {
    /// Budget held by each node; `Some(0)` keeps it for the recipient only.
    held: Vec<Option<u32>>,
    handed: u32,
    person: &'a [bool],
    know: &'a Know,
    to: usize,
}

impl Sweep<'_> {
    /// Holder `x` meets `y` at `t`: the delivery time if `y` is the
    /// recipient; a new holder goes on `queue`.
    fn meet(&mut self, x: usize, y: usize, t: f64, queue: &mut Vec<usize>) -> Option<f64> {
        let budget = self.held[x]?;
        if y == self.to {
            return Some(t);
        }
        if !self.person[y] || self.held[y].is_some() {
            return None;
        }
        if budget > 1 {
            let given = budget / 2;
            self.held[x] = Some(budget - given);
            self.held[y] = Some(given);
        } else if budget == 1 && self.know.level(y, t) > self.know.level(x, t) {
            self.held[x] = Some(0);
            self.held[y] = Some(1);
        } else {
            return None;
        }
        self.handed += 1;
        queue.push(y);
        None
    }
}

fn day_end(t: f64) -> f64 {
    ((t / DAY_S).floor() + 1.0) * DAY_S
}

/// When each dense node knows it meets `recipient`, as sorted, disjoint
/// windows (empty for blind knowledge).
fn windows(oracle: &Oracle, recipient: usize, knowledge: Knowledge) -> Vec<Vec<(f64, f64)>> {
    let n = oracle.len();
    let mut out = vec![Vec::new(); n];
    if knowledge == Knowledge::Blind {
        return out;
    }
    let lasts = |start: f64| match knowledge {
        Knowledge::MetLastDay => start + DAY_S,
        _ => day_end(start),
    };
    for (to, start, _) in oracle.contacts(recipient) {
        out[to].push((start, lasts(start)));
    }
    for w in &mut out {
        merge(w);
    }
    if knowledge == Knowledge::TwoMeetingsToday {
        let first = out.clone();
        for (middle, known) in first.iter().enumerate() {
            for &(from, until) in known {
                for (to, start, end) in oracle.contacts(middle) {
                    let at = start.max(from);
                    if to != recipient && at <= end && at < until {
                        out[to].push((at, until));
                    }
                }
            }
        }
        for w in &mut out {
            merge(w);
        }
    }
    out[recipient].clear();
    out
}

/// Sorts `windows` and joins those that overlap or touch.
fn merge(windows: &mut Vec<(f64, f64)>) {
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut joined: Vec<(f64, f64)> = Vec::with_capacity(windows.len());
    for &(s, e) in windows.iter() {
        match joined.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => joined.push((s, e)),
        }
    }
    *windows = joined;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bound::tests::{direct, scenario};
    use crate::oracle::tests::small_case;
    use crate::scenario::Role;
    use crate::trace::parse;
    use proptest::prelude::*;

    /// 0 writes to 3 at 100. 1 met 3 at 10; 2 met 1 at 20. 0 meets 2 at
    /// 200, 1 at 300; 1 meets 3 again at 400, 2 meets 3 at 500.
    fn case() -> Scenario {
        let trace = parse(
            "10 CONN 1 3 up\n11 CONN 1 3 down\n20 CONN 1 2 up\n21 CONN 1 2 down\n\
             200 CONN 0 2 up\n201 CONN 0 2 down\n300 CONN 0 1 up\n301 CONN 0 1 down\n\
             400 CONN 1 3 up\n401 CONN 1 3 down\n500 CONN 2 3 up\n501 CONN 2 3 down\n",
        )
        .unwrap();
        scenario(
            trace,
            vec![Role::Person; 4],
            vec![direct(100.0, 0, 3, 1000.0)],
        )
    }

    fn run(sc: &Scenario, knowledge: Knowledge) -> IdealEncounter {
        ideal_encounter(sc, &Oracle::new(&sc.trace), 0, knowledge)
    }

    #[test]
    fn each_kind_of_knowledge_hands_copies_only_to_who_knows() {
        let sc = case();
        // Blind with no copies: 0 waits for 3 and never meets it.
        assert_eq!(run(&sc, Knowledge::Blind).figures.delivered, 0);
        // Met today: 2 knows nothing, 1 met 3 at 10, so 1 takes it at 300
        // and delivers at 400.
        let met = run(&sc, Knowledge::MetToday).figures;
        assert_eq!(
            (met.delivered, met.latency_p50_s, met.overhead),
            (1, 300.0, 1.0)
        );
        // Two meetings: 2 met 1 after 1 met 3, so 2 takes it at 200 and
        // gives it to 1 too; 3 gets it at 400 from 1.
        let two = run(&sc, Knowledge::TwoMeetingsToday).figures;
        assert_eq!(
            (two.delivered, two.latency_p50_s, two.overhead),
            (1, 300.0, 2.0)
        );
    }

    #[test]
    fn a_last_copy_climbs_to_who_knows_more() {
        let sc = case();
        let oracle = Oracle::new(&sc.trace);
        let by = |k| gradient(&sc, &oracle, 1, k).figures;
        assert_eq!(by(Knowledge::Blind).delivered, 0);
        // 2 knows nothing at 200; 1 met 3, takes the copy at 300 and
        // delivers at 400.
        let met = by(Knowledge::MetToday);
        assert_eq!(
            (met.delivered, met.latency_p50_s, met.overhead),
            (1, 300.0, 1.0)
        );
        // With two meetings 2 knows something at 200 and takes the copy;
        // 0 keeps it for 3 only and gives 1 nothing at 300; 2 meets 3 at
        // 500. More knowledge is not always sooner under a budget.
        let two = by(Knowledge::TwoMeetingsToday);
        assert_eq!(
            (two.delivered, two.latency_p50_s, two.overhead),
            (1, 400.0, 1.0)
        );
    }

    #[test]
    fn a_new_holder_meets_whom_it_is_with_at_once() {
        // 1 is with 3 from 0 to 1,000; 0 meets 1 at 100.
        let trace =
            parse("0 CONN 1 3 up\n100 CONN 0 1 up\n101 CONN 0 1 down\n1000 CONN 1 3 down\n")
                .unwrap();
        let sc = scenario(
            trace,
            vec![Role::Person; 4],
            vec![direct(50.0, 0, 3, 5000.0)],
        );
        let oracle = Oracle::new(&sc.trace);
        let met = gradient(&sc, &oracle, 1, Knowledge::MetToday).figures;
        assert_eq!((met.delivered, met.latency_p50_s), (1, 50.0));
    }

    #[test]
    fn knowledge_of_today_ends_at_midnight_and_of_a_day_does_not() {
        // 1 met 3 at 86,000, shortly before midnight; 0 writes at 86,500
        // and meets 1 at 86,600; 1 meets 3 at 90,000.
        let trace = parse(
            "86000 CONN 1 3 up\n86001 CONN 1 3 down\n86600 CONN 0 1 up\n86601 CONN 0 1 down\n\
             90000 CONN 1 3 up\n90001 CONN 1 3 down\n",
        )
        .unwrap();
        let sc = scenario(
            trace,
            vec![Role::Person; 4],
            vec![direct(86_500.0, 0, 3, 10_000.0)],
        );
        assert_eq!(run(&sc, Knowledge::MetToday).figures.delivered, 0);
        assert_eq!(run(&sc, Knowledge::MetLastDay).figures.delivered, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Never earlier than the oracle, and more knowledge never delivers
        /// later: blind ⊆ met today ⊆ met in a day, met today ⊆ two meetings.
        #[test]
        fn never_beats_the_oracle_and_knowing_more_never_delays(
            (trace, msgs) in small_case(), copies in 0u32..3
        ) {
            let n = trace.nodes;
            let messages = msgs
                .iter()
                .filter(|m| m.source != m.destination && m.ttl.is_finite())
                .map(|m| direct(m.created_at, m.source, m.destination, m.ttl))
                .collect();
            let sc = scenario(trace, vec![Role::Person; n as usize], messages);
            let oracle = Oracle::new(&sc.trace);
            let by = |k| deliveries_knowing(&sc, &oracle, copies, |o, r| windows(o, r, k));
            let blind = by(Knowledge::Blind);
            let today = by(Knowledge::MetToday);
            let day = by(Knowledge::MetLastDay);
            let two = by(Knowledge::TwoMeetingsToday);
            let no_later = |less: &[crate::bound::Pair], more: &[crate::bound::Pair]| {
                less.iter().zip(more).all(|(a, b)| {
                    a.delivered.is_none_or(|t| b.delivered.is_some_and(|u| u <= t))
                })
            };
            for p in blind.iter().chain(&today).chain(&day).chain(&two) {
                if let Some(t) = p.delivered {
                    prop_assert!(t >= p.oracle.unwrap());
                }
            }
            for k in Knowledge::ALL {
                let g = gradient(&sc, &oracle, copies, k);
                prop_assert!(g.figures.delivered <= g.figures.oracle_delivered);
            }
            prop_assert!(no_later(&blind, &today));
            prop_assert!(no_later(&today, &day));
            prop_assert!(no_later(&today, &two));
        }
    }

    #[test]
    fn merge_joins_overlapping_windows() {
        let mut w = vec![(5.0, 9.0), (1.0, 3.0), (2.0, 4.0), (9.0, 10.0)];
        merge(&mut w);
        assert_eq!(w, vec![(1.0, 4.0), (5.0, 10.0)]);
    }
}
