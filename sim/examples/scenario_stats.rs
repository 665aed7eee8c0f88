//! Prints, for each built-in scenario at its defaults (or at the size given
//! as `people hours`, `-` for a default), the contact counts, mean contact
//! length, workload size and generation time; `range min_contact` (metres,
//! seconds) override the radio model too.
//!
//! `cargo run --release -p pollen-sim --example scenario_stats [people hours [range min_contact]]`
//! or `… scenario_stats small` for the small test variants; a scenario's
//! name first (`… scenario_stats social 20000 48`) prints that one only.

use std::time::Instant;

use pollen_sim::scenario::{NAMES, Scenario, ScenarioParams, by_name};
use pollen_sim::{LinkKind, Message, Oracle, Role, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let only = args
        .first()
        .filter(|a| NAMES.contains(&a.as_str()))
        .cloned();
    if only.is_some() {
        args.remove(0);
    }
    let arg = |i: usize| args.get(i).filter(|a| *a != "-" && *a != "small");
    let people = arg(0).map(|a| a.parse()).transpose()?;
    let hours: Option<f64> = arg(1).map(|a| a.parse()).transpose()?;
    let params = ScenarioParams {
        seed: 1,
        people,
        duration_s: hours.map(|h| h * 3600.0),
        ble_range_m: arg(2).map(|a| a.parse()).transpose()?,
        min_contact_s: arg(3).map(|a| a.parse()).transpose()?,
        ..Default::default()
    };
    for name in NAMES {
        if only.as_ref().is_some_and(|o| o != name) {
            continue;
        }
        let params = if args.first().is_some_and(|a| a == "small") {
            ScenarioParams::small(name, 1)?
        } else {
            params
        };
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
    let gateways = s.ids_of(Role::Gateway);
    let with_gateway = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Ble && (gateways.contains(&c.a) || gateways.contains(&c.b)))
        .count();
    println!(
        "  {} gateways with {} BLE contacts between them",
        gateways.len(),
        with_gateway
    );
    println!(
        "  {} messages, {} groups, channel of {}",
        s.messages.len(),
        s.groups.len(),
        s.channel.len()
    );
    // The oracle on a sample of direct messages: what any policy could
    // reach at best.
    let oracle = Oracle::new(&s.trace);
    let direct: Vec<Message> = s
        .messages
        .iter()
        .filter_map(|m| match m.to {
            Target::Direct(to) => Some(Message {
                source: m.from,
                destination: to,
                created_at: m.at,
                ttl: m.ttl,
            }),
            _ => None,
        })
        .step_by(5)
        .take(200)
        .collect();
    let latencies: Vec<f64> = direct
        .iter()
        .filter_map(|m| oracle.earliest_delivery(m).map(|t| t - m.created_at))
        .collect();
    if !direct.is_empty() {
        let mut sorted = latencies.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "  oracle: {:.0} % of {} sampled direct messages deliverable, median latency {:.0} min",
            100.0 * latencies.len() as f64 / direct.len() as f64,
            direct.len(),
            sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN) / 60.0
        );
    }
}
