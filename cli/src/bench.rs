//! Benchmarks that print figures (JSON with `--json`); targets are checked by
//! reading these numbers, never by timed tests.

use crate::CliError;
use crate::bench_payloads::payloads;
use clap::Subcommand;
use pollen_node::node::{DEFAULT_TTL_SECS, Node, SystemClock};
use pollen_node::routing;
use pollen_proto::envelope::{self, Draft, Envelope, EnvelopeId, Recipient};
use pollen_proto::identity::Identity;
use pollen_proto::sync::recon;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Benchmark subcommands.
#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Seal, open and ingest direct envelopes.
    Envelopes {
        /// Envelopes per phase.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sync this many fresh envelopes from one node to another over loopback
    /// TCP (the receiver is a separate `pollen serve` process).
    Sync {
        /// Envelopes to transfer.
        #[arg(long, default_value_t = 100_000)]
        envelopes: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cold start: first page of the conversation list and newest conversation
    /// of a store holding this many messages across 50 conversations.
    Open {
        /// Messages in the store.
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set reconciliation between two neighbours: bytes and round trips.
    Recon {
        /// Envelope ids both sides hold.
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Ids only one side holds, on each side (the newest).
        #[arg(long, default_value_t = 0)]
        diff: usize,
        /// Count link framing for records of at most this many bytes.
        #[arg(long, value_parser = clap::value_parser!(u16).range(MIN_FRAME as i64..))]
        frame: Option<u16>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load on a real `pollen relay` child over loopback: concurrent client
    /// upload and download throughput, relay memory per idle session, and
    /// the latency of gateway uploads of 1,000 envelopes.
    Relay(crate::bench_relay::Options),
    /// BLE on the simulated radio with real nodes: goodput as a share of
    /// link capacity, two phones meeting, and the duty cycles' radio time.
    Ble(crate::bench_ble::Options),
    /// Hostile load on one node: carried envelopes from a million origins
    /// never seen, proofs that match nothing, BLE fragments that never
    /// complete, handshakes from a million addresses; memory and store size
    /// against the configured limits.
    Ceiling(crate::bench_ceiling::Options),
    /// A file to a contact in one in-memory sync session: link bytes, time
    /// to seal, sync and save, store bytes per chunk.
    Attachments(crate::bench_attach::Options),
}

fn now() -> u64 {
    pollen_node::node::Clock::now(&SystemClock)
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Seals each payload from `author` to `to`.
#[inline(never)]
fn seal_all(
    author: &Identity,
    to: &Identity,
    payloads: &[Vec<u8>],
) -> Result<Vec<Envelope>, CliError> {
    let t = now();
    let recipient = to.public();
    payloads
        .iter()
        .map(|payload| {
            let sealed = envelope::seal(
                author,
                &Draft {
                    to: Recipient::Direct(&recipient),
                    payload,
                    sent_at: t,
                    expires_at: t + DEFAULT_TTL_SECS,
                    hops: 12,
                },
            )?;
            Ok(sealed.envelope)
        })
        .collect()
}

/// Builds and seals `count` message envelopes from `author` to `to`.
fn seal_messages(
    author: &Identity,
    to: &Identity,
    count: usize,
) -> Result<Vec<Envelope>, CliError> {
    seal_all(author, to, &payloads(author, count)?)
}

fn per_s(n: usize, since: Instant) -> f64 {
    let s = since.elapsed().as_secs_f64();
    if s > 0.0 {
        (n as f64 / s).round()
    } else {
        f64::INFINITY
    }
}

/// Runs a benchmark.
pub fn run(cmd: BenchCmd) -> Result<(), CliError> {
    match cmd {
        BenchCmd::Envelopes { count, json } => envelopes(count, json),
        BenchCmd::Open { messages, json } => open(messages, json),
        BenchCmd::Sync { envelopes, json } => sync(envelopes, json),
        BenchCmd::Recon {
            items,
            diff,
            frame,
            json,
        } => recon_bench(items, diff, frame.map(usize::from), json),
        BenchCmd::Relay(options) => crate::bench_relay::run(options),
        BenchCmd::Ble(options) => crate::bench_ble::run(options),
        BenchCmd::Attachments(options) => crate::bench_attach::run(options),
        BenchCmd::Ceiling(options) => crate::bench_ceiling::run(options),
    }
}

/// Smallest link record (a BLE write).
const MIN_FRAME: usize = pollen_proto::sync::frame::MIN_RECORD;

fn recon_bench(
    items: usize,
    diff: usize,
    frame: Option<usize>,
    json: bool,
) -> Result<(), CliError> {
    let report = match frame {
        Some(record) => recon::bench(items, diff, |len| {
            pollen_proto::sync::frame::wire_cost(len, record)
        }),
        None => recon::bench(items, diff, |len| len),
    }
    .map_err(err)?;
    if json {
        // A struct, not `json!`, so the keys print in this order.
        #[derive(serde::Serialize)]
        struct Out {
            items: usize,
            diff: usize,
            frame: Option<usize>,
            bytes_total: usize,
            round_trips: u32,
            messages: u32,
        }
        let out = Out {
            items,
            diff,
            frame,
            bytes_total: report.bytes_total,
            round_trips: report.round_trips,
            messages: report.messages,
        };
        crate::bench_json::emit("recon", &out)?;
    } else {
        let link = frame.map_or("unframed".to_string(), |r| format!("{r}-byte records"));
        println!(
            "{items} shared + {diff} different ids each side ({link}): {} bytes in {} round trips, {} messages",
            report.bytes_total, report.round_trips, report.messages
        );
    }
    Ok(())
}

fn envelopes(count: usize, json: bool) -> Result<(), CliError> {
    let a = Identity::generate("bench-author")?;
    let dir = tempfile::tempdir().map_err(err)?;
    let recipient = Node::init(
        &dir.path().join("recipient"),
        "recipient",
        Box::new(SystemClock),
    )?;
    let messages = payloads(&a, count)?;
    let t0 = Instant::now();
    let envs = seal_all(&a, recipient.identity(), &messages)?;
    let seal_per_s = per_s(count, t0);
    let t1 = Instant::now();
    open_all(recipient.identity(), &envs)?;
    let open_per_s = per_s(count, t1);
    let items: Vec<(Vec<u8>, Option<EnvelopeId>)> =
        envs.iter().map(|e| (e.encode(), Some(e.id()))).collect();
    // A carrier stores them for someone else: decode, checks, one insert each.
    let carrier = Node::init(
        &dir.path().join("carrier"),
        "carrier",
        Box::new(SystemClock),
    )?;
    let t2 = Instant::now();
    ingest_carried(&carrier, &items)?;
    let ingest_per_s = per_s(count, t2);
    // A running node copies the WAL into the database once no session
    // runs; its cost, and the rate with it, are reported beside.
    let t_ck = Instant::now();
    let checkpoint = carrier.checkpoint()?;
    let checkpoint_ms = t_ck.elapsed().as_secs_f64() * 1e3;
    let ingest_checkpointed_per_s = per_s(count, t2);
    let stored = carrier.status()?.envelopes_stored;
    if stored != count as u64 {
        return Err(CliError::Other(format!(
            "ingest stored {stored} of {count} envelopes"
        )));
    }
    // The recipient opens them: unseal, verify, apply to the conversation,
    // project the message, keep the delivery proof.
    let t3 = Instant::now();
    ingest_opened(&recipient, &items)?;
    let ingest_opened_per_s = per_s(count, t3);
    let shown = recipient.status()?.messages;
    if shown != count as u64 {
        return Err(CliError::Other(format!(
            "the recipient shows {shown} of {count} messages"
        )));
    }
    let avg = items.iter().map(|(b, _)| b.len()).sum::<usize>() / count.max(1);
    if json {
        crate::bench_json::emit(
            "envelopes",
            json!({"count": count, "envelope_bytes": avg, "seal_per_s": seal_per_s, "open_per_s": open_per_s, "ingest_per_s": ingest_per_s, "ingest_opened_per_s": ingest_opened_per_s, "checkpoint_ms": (checkpoint_ms * 1000.0).round() / 1000.0, "checkpoint_pages": checkpoint.copied, "ingest_checkpointed_per_s": ingest_checkpointed_per_s}),
        )?;
    } else {
        println!(
            "{count} envelopes of {avg} bytes: seal {seal_per_s}/s, open {open_per_s}/s, ingest {ingest_per_s}/s carried ({ingest_checkpointed_per_s}/s with the idle checkpoint after it: {} pages in {checkpoint_ms:.1} ms), {ingest_opened_per_s}/s opened",
            checkpoint.copied
        );
    }
    Ok(())
}

/// Envelopes per ingest call (one transaction), as a sync session commits.
const INGEST_BATCH: usize = 1000;

// The phases are functions of their own, never inlined, so that
// `scripts/callgrind.sh` can read each one's instruction count.

/// Opens every envelope as its recipient.
#[inline(never)]
fn open_all(recipient: &Identity, envs: &[Envelope]) -> Result<(), CliError> {
    for e in envs {
        envelope::open_direct(recipient, e)?;
    }
    Ok(())
}

/// A carrier takes envelopes addressed to someone else.
#[inline(never)]
fn ingest_carried(node: &Node, items: &[(Vec<u8>, Option<EnvelopeId>)]) -> Result<(), CliError> {
    // (Its own origin name also keeps the linker from folding the two
    // ingest phases into one function.)
    for chunk in items.chunks(INGEST_BATCH) {
        node.ingest_envelopes(chunk, "bench-carried")?;
    }
    Ok(())
}

/// The recipient takes envelopes addressed to it.
#[inline(never)]
fn ingest_opened(node: &Node, items: &[(Vec<u8>, Option<EnvelopeId>)]) -> Result<(), CliError> {
    for chunk in items.chunks(INGEST_BATCH) {
        node.ingest_envelopes(chunk, "bench-opened")?;
    }
    Ok(())
}

fn open(messages: usize, json: bool) -> Result<(), CliError> {
    const CONVERSATIONS: usize = 50;
    let dir = tempfile::tempdir().map_err(err)?;
    let me_dir = dir.path().join("me");
    let me = Node::init(&me_dir, "me", Box::new(SystemClock))?;
    let t0 = Instant::now();
    for c in 0..CONVERSATIONS {
        let sender = Identity::generate(&format!("sender-{c:02}"))?;
        me.add_contact(&sender.card().encode(), None)?;
        let n = messages / CONVERSATIONS + usize::from(c < messages % CONVERSATIONS);
        let envs = seal_messages(&sender, me.identity(), n)?;
        let items: Vec<(Vec<u8>, Option<EnvelopeId>)> =
            envs.iter().map(|e| (e.encode(), None)).collect();
        for chunk in items.chunks(2000) {
            me.ingest_envelopes(chunk, "bench")?;
        }
    }
    let populate_s = t0.elapsed().as_secs_f64();
    let count = me.status()?.messages;
    drop(me);
    let exe = std::env::current_exe().map_err(err)?;
    let start = Instant::now();
    let mut child = Command::new(exe)
        .arg("bench-probe")
        .arg(&me_dir)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(err)?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line).map_err(err)?;
    }
    let first_page_ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = child.wait().map_err(err)?;
    if !status.success() {
        return Err(CliError::Other("cold-start probe failed".into()));
    }
    let probe: serde_json::Value = serde_json::from_str(line.trim()).map_err(err)?;
    let out = json!({
        "messages": count,
        "conversations": CONVERSATIONS,
        "first_page_ms": (first_page_ms * 10.0).round() / 10.0,
        "in_process_ms": probe["in_process_ms"],
        "rss_mb": probe["rss_mb"],
        "first_page_rows": probe["rows"],
        "populate_s": (populate_s * 10.0).round() / 10.0,
    });
    if json {
        crate::bench_json::emit("open", &out)?;
    } else {
        println!(
            "{count} messages: first page in {first_page_ms:.1} ms from process start, peak RSS {} MB (store built in {populate_s:.1} s)",
            probe["rss_mb"]
        );
    }
    Ok(())
}

/// The child side of `bench open`: open the store, read the first pages,
/// report time since process start and peak memory.
pub fn probe(dir: &Path, started: Instant) -> Result<(), CliError> {
    let node = Node::open(dir, Box::new(SystemClock))?;
    let list = node.conversations(50)?;
    let newest = list
        .first()
        .ok_or_else(|| CliError::Other("store has no conversations".into()))?;
    let page = node.messages(Some(&newest.name), 50, None)?;
    let in_process_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({"in_process_ms": (in_process_ms * 10.0).round() / 10.0, "rss_mb": peak_rss_mb(), "rows": list.len() + page.len()})
    );
    Ok(())
}

/// Peak resident set size of this process (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn sync(count: usize, json: bool) -> Result<(), CliError> {
    let dir = tempfile::tempdir().map_err(err)?;
    let author = Identity::generate("bench-author")?;
    let nobody = Identity::generate("bench-recipient")?;
    let mut sender = Node::init(&dir.path().join("sender"), "sender", Box::new(SystemClock))?;
    // Room for the whole transfer on both sides (the defaults suit a phone).
    let budget_mb = ((count as u64 * 2048) >> 20) + 64;
    sender.set_limits(pollen_node::store::StoreLimits {
        global_bytes: budget_mb << 20,
        per_origin_bytes: budget_mb << 20,
    });
    let receiver_dir = dir.path().join("receiver");
    drop(Node::init(
        &receiver_dir,
        "receiver",
        Box::new(SystemClock),
    )?);
    // The sender carries `count` envelopes for someone else, each with a
    // fresh copy budget, so it hands copies to the receiver (a carrier too:
    // with one copy left a carrier waits for the recipient and sends nothing).
    let mut made = 0;
    while made < count {
        let n = (count - made).min(5000);
        let envs = seal_messages(&author, &nobody, n)?;
        let items: Vec<(Vec<u8>, Option<EnvelopeId>)> =
            envs.iter().map(|e| (e.encode(), None)).collect();
        sender.ingest_envelopes(&items, "bench")?;
        sender
            .store()
            .transaction(|s| -> Result<(), pollen_node::store::StoreError> {
                envs.iter()
                    .try_for_each(|e| s.set_envelope_copies(&e.id(), routing::COPIES))
            })
            .map_err(err)?;
        made += n;
    }
    let exe = std::env::current_exe().map_err(err)?;
    let mut server = Command::new(exe)
        .arg("--data")
        .arg(&receiver_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--storage-mb", &budget_mb.to_string()])
        .args(["--per-peer-mb", &budget_mb.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(err)?;
    let mut addr = String::new();
    let mut server_out = server.stdout.take().map(BufReader::new);
    if let Some(out) = server_out.as_mut() {
        out.read_line(&mut addr).map_err(err)?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    let store = std::cell::RefCell::new(sender);
    let t0 = Instant::now();
    let outcome = rt.block_on(pollen_runtime::sync_once(addr.trim(), &store));
    let secs = t0.elapsed().as_secs_f64();
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    drop(server_out);
    let outcome = outcome.map_err(err)?;
    if let Some(e) = outcome.error {
        return Err(CliError::Other(format!("sync failed: {e}")));
    }
    let received = Node::open(&receiver_dir, Box::new(SystemClock))?
        .status()?
        .envelopes_stored;
    if received != count as u64 || outcome.stats.envelopes_sent != count as u64 {
        return Err(CliError::Other(format!(
            "sent {} and the receiver holds {received} of {count} envelopes",
            outcome.stats.envelopes_sent
        )));
    }
    let envelopes_per_s = (count as f64 / secs).round();
    let mb_per_s = (outcome.stats.bytes_sent as f64 / secs / 1e5).round() / 10.0;
    if json {
        crate::bench_json::emit(
            "sync",
            json!({"envelopes": count, "seconds": (secs * 1000.0).round() / 1000.0, "envelopes_per_s": envelopes_per_s, "mb_per_s": mb_per_s, "bytes_sent": outcome.stats.bytes_sent, "bytes_received": outcome.stats.bytes_received}),
        )?;
    } else {
        println!(
            "{count} envelopes in {secs:.2} s over loopback TCP: {envelopes_per_s} envelopes/s, {mb_per_s} MB/s"
        );
    }
    Ok(())
}
