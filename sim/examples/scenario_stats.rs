//! Generates a built-in scenario and prints how long that took and what
//! its contacts look like, without running any node:
//! `cargo run --release -p pollen-sim --example scenario_stats -- social 20000 48`
//! (scenario, people, hours; seed 1).

use std::collections::HashSet;
use std::time::Instant;

use pollen_sim::{LinkKind, Role, ScenarioParams, by_name};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, people, hours] = args.as_slice() else {
        return Err("usage: scenario_stats SCENARIO PEOPLE HOURS".into());
    };
    let params = ScenarioParams {
        seed: 1,
        people: Some(people.parse()?),
        duration_s: Some(hours.parse::<f64>()? * 3600.0),
        ..Default::default()
    };
    let started = Instant::now();
    let s = by_name(name, &params)?;
    println!("generated in {:.2} s", started.elapsed().as_secs_f64());
    let gateways: HashSet<u32> = s.ids_of(Role::Gateway).into_iter().collect();
    let ble: Vec<_> = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Ble)
        .collect();
    let at_gateways: Vec<_> = ble.iter().filter(|c| gateways.contains(&c.b)).collect();
    let met_gateway: HashSet<u32> = at_gateways.iter().map(|c| c.a).collect();
    let mean = ble.iter().map(|c| c.end - c.start).sum::<f64>() / ble.len().max(1) as f64;
    let mut by_hour = [0usize; 24];
    for c in &ble {
        by_hour[(c.start / 3600.0) as usize % 24] += 1;
    }
    println!(
        "{} BLE contacts (mean {mean:.0} s), {} uplink windows, {} gateways",
        ble.len(),
        s.count(LinkKind::Uplink),
        gateways.len()
    );
    println!(
        "{} BLE contacts with gateways, {} people meet one",
        at_gateways.len(),
        met_gateway.len()
    );
    println!("BLE contacts starting in each hour of the day: {by_hour:?}");
    println!("{} messages", s.messages.len());
    Ok(())
}
