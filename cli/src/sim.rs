//! `pollen sim`: runs the mesh simulator and prints its figures.

use crate::CliError;
use crate::sim_progress::SimProgress;
use pollen_sim::adversary::Adversary;
use pollen_sim::engine::{self, SimConfig};
use pollen_sim::metrics::{Outcome, Report};
use pollen_sim::policy::{self, Policy};
use pollen_sim::scenario::{self, Scenario, ScenarioParams};
use std::path::PathBuf;

/// Options of `pollen sim`.
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    /// Built-in scenario: festival, village, city (random waypoint) or
    /// social (a city of homes, work, transit and friends, in a blackout).
    #[arg(long, default_value = "festival", conflicts_with = "trace")]
    scenario: String,
    /// Replay a contact trace instead: ONE events (`time CONN a b up|down`)
    /// or a contact list (`a b start end ...`), oddities counted on stderr.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Routing policy: direct, epidemic, spray-and-wait, flood, pollen (blind),
    /// encounter, or all.
    #[arg(long, default_value = "pollen")]
    policy: String,
    /// Copies for spray-and-wait and pollen.
    #[arg(long)]
    copies: Option<u32>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// People (scenario default if absent).
    #[arg(long)]
    people: Option<u32>,
    /// Simulated hours (scenario default if absent).
    #[arg(long)]
    hours: Option<f64>,
    /// Messages in the workload.
    #[arg(long)]
    messages: Option<u32>,
    /// Message size range in bytes, MIN-MAX.
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_range)]
    msg_size: Option<(usize, usize)>,
    /// Message time to live in seconds.
    #[arg(long, value_name = "SECS")]
    ttl: Option<f64>,
    /// Bluetooth range in metres.
    #[arg(long)]
    range: Option<f64>,
    /// Storage cap per phone in megabytes.
    #[arg(long, default_value_t = 50)]
    cap_mb: u64,
    /// Unlimited bandwidth and storage, no drops or set-up delays (what the
    /// oracle assumes, as far as real sessions allow).
    #[arg(long)]
    unlimited: bool,
    /// Hostile phones, KIND:FRACTION (black-hole, grey-hole, flood or liar,
    /// for example black-hole:0.2): each policy runs honest and then with
    /// them, and the figures count honest phones only.
    #[arg(long, value_name = "KIND:FRACTION", conflicts_with = "unlimited")]
    adversary: Option<Adversary>,
    /// This share of messages (0 to 1) carries a 100 KB to 2 MB attachment,
    /// sent and carried as chunks by the node's own code.
    #[arg(long, value_name = "SHARE", value_parser = parse_share)]
    attachments: Option<f64>,
    /// Megabytes of others' attachment chunks each phone carries.
    #[arg(long, default_value_t = 16)]
    chunk_cap_mb: u64,
    /// Print the figures as JSON (one object, or an array for `--policy all`).
    #[arg(long)]
    json: bool,
    /// Write SVG charts (delivery over time, latency CDF, storage) here.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// Instead of running policies, print what the ideal blind spray
    /// delivers with each of these copy budgets (`docs/ROUTING.md`).
    #[arg(long, value_name = "COPIES,..", value_delimiter = ',', conflicts_with_all = ["policy", "plot", "unlimited"])]
    blind_spray: Vec<u32>,
    /// Instead of running policies, print what the ideal encounter router
    /// delivers with each of these copy budgets and each kind of knowledge
    /// of whom people meet (`docs/ROUTING.md`).
    #[arg(long, value_name = "COPIES,..", value_delimiter = ',', conflicts_with_all = ["policy", "plot", "unlimited", "blind_spray"])]
    ideal_encounter: Vec<u32>,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a share between 0 and 1")),
    }
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("expected MIN-MAX, got {s:?}"))?;
    let a: usize = a.trim().parse().map_err(|_| format!("bad minimum {a:?}"))?;
    let b: usize = b.trim().parse().map_err(|_| format!("bad maximum {b:?}"))?;
    if a == 0 || a > b || b > 4000 {
        return Err("need 1 <= MIN <= MAX <= 4000".into());
    }
    Ok((a, b))
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Builds the scenario the arguments describe.
fn scenario(args: &SimArgs) -> Result<Scenario, CliError> {
    let params = ScenarioParams {
        seed: args.seed,
        people: args.people,
        duration_s: args.hours.map(|h| h * 3600.0),
        messages: args.messages,
        ttl_s: args.ttl,
        msg_size: args.msg_size,
        ble_range_m: args.range,
        ..ScenarioParams::default()
    };
    match &args.trace {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
            let (trace, stats) =
                pollen_sim::read(&text).map_err(|e| err(format!("{}: {e}", path.display())))?;
            // On stderr, so that `--json` output stays one document.
            eprintln!("{}: {stats}", path.display());
            scenario::from_trace(trace, &params).map_err(err)
        }
        None => scenario::by_name(&args.scenario, &params).map_err(err),
    }
}

