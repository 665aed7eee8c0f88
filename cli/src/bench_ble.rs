//! `pollen bench ble`: the BLE transport on the simulated radio with real
//! nodes: goodput as a share of link capacity, the time two phones that
//! just met need for a batch of messages, and the battery budget of every
//! power mode.

use crate::CliError;
use pollen_node::ble::bench;
use serde_json::json;

/// What to measure.
#[derive(clap::Args, Debug)]
pub struct Options {
    /// ATT MTU of the simulated link.
    #[arg(long, default_value_t = 185)]
    mtu: u16,
    /// Link capacity in GATT value bytes per second.
    #[arg(long, default_value_t = 20_000)]
    bytes_per_s: u64,
    /// Messages (about 2 KB envelopes) moved for the goodput figure.
    #[arg(long, default_value_t = 200)]
    bulk: usize,
    /// Short direct messages two phones sync when they meet.
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Runs the benchmark and prints its figures.
pub fn run(o: Options) -> Result<(), CliError> {
    let dir = tempfile::tempdir().map_err(err)?;
    let large = bench::goodput(&dir.path().join("bulk"), o.mtu, o.bytes_per_s, o.bulk, 1500)
        .map_err(err)?;
    let small =
        bench::goodput(&dir.path().join("small"), o.mtu, o.bytes_per_s, o.bulk, 60).map_err(err)?;
    let meet =
        bench::meeting(&dir.path().join("meet"), o.messages, o.mtu, o.bytes_per_s).map_err(err)?;
    let budgets = bench::budgets();
    if o.json {
        let v = json!({
            "goodput_large": large,
            "goodput_small": small,
            "meeting": meet,
            "duty_cycles": budgets,
        });
        return crate::bench_json::emit("ble", v);
    }
    for g in [&large, &small] {
        println!(
            "goodput, MTU {} at {} B/s: {} envelopes ({} B each) in {} ms = {:.0} B/s, {:.1}% of capacity",
            g.mtu,
            g.capacity_bytes_per_s,
            g.envelopes,
            g.envelope_bytes / g.envelopes.max(1),
            g.elapsed_ms,
            g.goodput_bytes_per_s,
            g.share * 100.0
        );
    }
    println!(
        "two phones meet: {} messages shown after {} ms (link up after {} ms, {} link); a reply written after that sync shown after {} ms",
        meet.messages, meet.ms_to_sync, meet.ms_to_link, meet.links, meet.ms_reply_after_sync
    );
    for b in &budgets {
        println!(
            "duty cycle {}: scan {} ms every {} ms, advertise every {} ms: radio on {:.0} s per hour",
            b.mode, b.scan_on_ms, b.scan_period_ms, b.adv_interval_ms, b.radio_on_s_per_hour
        );
    }
    Ok(())
}
