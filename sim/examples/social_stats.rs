use pollen_sim::{LinkKind, Role, ScenarioParams, by_name};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let people: u32 = a[1].parse().unwrap();
    let hours: f64 = a[2].parse().unwrap();
    let name = a.get(3).map(|s| s.as_str()).unwrap_or("social");
    let t = std::time::Instant::now();
    let s = by_name(
        name,
        &ScenarioParams {
            seed: 1,
            people: Some(people),
            duration_s: Some(hours * 3600.0),
            ..Default::default()
        },
    )
    .unwrap();
    println!("generated in {:.2} s", t.elapsed().as_secs_f64());
    let gw = s.ids_of(Role::Gateway);
    let ble = s.count(LinkKind::Ble);
    let gwc: Vec<_> = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Ble && gw.contains(&c.b))
        .collect();
    let gwp: std::collections::HashSet<u32> = gwc.iter().map(|c| c.a).collect();
    println!(
        "ble {ble}, uplink {}, gateways {}, gateway ble contacts {}, distinct people meeting gateways {}",
        s.count(LinkKind::Uplink),
        gw.len(),
        gwc.len(),
        gwp.len()
    );
    let mut hist = [0usize; 24];
    for c in &s.trace.contacts {
        if c.kind == LinkKind::Ble {
            hist[((c.start / 3600.0) as usize) % 24] += 1;
        }
    }
    println!("contact starts by hour {hist:?}");
    let mean: f64 = s
        .trace
        .contacts
        .iter()
        .map(|c| c.end - c.start)
        .sum::<f64>()
        / s.trace.contacts.len() as f64;
    println!("mean contact {mean:.0} s, messages {}", s.messages.len());
}
