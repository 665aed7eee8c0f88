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

use super::{BlindSpray, deliveries_knowing, summarise};
use crate::oracle::Oracle;
use crate::scenario::Scenario;
use serde::Serialize;

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
    /// (`bound/gradient.rs`).
    Gradient,
}

/// One row of the ideal encounter router: a budget and a kind of knowledge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdealEncounter {
    /// How copies are spent.
    pub rule: Rule,
    /// What the messages are: `direct`, or `group` (one pair per member).
    pub kind: &'static str,
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
        kind: "direct",
        knowledge,
        figures: summarise(copies, &pairs),
    }
}

fn day_end(t: f64) -> f64 {
    ((t / DAY_S).floor() + 1.0) * DAY_S
}

/// When each dense node knows it meets `recipient`, as sorted, disjoint
/// windows (empty for blind knowledge).
pub(super) fn windows(
    oracle: &Oracle,
    recipient: usize,
    knowledge: Knowledge,
) -> Vec<Vec<(f64, f64)>> {
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
pub(super) fn merge(windows: &mut Vec<(f64, f64)>) {
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
pub(super) mod tests {
    use super::*;
    use crate::bound::tests::{direct, scenario};
    use crate::oracle::tests::small_case;
    use crate::scenario::Role;
    use crate::trace::parse;
    use proptest::prelude::*;

    /// 0 writes to 3 at 100. 1 met 3 at 10; 2 met 1 at 20. 0 meets 2 at
    /// 200, 1 at 300; 1 meets 3 again at 400, 2 meets 3 at 500.
    pub(crate) fn case() -> Scenario {
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