/// Runs `pollen sim`.
pub fn run(args: SimArgs) -> Result<(), CliError> {
    let policies: Vec<Policy> = if args.policy == "all" {
        policy::ALL.to_vec()
    } else {
        vec![args.policy.parse::<Policy>().map_err(err)?]
    };
    let policies: Vec<Policy> = policies
        .into_iter()
        .map(|p| match args.copies {
            Some(c) if c > 0 => p.with_copies(c),
            _ => p,
        })
        .collect();
    let sc = scenario(&args)?;
    if !args.blind_spray.is_empty() {
        return blind_spray(&sc, &args);
    }
    if !args.ideal_encounter.is_empty() {
        return ideal_encounter(&sc, &args);
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    // With an adversary, each policy runs first with the same phones honest.
    let settings: Vec<(Option<Adversary>, bool)> = match args.adversary {
        Some(a) => vec![(Some(a), true), (Some(a), false)],
        None => vec![(None, false)],
    };
    for (p, (adversary, baseline)) in policies
        .into_iter()
        .flat_map(|p| settings.iter().map(move |a| (p, *a)))
    {
        let mut cfg = if args.unlimited {
            SimConfig::unlimited(p, args.seed)
        } else {
            SimConfig::new(p, args.seed)
        };
        if !args.unlimited {
            cfg.store_cap_bytes = args.cap_mb.max(1) * 1_000_000;
        }
        cfg.adversary = adversary;
        cfg.adversary_baseline = baseline;
        cfg.attachments = args.attachments.map(engine::AttachmentLoad::new);
        cfg.chunk_cap_bytes = args.chunk_cap_mb.max(1) << 20;
        let bar = SimProgress::new(p.name(), sc.duration, args.json);
        if !args.json && !bar.shown() {
            eprintln!("running {} on {} ...", p.name(), sc.name);
        }
        let outcome = engine::run_with_progress(&sc, &cfg, &mut |at| bar.update(at));
        bar.finish();
        outcomes.push(outcome.map_err(err)?);
    }
    let reports: Vec<Report> = outcomes.iter().map(Outcome::report).collect();
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        let files = pollen_sim::plot::write_plots(dir, &plot_data(&outcomes)).map_err(err)?;
        if !args.json {
            for f in files {
                println!("wrote {}", f.display());
            }
        }
    }
    if args.json {
        let text = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])
        } else {
            serde_json::to_string_pretty(&reports)
        }
        .map_err(err)?;
        println!("{text}");
    } else {
        print_table(&reports);
    }
    Ok(())
}

/// Prints the ideal blind spray's figures for each budget asked for.
fn blind_spray(sc: &Scenario, args: &SimArgs) -> Result<(), CliError> {
    let oracle = pollen_sim::Oracle::new(&sc.trace);
    let rows: Vec<pollen_sim::bound::BlindSpray> = args
        .blind_spray
        .iter()
        .map(|&c| pollen_sim::bound::blind_spray(sc, &oracle, c))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(err)?);
        return Ok(());
    }
    println!("ideal blind spray on {} (seed {})", sc.name, args.seed);
    println!("copies  delivered  oracle  share  p50 s  overhead");
    for r in rows {
        println!(
            "{:>6}  {:>9}  {:>6}  {:>5.3}  {:>5.0}  {:>8.2}",
            r.copies,
            r.delivered,
            r.oracle_delivered,
            r.share_of_oracle,
            r.latency_p50_s,
            r.overhead
        );
    }
    Ok(())
}

