//! Hostile phones in the simulator (`pollen_sim::adversary`): each run is
//! compared with its baseline, the same phones behaving honestly, over the
//! same honest pairs.

use pollen_sim::adversary::Adversary;
use pollen_sim::engine::{self, SimConfig};
use pollen_sim::metrics::Report;
use pollen_sim::policy::Policy;
use pollen_sim::scenario::{self, Scenario, ScenarioParams};

/// A festival small enough for a debug build.
fn small(seed: u64) -> Scenario {
    let mut p = ScenarioParams::small("festival", seed).expect("known scenario");
    p.people = p.people.map(|n| n / 2);
    p.messages = Some(60);
    scenario::by_name("festival", &p).expect("scenario builds")
}

/// (baseline, hostile) reports of `policy` under `adversary`.
fn pair(sc: &Scenario, policy: Policy, adversary: &str, cap: Option<u64>) -> (Report, Report) {
    let a: Adversary = adversary.parse().expect("adversary");
    let run = |baseline: bool| {
        let mut cfg = SimConfig::new(policy, 5);
        if let Some(cap) = cap {
            cfg.store_cap_bytes = cap;
        }
        cfg.adversary = Some(a);
        cfg.adversary_baseline = baseline;
        engine::run(sc, &cfg).expect("run").report()
    };
    (run(true), run(false))
}

#[test]
fn a_fifth_of_black_holes_keeps_most_of_the_delivery() {
    let sc = small(5);
    let (honest, hostile) = pair(
        &sc,
        "pollen".parse::<Policy>().unwrap(),
        "black-hole:0.2",
        None,
    );
    assert_eq!(honest.targets, hostile.targets, "the same honest pairs");
    assert!(hostile.hostile > 0 && honest.hostile == hostile.hostile);
    assert!(
        hostile.delivered as f64 >= 0.8 * honest.delivered as f64,
        "{} of {} delivered with black holes",
        hostile.delivered,
        honest.delivered
    );
    assert_eq!(hostile.own_lost, 0);
}

#[test]
fn black_holes_do_drop_what_they_carry() {
    // Half the phones swallowing everything must cost something: this is
    // what shows the adversary acts at all.
    let sc = small(6);
    let (honest, hostile) = pair(
        &sc,
        "pollen".parse::<Policy>().unwrap(),
        "black-hole:0.5",
        None,
    );
    assert!(
        hostile.delivered < honest.delivered,
        "{} vs {}",
        hostile.delivered,
        honest.delivered
    );
}

#[test]
fn a_storage_flood_stays_under_the_cap_and_costs_no_own_message() {
    let sc = small(7);
    let cap = 40_000;
    let (honest, hostile) = pair(
        &sc,
        "pollen".parse::<Policy>().unwrap(),
        "flood:0.02",
        Some(cap),
    );
    assert!(hostile.peak_store_bytes_max <= cap, "{hostile:?}");
    assert!(
        hostile.peak_store_bytes_max > honest.peak_store_bytes_max,
        "the junk reached honest phones: {} vs {}",
        hostile.peak_store_bytes_max,
        honest.peak_store_bytes_max
    );
    assert_eq!(hostile.own_lost, 0);
    assert!(
        hostile.delivered as f64 >= 0.8 * honest.delivered as f64,
        "{} of {} delivered under the flood",
        hostile.delivered,
        honest.delivered
    );
}
