//! Prints, for each built-in scenario at its defaults (or at the size given
//! as `people hours`), the contact counts, mean contact length, workload
//! size and generation time.
//!
//! `cargo run --release -p pollen-sim --example scenario_stats [people hours]`

use std::time::Instant;

use pollen_sim::scenario::{NAMES, Scenario, ScenarioParams, by_name};
use pollen_sim::{LinkKind, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let people = args.first().map(|a| a.parse()).transpose()?;
    let hours: Option<f64> = args.get(1).map(|a| a.parse()).transpose()?;
    let params = ScenarioParams {
        seed: 1,
        people,
        duration_s: hours.map(|h| h * 3600.0),
        ..Default::default()
    };
    for name in NAMES {
        let t0 = Instant::now();
        let s = by_name(name, &params)?;
        report(&s, t0.elapsed().as_secs_f64());
    }
    Ok(())
}

fn report(s: &Scenario, secs: f64) {
    let persons = s.roles.iter().filter(|r| **r == Role::Person).count();
    println!(
        "{}: {} people, {} nodes, {:.1} h, generated in {:.2} s",
        s.name,
        persons,
        s.roles.len(),
        s.duration / 3600.0,
        secs
    );
    for kind in [LinkKind::Ble, LinkKind::Lan, LinkKind::Uplink] {
        let lengths: Vec<f64> = s
            .trace
            .contacts
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.end - c.start)
            .collect();
        if lengths.is_empty() {
            continue;
        }
        let mut sorted = lengths.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "  {kind:?}: {} contacts, mean {:.0} s, median {:.0} s, {:.1} per person",
            lengths.len(),
            lengths.iter().sum::<f64>() / lengths.len() as f64,
            sorted[sorted.len() / 2],
            2.0 * lengths.len() as f64 / persons as f64
        );
    }
    println!(
        "  {} messages, {} groups, channel of {}",
        s.messages.len(),
        s.groups.len(),
        s.channel.len()
    );
}