/// Prints the ideal encounter router's figures for each budget and kind of
/// knowledge.
fn ideal_encounter(sc: &Scenario, args: &SimArgs) -> Result<(), CliError> {
    use pollen_sim::bound::encounter::{Knowledge, ideal_encounter};
    use pollen_sim::bound::gradient::{gradient, gradient_groups};
    let oracle = pollen_sim::Oracle::new(&sc.trace);
    let rows: Vec<_> = args
        .ideal_encounter
        .iter()
        .flat_map(|&c| Knowledge::ALL.map(|k| (c, k)))
        .flat_map(|(c, k)| {
            [
                ideal_encounter(sc, &oracle, c, k),
                gradient(sc, &oracle, c, k),
                gradient_groups(sc, &oracle, c, k),
            ]
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(err)?);
        return Ok(());
    }
    println!("ideal encounter router on {} (seed {})", sc.name, args.seed);
    println!(
        "copies  rule       kind    knowledge           delivered  oracle  share  p50 s  overhead"
    );
    for r in rows {
        let f = &r.figures;
        let (rule, knowledge) = (format!("{:?}", r.rule), format!("{:?}", r.knowledge));
        println!(
            "{:>6}  {rule:<9}  {:<6}  {knowledge:<18}  {:>9}  {:>6}  {:>5.3}  {:>5.0}  {:>8.2}",
            f.copies,
            r.kind,
            f.delivered,
            f.oracle_delivered,
            f.share_of_oracle,
            f.latency_p50_s,
            f.overhead
        );
    }
    Ok(())
}

fn plot_data(outcomes: &[Outcome]) -> pollen_sim::plot::PlotData {
    use pollen_sim::plot::{PlotData, Series};
    let mut delivery = Vec::new();
    let mut latency = Vec::new();
    let mut storage = Vec::new();
    let cdf = |lat: &[f64], total: usize| -> Vec<(f64, f64)> {
        let total = total.max(1) as f64;
        lat.iter()
            .enumerate()
            .map(|(i, l)| (l / 60.0, (i + 1) as f64 / total))
            .collect()
    };
    if let Some(first) = outcomes.first() {
        delivery.push(Series {
            name: "oracle".into(),
            points: first.delivery_curve(true),
        });
        latency.push(Series {
            name: "oracle".into(),
            points: cdf(&first.oracle_latencies(), first.targets.len()),
        });
    }
    for o in outcomes {
        let name = o.config.policy.name().to_owned();
        delivery.push(Series {
            name: name.clone(),
            points: o.delivery_curve(false),
        });
        latency.push(Series {
            name: name.clone(),
            points: cdf(&o.latencies(), o.targets.len()),
        });
        storage.push(Series {
            name,
            points: o
                .storage
                .iter()
                .map(|&(t, b)| (t / 3600.0, b / 1e6))
                .collect(),
        });
    }
    PlotData {
        scenario: outcomes
            .first()
            .map(|o| o.scenario.clone())
            .unwrap_or_default(),
        delivery,
        latency_cdf: latency,
        storage,
    }
}

fn print_table(reports: &[Report]) {
    println!(
        "{:<15} {:>9} {:>9} {:>8} {:>9} {:>9} {:>10} {:>9} {:>9} {:>8}",
        "policy",
        "delivered",
        "oracle",
        "share",
        "p50 s",
        "oracle p50",
        "overhead",
        "peak MB",
        "uplink",
        "wall s"
    );
    let mut honest = None;
    for r in reports {
        let label = match r.adversary.as_deref() {
            Some("honest") | None => r.policy.clone(),
            Some(a) => format!("  +{a}"),
        };
        println!(
            "{:<15} {:>9.3} {:>9.3} {:>8.3} {:>9.0} {:>9.0} {:>10.2} {:>9.2} {:>9.3} {:>8.1}",
            label,
            r.delivery_ratio,
            r.oracle_delivery_ratio,
            r.share_of_oracle,
            r.latency_p50_s,
            r.oracle_latency_p50_s,
            r.overhead,
            r.peak_store_bytes_max as f64 / 1e6,
            r.uplink_delivery_ratio,
            r.wall_s
        );
        match (r.adversary.as_deref(), honest) {
            (Some("honest") | None, _) => honest = Some(r.delivery_ratio),
            (Some(_), Some(h)) => println!(
                "{:<15} delivery {:.3} of the honest run, {} hostile phones, own lost {}",
                "",
                if h > 0.0 { r.delivery_ratio / h } else { 0.0 },
                r.hostile,
                r.own_lost
            ),
            _ => {}
        }
        if let Some(a) = &r.attachments {
            println!(
                "{:<15} attachments: {} sent; {} of {} delivered direct ones whole at the recipient; {} chunk copies ({:.1} MB) moved",
                "",
                a.sent,
                a.direct_complete,
                a.direct_delivered,
                a.chunk_transmissions,
                a.chunk_bytes as f64 / 1e6
            );
        }
    }
}
