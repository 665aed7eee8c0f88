//! `pollen sim` as a user runs it: figures as JSON, charts on request, the
//! same JSON for the same seed, and one clear line for every wrong argument.

use pollen_tests::pollen_bin;
use serde_json::Value;
use std::process::Command;

fn sim(args: &[&str]) -> std::process::Output {
    Command::new(pollen_bin())
        .arg("sim")
        .args(args)
        .output()
        .expect("run pollen sim")
}

const SMALL: &[&str] = &["--people", "30", "--hours", "0.5", "--messages", "12"];

#[test]
fn prints_the_figures_and_draws_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let mut args = SMALL.to_vec();
    args.extend([
        "--policy",
        "all",
        "--json",
        "--plot",
        plots.to_str().unwrap(),
    ]);
    let out = sim(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = reports
        .iter()
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "direct",
            "epidemic",
            "spray-and-wait",
            "flood",
            "pollen",
            "encounter"
        ]
    );
    for r in &reports {
        for key in [
            "messages",
            "delivered",
            "delivery_ratio",
            "oracle_delivery_ratio",
            "latency_p50_s",
            "latency_p90_s",
            "oracle_latency_p50_s",
            "overhead",
            "bytes_per_delivered_byte",
            "bytes_per_envelope_byte",
            "peak_store_bytes_max",
            "uplink_delivery_ratio",
            "wall_s",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["earlier_than_oracle"], 0);
        assert!(r["delivered"].as_u64() <= r["oracle_delivered"].as_u64());
        // The links carry every envelope handed over, and sessions around them.
        if r["transmissions"].as_u64() > Some(0) {
            assert!(r["bytes_per_envelope_byte"].as_f64() > Some(1.0), "{r}");
        }
    }
    for chart in ["delivery", "latency", "storage"] {
        let svg = std::fs::read_to_string(plots.join(format!("festival-{chart}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("pollen"), "{chart}");
    }
}

#[test]
fn the_social_city_runs_every_policy() {
    let out = sim(&[
        "--scenario",
        "social",
        "--people",
        "30",
        "--hours",
        "9",
        "--messages",
        "10",
        "--policy",
        "all",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports.len(), 6);
    for r in &reports {
        assert_eq!(r["scenario"], "social");
        assert_eq!(r["messages"], 10);
        assert_eq!(r["earlier_than_oracle"], 0);
        assert_eq!(r["own_lost"], 0);
    }
}

#[test]
fn same_seed_same_json() {
    let strip = |out: std::process::Output| {
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("wall_s");
        v
    };
    let mut args = SMALL.to_vec();
    args.extend(["--scenario", "city", "--json", "--seed", "11"]);
    assert_eq!(strip(sim(&args)), strip(sim(&args)));
}

#[test]
fn the_ideal_blind_spray_buys_delivery_with_copies_and_never_beats_the_oracle() {
    let mut args = SMALL.to_vec();
    args.extend(["--scenario", "city", "--blind-spray", "0,4,1000", "--json"]);
    let out = sim(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let delivered: Vec<u64> = rows
        .iter()
        .map(|r| r["delivered"].as_u64().unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(delivered.windows(2).all(|w| w[0] <= w[1]), "{delivered:?}");
    for r in &rows {
        assert!(
            r["delivered"].as_u64() <= r["oracle_delivered"].as_u64(),
            "{r}"
        );
    }
    let out = sim(&["--blind-spray", "4", "--policy", "pollen"]);
    assert!(
        !out.status.success(),
        "a policy with --blind-spray was accepted"
    );
}

#[test]
fn the_ideal_encounter_router_reports_every_rule_and_kind_of_knowledge() {
    let args = [
        "--scenario",
        "social",
        "--people",
        "100",
        "--hours",
        "24",
        "--messages",
        "100",
        "--ideal-encounter",
        "1,16",
        "--json",
    ];
    let out = sim(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Two budgets, four kinds of knowledge; unlimited (direct), gradient
    // (direct and group).
    assert_eq!(rows.len(), 24);
    let find = |copies: u64, rule: &str, knowledge: &str| -> u64 {
        let (rule, kind) = rule.split_once('/').unwrap_or((rule, "direct"));
        let r = rows
            .iter()
            .find(|r| {
                r["copies"] == copies
                    && r["rule"] == rule
                    && r["kind"] == kind
                    && r["knowledge"] == knowledge
            })
            .unwrap_or_else(|| panic!("no row {copies} {rule} {knowledge}"));
        assert!(
            r["delivered"].as_u64() <= r["oracle_delivered"].as_u64(),
            "{r}"
        );
        r["delivered"].as_u64().unwrap()
    };
    for copies in [1, 16] {
        // Copies for everyone who knows never deliver less than without.
        let blind = find(copies, "unlimited", "blind");
        let met = find(copies, "unlimited", "met_today");
        assert!(blind <= met && met <= find(copies, "unlimited", "two_meetings_today"));
        assert!(met <= find(copies, "unlimited", "met_last_day"));
        assert!(find(copies, "gradient", "met_today") > 0);
        assert!(find(copies, "gradient/group", "met_today") > 0);
    }
    let out = sim(&["--ideal-encounter", "4", "--blind-spray", "4"]);
    assert!(!out.status.success(), "both bounds at once were accepted");
}

#[test]
fn wrong_arguments_are_one_clear_line() {
    for (args, says) in [
        (&["--policy", "best"][..], "unknown policy"),
        (&["--scenario", "moon"][..], "unknown scenario"),
        (&["--msg-size", "300-20"][..], "MIN <= MAX"),
        (&["--trace", "/nonexistent/trace.txt"][..], "cannot read"),
        (&["--people", "0"][..], "people"),
        (&["--blind-spray", "four"][..], "invalid value"),
        (&["--ideal-encounter", "x"][..], "invalid value"),
    ] {
        let out = sim(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn replays_a_trace_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.txt");
    std::fs::write(
        &path,
        "0 CONN 0 1 up\n300 CONN 0 1 down\n400 CONN 1 2 up\n900 CONN 1 2 down\n",
    )
    .unwrap();
    let out = sim(&[
        "--trace",
        path.to_str().unwrap(),
        "--messages",
        "5",
        "--policy",
        "epidemic",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["scenario"], "trace");
    assert_eq!(r["messages"], 5);
    // An untidy trace is read, and what was odd is said on stderr.
    std::fs::write(
        &path,
        "5 CONN 1 2 up\n0 CONN 0 1 up\n1 CONN 0 1 up\n2 CONN 3 4 down\n300 CONN 0 1 down\n",
    )
    .unwrap();
    let out = sim(&["--trace", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for says in [
        "1 unsorted",
        "1 overlapping ups",
        "1 downs without up",
        "2 open at the end",
    ] {
        assert!(err.contains(says), "{says}: {err}");
    }
    let _: Value = serde_json::from_slice(&out.stdout).unwrap();
    // A malformed line is named by number.
    std::fs::write(&path, "0 CONN 0 1 up\nbanana\n").unwrap();
    let out = sim(&["--trace", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}
