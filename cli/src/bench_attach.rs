//! `pollen bench attachments`: a file from one node to a contact over an
//! in-memory link in one sync session: bytes on the link, time to seal, to
//! sync and to save, and the store's bytes per chunk; then the same file
//! over the Bluetooth link model (virtual time, so the figure is the
//! model's, not this machine's).

use crate::CliError;
use pollen_node::node::{Clock, Node, SystemClock};
use pollen_proto::chunk::Preview;
use pollen_proto::sync::pump::{LinkModel, pump, pump_with};
use pollen_proto::sync::{Session, SessionConfig};
use serde_json::json;
use std::time::Instant;

/// What to measure.
#[derive(clap::Args, Debug)]
pub struct Options {
    /// Size of the file in MiB.
    #[arg(long, default_value_t = 5)]
    mib: u32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 10.0)
        .round()
        .max(1.0)
        / 10.0
}

/// Runs the benchmark and prints its figures.
pub fn run(o: Options) -> Result<(), CliError> {
    let dir = tempfile::tempdir().map_err(err)?;
    let mut ana = Node::init(&dir.path().join("ana"), "Ana", Box::new(SystemClock))?;
    let mut chen = Node::init(&dir.path().join("chen"), "Chen", Box::new(SystemClock))?;
    ana.add_contact(&chen.card(), None)?;
    chen.add_contact(&ana.card(), None)?;
    let file: Vec<u8> = (0..o.mib << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let started = Instant::now();
    let (_, reference) = ana.send_file("Chen", &file, Preview::default(), "")?;
    let send_ms = ms(started);
    chen.fetch(&reference)?;
    let now_ms = SystemClock.now_ms();
    let mut a = Session::new(SessionConfig::tcp(true, "tcp:a").routed(), now_ms);
    let mut b = Session::new(SessionConfig::tcp(false, "tcp:b").routed(), now_ms);
    let started = Instant::now();
    let report = pump(
        &mut a,
        &mut ana,
        &mut b,
        &mut chen,
        LinkModel::default(),
        now_ms,
    );
    let session_ms = ms(started);
    if !report.finished {
        return Err(CliError::Other("the session did not finish".into()));
    }
    let progress = chen.attachment_progress(&reference)?;
    if !progress.complete() {
        return Err(CliError::Other(format!(
            "only {}/{} chunks arrived",
            progress.have, progress.need
        )));
    }
    let out = dir.path().join("saved");
    let started = Instant::now();
    chen.save_attachment(&reference, &out)?;
    let save_ms = ms(started);
    let saved = std::fs::read(&out).map_err(err)?;
    if saved != file {
        return Err(CliError::Other("the saved file differs".into()));
    }
    let usage = chen.store().chunk_usage().map_err(err)?;
    let chunks = usage.wanted.0.max(1);
    let link_bytes = report.bytes[0] + report.bytes[1];
    let ble = over_ble(&dir.path().join("ble"), &file)?;
    let figures = json!({
        "file_bytes": file.len(),
        "chunks": usage.wanted.0,
        "link_bytes": link_bytes,
        "link_overhead": link_bytes as f64 / file.len() as f64,
        "stored_bytes_per_chunk": usage.wanted.1 / chunks,
        "send_ms": send_ms,
        "session_ms": session_ms,
        "save_ms": save_ms,
        "ble_model_s": ble.seconds,
        "ble_model_link_bytes": ble.link_bytes,
        "ble_model_text_written_at_s": ble.text_written_s,
        "ble_model_text_latency_s": ble.text_latency_s,
    });
    if o.json {
        return crate::bench_json::emit("attachments", figures);
    }
    println!(
        "{} bytes in {} chunks: {} link bytes ({:.3}x), send {send_ms} ms, session {session_ms} ms, save {save_ms} ms, {} stored bytes per chunk",
        file.len(),
        usage.wanted.0,
        link_bytes,
        link_bytes as f64 / file.len() as f64,
        usage.wanted.1 / chunks
    );
    println!(
        "over the Bluetooth link model: {} s, {} link bytes; a text written at {} s, half-way, arrived {} s later",
        ble.seconds, ble.link_bytes, ble.text_written_s, ble.text_latency_s
    );
    Ok(())
}

/// The Bluetooth model's figures (virtual seconds).
struct OverBle {
    /// Until the session ended.
    seconds: f64,
    /// Bytes on the link, both ways.
    link_bytes: u64,
    /// When the sender wrote a text (half the chunks had crossed).
    text_written_s: f64,
    /// From writing that text to its opening at the recipient.
    text_latency_s: f64,
}

fn secs(ms: u64) -> f64 {
    (ms as f64 / 100.0).round() / 10.0
}

/// The file from a new pair of nodes over the simulator's Bluetooth model
/// (20 KB/s each way, 15 ms one way, 180-byte records), with a text the
/// sender writes once half the chunks have crossed.
fn over_ble(dir: &std::path::Path, file: &[u8]) -> Result<OverBle, CliError> {
    let mut ana = Node::init(&dir.join("ana"), "Ana", Box::new(SystemClock))?;
    let mut chen = Node::init(&dir.join("chen"), "Chen", Box::new(SystemClock))?;
    ana.add_contact(&chen.card(), None)?;
    chen.add_contact(&ana.card(), None)?;
    let (_, reference) = ana.send_file("Chen", file, Preview::default(), "")?;
    chen.fetch(&reference)?;
    let now_ms = SystemClock.now_ms();
    let mut a = Session::new(SessionConfig::small(true, "ble:a", 180).routed(), now_ms);
    let mut b = Session::new(SessionConfig::small(false, "ble:b", 180).routed(), now_ms);
    let model = LinkModel {
        bytes_per_ms: 20,
        latency_ms: 15,
        cut_after: None,
        max_ms: 24 * 3_600_000,
    };
    let half = pollen_proto::chunk::chunk_count(reference.blob_len) as u64 / 2;
    let (mut written, mut arrived, mut opened_before) = (None, None, 0);
    let mut failed = None;
    let report = pump_with(
        &mut a,
        &mut ana,
        &mut b,
        &mut chen,
        model,
        now_ms,
        |now, a, ana: &mut Node, b| {
            if written.is_none() && b.stats().chunks_received >= half.max(1) {
                opened_before = b.stats().opened;
                if let Err(e) = ana.send_direct("Chen", "written half-way") {
                    failed = Some(e);
                }
                a.take_news(ana);
                written = Some(now);
            } else if written.is_some() && arrived.is_none() && b.stats().opened > opened_before {
                arrived = Some(now);
            }
        },
    );
    if let Some(e) = failed {
        return Err(e.into());
    }
    if !report.finished || !chen.attachment_progress(&reference)?.complete() {
        return Err(CliError::Other(
            "the file did not cross the Bluetooth model".into(),
        ));
    }
    let (Some(written), Some(arrived)) = (written, arrived) else {
        return Err(CliError::Other(
            "the text written during the transfer did not arrive in it".into(),
        ));
    };
    Ok(OverBle {
        seconds: secs(report.elapsed_ms),
        link_bytes: report.bytes[0] + report.bytes[1],
        text_written_s: secs(written - now_ms),
        text_latency_s: secs(arrived - written),
    })
}
