//! `pollen bench relay`: load on a real `pollen relay` process over loopback.
//!
//! The relay runs as a child process, so its memory figures are its own and
//! it has a core to itself (as far as the machine allows); the clients all
//! run here on one current-thread runtime, like many phones multiplexed onto
//! one machine. Every envelope is sealed before any clock starts, so the
//! figures measure the relay and the sessions, not sealing.
//!
//! Phases, in this order:
//! 1. idle sessions: the relay's resident memory before and after `idle`
//!    connections that complete the handshake and then stay silent. This runs
//!    first, on the fresh relay: once thousands of sessions have come and gone
//!    the allocator hands their freed memory to new sessions without growing
//!    the process, and the difference would read as nothing. So the figure is
//!    for a relay holding no mail: a relay session also keeps the index of
//!    everything the relay holds while it runs, which this phase does not see;
//! 2. throughput: `clients` concurrent sessions upload `envelopes` each (asking
//!    for nothing, so the round is uploads alone), then all sync again, holding
//!    nothing, and download what is addressed to them, checked exactly once;
//! 3. gateway latency: sequential fresh clients each upload 1,000 envelopes.

use crate::CliError;
use crate::bench::payloads;
use pollen_node::node::DEFAULT_TTL_SECS;
use pollen_proto::envelope::{self, Draft, Envelope, Recipient, RoutingTag, Sealed};
use pollen_proto::identity::{Identity, PublicIdentity};
use pollen_proto::sync::handshake::PREAMBLE_LEN;
use pollen_proto::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, Received, SyncStore, SyncStoreError,
};
use pollen_proto::sync::{Session, SessionConfig, SessionEvent};
use pollen_runtime::relay::RelayAddress;
use pollen_runtime::{LinkClock, LinkOutcome, sync_once_with};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Envelopes each gateway session uploads in the latency phase.
pub const GATEWAY_BATCH: usize = 1000;
/// How long the relay may take to print its address.
const RELAY_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long idle connections stay open before the relay's memory is read
/// again: long enough for every handshake to land, well inside the relay's
/// idle timeout (30 s), so none of them has been dropped yet.
const IDLE_SETTLE: Duration = Duration::from_secs(1);
/// How long an idle connection may take to complete its handshake.
const IDLE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the relay may take to exit after SIGTERM (it gives running
/// sessions up to 5 s to commit) before it is killed.
const RELAY_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// File descriptors beyond one per connection: the store, the runtime, stdio.
const FD_MARGIN: usize = 256;
/// Seconds in a routing-tag period (tags rotate by UTC day of expiry).
const DAY: u64 = 86_400;

/// What `pollen bench relay` runs: a load run against a real `pollen relay`
/// child on loopback.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Concurrent client sessions in the throughput rounds; client i uploads to client i+1.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Envelopes each client uploads, addressed to the next client.
    #[arg(long, default_value_t = 10)]
    pub envelopes: usize,
    /// Silent connections opened to measure the relay's memory per session.
    #[arg(long, default_value_t = 1000)]
    pub idle: usize,
    /// Sequential gateway sessions of 1,000 new envelopes each (p99 is
    /// nearest-rank: with 20 sessions, the slowest).
    #[arg(long, default_value_t = 20)]
    pub uploads: usize,
    /// `--store` for the relay (a postgres:// URL, or a directory); a
    /// temporary directory (SQLite) when absent.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The figures, printed as JSON in this key order.
#[derive(serde::Serialize)]
struct Report {
    /// "postgres" for a postgres:// URL, else "sqlite".
    store: &'static str,
    clients: usize,
    envelopes_per_client: usize,
    /// Envelopes uploaded in round 1 over its wall time.
    upload_envelopes_per_s: f64,
    /// Envelopes downloaded in round 2 over its wall time.
    download_envelopes_per_s: f64,
    /// Growth of the relay's VmRSS per idle session; None with `--idle 0`.
    idle_session_kib: Option<f64>,
    /// Median of the gateway sessions' wall times (connect to finish).
    gateway_upload_1000_p50_ms: Option<f64>,
    /// Nearest-rank 99th percentile: with fewer than 100 sessions (20 by
    /// default) that is the slowest one.
    gateway_upload_1000_p99_ms: Option<f64>,
    /// The relay's VmHWM at the end of the run.
    relay_peak_rss_mb: Option<f64>,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Rounded to one decimal, for printing.
fn tenths(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A client's storage, in memory: a fixed identity, the envelopes it uploads
/// (sealed beforehand) and the envelopes it expects, with their proof secrets.
pub struct BenchStore {
    /// Whose mail this client asks for.
    me: PublicIdentity,
    /// Envelopes to upload: id → wire bytes.
    outgoing: HashMap<[u8; 32], Vec<u8>>,
    /// The reconciliation items of `outgoing`.
    items: Vec<LocalItem>,
    /// Envelopes addressed to this client: id → delivery-proof secret.
    inbox: HashMap<[u8; 32], [u8; 32]>,
    /// Expiry times of the envelopes in `inbox`, by tag period (day).
    days: BTreeSet<u64>,
    /// Whether this client asks for its own mail (its Hello lists its tags).
    asks: bool,
    /// How often each envelope id arrived.
    received: HashMap<[u8; 32], u32>,
    /// Envelopes that arrived although they were not addressed here.
    unexpected: usize,
}

impl BenchStore {
    /// A client of identity `me` that will upload `outgoing` and asks for nothing yet.
    pub fn new(me: PublicIdentity, outgoing: &[Envelope]) -> BenchStore {
        let mut store = BenchStore {
            me,
            outgoing: HashMap::with_capacity(outgoing.len()),
            items: Vec::with_capacity(outgoing.len()),
            inbox: HashMap::new(),
            days: BTreeSet::new(),
            asks: false,
            received: HashMap::new(),
            unexpected: 0,
        };
        for e in outgoing {
            let id = e.id().0;
            let h = e.header();
            store.items.push(LocalItem {
                id,
                expires_at: h.expires_at,
                kind: ItemKind::Envelope {
                    tag: h.tag,
                    commitment: h.commitment,
                },
            });
            store.outgoing.insert(id, e.encode());
        }
        store
    }

    /// Notes envelopes sealed to this client, to check their arrival.
    pub fn expect(&mut self, sealed: &[Sealed]) {
        for s in sealed {
            self.inbox.insert(s.envelope.id().0, s.proof_secret);
            self.days.insert(s.envelope.header().expires_at / DAY);
        }
    }

    /// The next round downloads: the uploads are with the relay now, and
    /// this client asks for its own mail. Without dropping them, every
    /// session would push them again (a relay reconciles only the client's
    /// own mail, so it looks as if it lacked everything else the client holds).
    pub fn download_only(&mut self) {
        self.outgoing.clear();
        self.items.clear();
        self.asks = true;
    }

    /// Envelopes received; an error unless every expected one arrived exactly
    /// once and nothing else did.
    pub fn check(&self) -> Result<usize, String> {
        let missing = self
            .inbox
            .keys()
            .filter(|id| !self.received.contains_key(*id))
            .count();
        let repeated = self.received.values().filter(|&&n| n > 1).count();
        if missing > 0 || repeated > 0 || self.unexpected > 0 {
            return Err(format!(
                "{missing} of {} missing, {repeated} arrived more than once, {} not addressed to it",
                self.inbox.len(),
                self.unexpected
            ));
        }
        Ok(self.received.len())
    }
}

impl SyncStore for BenchStore {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(self.items.clone())
    }

    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        let direct = if self.asks {
            self.days
                .iter()
                .map(|d| RoutingTag::direct(&self.me, d * DAY))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Interests {
            direct,
            shared: Vec::new(),
        })
    }

    fn envelope(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        Ok(self.outgoing.get(id).cloned())
    }

    fn proof(&mut self, _commitment: &[u8; 32]) -> Result<Option<[u8; 32]>, SyncStoreError> {
        Ok(None)
    }

    fn seen(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        Ok(self.received.contains_key(id))
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        _origin: &str,
    ) -> Result<(Vec<Received>, Vec<[u8; 32]>), SyncStoreError> {
        let mut results = Vec::with_capacity(items.len());
        let mut proofs = Vec::new();
        for item in items {
            // A relay offers no proofs; one arriving anyway changes nothing here.
            let Incoming::Envelope(bytes) = item else {
                results.push(Received::ProofKnown);
                continue;
            };
            // Recognised by id, not opened: the bench measures the relay, and
            // the proof secret is known from sealing.
            let Ok(e) = Envelope::decode(bytes) else {
                self.unexpected += 1;
                results.push(Received::Rejected("malformed"));
                continue;
            };
            let id = e.id().0;
            let count = self.received.entry(id).or_insert(0);
            *count += 1;
            if *count > 1 {
                results.push(Received::Duplicate);
            } else if let Some(secret) = self.inbox.get(&id) {
                // Like a phone: the proof goes straight back, and the relay
                // drops its copy.
                proofs.push(*secret);
                results.push(Received::Opened);
            } else {
                self.unexpected += 1;
                results.push(Received::Carried);
            }
        }
        Ok((results, proofs))
    }
}

/// The relay child; SIGTERM on drop, so no error path leaves it running.
struct RelayProcess {
    child: Child,
    /// Holds the store directory (unless `--store` was given) and the log;
    /// fields drop after `Drop::drop`, so it is removed once the relay stopped.
    scratch: tempfile::TempDir,
}

impl RelayProcess {
    /// Starts `pollen relay` on a free loopback port and reads its address.
    fn start(
        store: Option<&str>,
        extra: &[String],
    ) -> Result<(RelayProcess, RelayAddress), CliError> {
        let scratch = tempfile::tempdir().map_err(err)?;
        let store_arg = match store {
            Some(s) => s.to_owned(),
            None => scratch.path().join("store").to_string_lossy().into_owned(),
        };
        let log = std::fs::File::create(scratch.path().join("relay.log")).map_err(err)?;
        let exe = std::env::current_exe().map_err(err)?;
        let mut child = Command::new(exe)
            .args(["relay", "--listen", "127.0.0.1:0", "--store", &store_arg])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| CliError::Other(format!("cannot start pollen relay: {e}")))?;
        let stdout = child.stdout.take();
        let relay = RelayProcess { child, scratch };
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                let mut out = BufReader::new(out);
                let mut line = String::new();
                let _ = tx.send(out.read_line(&mut line).map(|_| line));
                // Keep reading: a relay writing to a closed pipe would die of SIGPIPE.
                let _ = std::io::copy(&mut out, &mut std::io::sink());
            });
        }
        let line = match rx.recv_timeout(RELAY_START_TIMEOUT) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            Ok(Ok(_)) | Err(_) => {
                return Err(CliError::Other(format!(
                    "pollen relay printed no address{}",
                    relay.log_tail()
                )));
            }
            Ok(Err(e)) => return Err(err(e)),
        };
        let addr: RelayAddress = line
            .trim()
            .parse()
            .map_err(|e| CliError::Other(format!("pollen relay printed {:?}: {e}", line.trim())))?;
        Ok((relay, addr))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the relay's log when it has exited, to explain a failure.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.scratch.path().join("relay.log")) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; relay log:\n  {tail}")
        }
    }

    /// Adds the relay's exit status and log to `e` if the relay died.
    fn explain(&mut self, e: CliError) -> CliError {
        match self.child.try_wait() {
            Ok(Some(status)) => CliError::Other(format!(
                "{e} (pollen relay exited: {status}{})",
                self.log_tail()
            )),
            _ => e,
        }
    }

    /// SIGTERM, then waits (killing it if it hangs); None if it could not be reaped.
    fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid, which cannot have been
            // reused: the child is not reaped until wait below.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + RELAY_STOP_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    return self.child.wait().ok();
                }
                Err(_) => return None,
            }
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A field of `/proc/PID/status` in KiB (Linux).
fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn rss_kib(pid: u32) -> Result<u64, CliError> {
    proc_kib(pid, "VmRSS:")
        .ok_or_else(|| CliError::Other(format!("cannot read VmRSS of the relay (pid {pid})")))
}

/// Raises this process's soft open-file limit to `want` if it is lower (the
/// relay child inherits it); a note when the hard limit stops it short.
fn raise_nofile(want: usize) -> Option<String> {
    let want = want as libc::rlim_t;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and pass by pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Some(format!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur >= want {
        return None;
    }
    let target = want.min(lim.rlim_max);
    let raised = libc::rlimit {
        rlim_cur: target,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own; lowering nothing, raising the
    // soft limit at most to the hard one, which any process may do.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Some(format!(
            "cannot raise the open-file limit from {} to {want}: {}; sessions may fail to connect",
            lim.rlim_cur,
            std::io::Error::last_os_error()
        ));
    }
    (target < want).then(|| {
        format!(
            "open-file limit raised only to the hard limit {target} (wanted {want}); sessions may fail to connect"
        )
    })
}

/// Seals `count` message envelopes from `author` to `to`, keeping the proof secrets.
fn seal_batch(
    author: &Identity,
    to: &PublicIdentity,
    count: usize,
) -> Result<Vec<Sealed>, CliError> {
    let t = pollen_node::node::Clock::now(&pollen_node::node::SystemClock);
    payloads(author, count)?
        .iter()
        .map(|payload| {
            Ok(envelope::seal(
                author,
                &Draft {
                    to: Recipient::Direct(to),
                    payload,
                    sent_at: t,
                    expires_at: t + DEFAULT_TTL_SECS,
                    hops: 12,
                },
            )?)
        })
        .collect()
}

fn envelopes_of(sealed: &[Sealed]) -> Vec<Envelope> {
    sealed.iter().map(|s| s.envelope.clone()).collect()
}

/// Nearest-rank percentile of ascending `sorted` samples: the smallest
/// sample at or above `p` percent of them (with 20 samples, p99 is the largest).
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Runs one session per store, all at once; the wall time and each outcome,
/// or an error naming how many sessions failed.
/// Sessions of a phase failed: how many, grouped by reason (most common
/// first), so a pattern such as the relay's handshake limit shows at once.
fn failed(what: &str, total: usize, reasons: &[String]) -> CliError {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in reasons {
        *counts.entry(r.as_str()).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let listed: Vec<String> = counts
        .iter()
        .take(3)
        .map(|(reason, n)| format!("{n} × {reason}"))
        .collect();
    CliError::Other(format!(
        "{what}: {} of {total} sessions failed: {}",
        reasons.len(),
        listed.join("; ")
    ))
}

async fn round(
    what: &str,
    addr: &RelayAddress,
    stores: &[Rc<RefCell<BenchStore>>],
) -> Result<(Duration, Vec<LinkOutcome>), CliError> {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for (i, store) in stores.iter().enumerate() {
        let (store, host, key) = (store.clone(), addr.host_port.clone(), addr.key);
        set.spawn_local(async move { (i, sync_once_with(&host, &store, Some(key)).await) });
    }
    let mut outcomes: Vec<Option<LinkOutcome>> = stores.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, result) = joined.map_err(|e| CliError::Other(format!("client task: {e}")))?;
        match result {
            Ok(o) if o.error.is_none() => outcomes[i] = Some(o),
            Ok(o) => failures.push(o.error.map(|e| e.to_string()).unwrap_or_default()),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let elapsed = start.elapsed();
    if !failures.is_empty() {
        let what = format!("{what} ({:.1} s)", elapsed.as_secs_f64());
        return Err(failed(&what, stores.len(), &failures));
    }
    Ok((elapsed, outcomes.into_iter().flatten().collect()))
}

/// Opens a connection that sends the preamble and the Noise NK first
/// message, waits for the relay's answer (so the relay holds an established
/// session), then says nothing more.
async fn idle_connection(addr: RelayAddress, me: PublicIdentity) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(&addr.host_port)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let clock = LinkClock::new();
    let mut config = SessionConfig::tcp(true, "tcp:127.0.0.1");
    config.relay_key = Some(addr.key);
    let mut session = Session::new(config, clock.now_ms());
    let mut store = BenchStore::new(me, &[]);
    let io = |e: std::io::Error| e.to_string();
    if let Some(preamble) = session.poll_transmit(&mut store) {
        stream.write_all(&preamble).await.map_err(io)?;
    }
    let mut theirs = [0u8; PREAMBLE_LEN];
    stream.read_exact(&mut theirs).await.map_err(io)?;
    session.handle_input(&theirs, clock.now_ms(), &mut store);
    if let Some(first) = session.poll_transmit(&mut store) {
        stream.write_all(&first).await.map_err(io)?;
    }
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Err("the relay closed the connection".into());
        }
        session.handle_input(&buf[..n], clock.now_ms(), &mut store);
        while let Some(event) = session.poll_event() {
            match event {
                // The session's Hello stays unsent: the relay now waits on a silent client.
                SessionEvent::Established { .. } => return Ok(stream),
                SessionEvent::Closed(e) => return Err(e.to_string()),
                _ => {}
            }
        }
    }
}

/// Runs the benchmark.
pub fn run(o: Options) -> Result<(), CliError> {
    if o.clients == 0 || o.envelopes == 0 {
        return Err(CliError::Other(
            "--clients and --envelopes must be at least 1".into(),
        ));
    }
    let progress = |msg: &str| {
        if !o.json {
            eprintln!("{msg}");
        }
    };
    if let Some(note) = raise_nofile(o.clients.max(o.idle) + FD_MARGIN) {
        eprintln!("note: {note}");
    }

    progress(&format!(
        "sealing {} envelopes for {} clients and {} gateway uploads…",
        o.clients * o.envelopes + o.uploads * GATEWAY_BATCH,
        o.clients,
        o.uploads
    ));
    let people = (0..o.clients)
        .map(|i| Identity::generate(&format!("client {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut stores: Vec<BenchStore> = Vec::with_capacity(o.clients);
    let mut mail: Vec<Vec<Sealed>> = Vec::with_capacity(o.clients);
    let mut bytes = 0usize;
    for (i, me) in people.iter().enumerate() {
        let to = people[(i + 1) % o.clients].public();
        let sealed = seal_batch(me, &to, o.envelopes)?;
        bytes += sealed.iter().map(|s| s.envelope.len()).sum::<usize>();
        stores.push(BenchStore::new(me.public(), &envelopes_of(&sealed)));
        mail.push(sealed);
    }
    for (i, sealed) in mail.iter().enumerate() {
        stores[(i + 1) % o.clients].expect(sealed);
    }
    drop(mail);
    let stores: Vec<Rc<RefCell<BenchStore>>> = stores
        .into_iter()
        .map(|s| Rc::new(RefCell::new(s)))
        .collect();
    let nobody = Identity::generate("nobody")?.public();
    let mut gateways = Vec::with_capacity(o.uploads);
    for j in 0..o.uploads {
        let me = Identity::generate(&format!("gateway {j}"))?;
        let sealed = seal_batch(&me, &nobody, GATEWAY_BATCH)?;
        bytes += sealed.iter().map(|s| s.envelope.len()).sum::<usize>();
        gateways.push(RefCell::new(BenchStore::new(
            me.public(),
            &envelopes_of(&sealed),
        )));
    }

    // Everything comes from 127.0.0.1, one "client address" to the relay:
    // room for all of it twice over, and a session slot for every connection.
    let mb = ((bytes as u64 * 2) >> 20) + 64;
    let extra = vec![
        "--per-peer-mb".to_owned(),
        mb.max(256).to_string(),
        "--storage-mb".to_owned(),
        mb.max(10_240).to_string(),
        "--max-links".to_owned(),
        (o.clients.max(o.idle) + 64)
            .max(crate::relay::RELAY_MAX_LINKS)
            .to_string(),
    ];
    let (mut relay, addr) = RelayProcess::start(o.store.as_deref(), &extra)?;
    let store_kind = match o.store.as_deref() {
        Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => "postgres",
        _ => "sqlite",
    };
    progress(&format!("relay {addr} (pid {}, {store_kind})", relay.pid()));

    let measured = measure(&o, &mut relay, &addr, &stores, &gateways);
    let measured = measured.map_err(|e| relay.explain(e))?;
    let relay_peak_rss_mb = proc_kib(relay.pid(), "VmHWM:").map(|k| tenths(k as f64 / 1024.0));
    match relay.stop() {
        Some(status) if status.success() => {}
        Some(status) => {
            return Err(CliError::Other(format!(
                "pollen relay exited with {status} after the run{}",
                relay.log_tail()
            )));
        }
        None => eprintln!("note: could not reap the relay process"),
    }
    let report = Report {
        store: store_kind,
        clients: o.clients,
        envelopes_per_client: o.envelopes,
        upload_envelopes_per_s: measured.upload_per_s,
        download_envelopes_per_s: measured.download_per_s,
        idle_session_kib: measured.idle_kib,
        gateway_upload_1000_p50_ms: measured.p50_ms,
        gateway_upload_1000_p99_ms: measured.p99_ms,
        relay_peak_rss_mb,
    };
    if o.json {
        println!("{}", serde_json::to_string(&report).map_err(err)?);
    } else {
        print_human(&report, &measured);
    }
    Ok(())
}

fn print_human(r: &Report, m: &Measured) {
    let show =
        |x: Option<f64>, unit: &str| x.map_or("not measured".into(), |v| format!("{v} {unit}"));
    println!(
        "relay ({}) with {} concurrent clients × {} envelopes:",
        r.store, r.clients, r.envelopes_per_client
    );
    println!(
        "  upload:   {} envelopes/s ({} in {:.2} s)",
        r.upload_envelopes_per_s, m.uploaded, m.upload_s
    );
    println!(
        "  download: {} envelopes/s ({} in {:.2} s, each exactly once)",
        r.download_envelopes_per_s, m.downloaded, m.download_s
    );
    println!(
        "  idle session: {}",
        show(r.idle_session_kib, "KiB of relay memory each")
    );
    println!(
        "  gateway upload of {GATEWAY_BATCH}: p50 {}, p99 {}",
        show(r.gateway_upload_1000_p50_ms, "ms"),
        show(r.gateway_upload_1000_p99_ms, "ms")
    );
    println!("  relay peak RSS: {}", show(r.relay_peak_rss_mb, "MB"));
}

/// What the three phases measured.
struct Measured {
    uploaded: u64,
    upload_s: f64,
    upload_per_s: f64,
    downloaded: u64,
    download_s: f64,
    download_per_s: f64,
    idle_kib: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
}

fn measure(
    o: &Options,
    relay: &mut RelayProcess,
    addr: &RelayAddress,
    stores: &[Rc<RefCell<BenchStore>>],
    gateways: &[RefCell<BenchStore>],
) -> Result<Measured, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let pid = relay.pid();
    let progress = |msg: &str| {
        if !o.json {
            eprintln!("{msg}");
        }
    };
    local.block_on(&rt, async {
        // One empty session first, so what the first session of a process
        // sets up once (store caches, runtime buffers) is not charged to the
        // idle sessions.
        let nobody = Identity::generate("nobody")?.public();
        let warm = RefCell::new(BenchStore::new(nobody, &[]));
        let outcome = sync_once_with(&addr.host_port, &warm, Some(addr.key))
            .await
            .map_err(err)?;
        if let Some(e) = outcome.error {
            return Err(CliError::Other(format!("warm-up session failed: {e}")));
        }

        let idle_kib = if o.idle > 0 {
            progress(&format!("idle: {} silent sessions…", o.idle));
            tokio::time::sleep(Duration::from_millis(200)).await;
            let before = rss_kib(pid)?;
            let mut set = JoinSet::new();
            for _ in 0..o.idle {
                let addr = addr.clone();
                set.spawn_local(tokio::time::timeout(
                    IDLE_HANDSHAKE_TIMEOUT,
                    idle_connection(addr, nobody),
                ));
            }
            let mut open = Vec::with_capacity(o.idle);
            let mut errors = Vec::new();
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(Ok(Ok(stream))) => open.push(stream),
                    Ok(Ok(Err(e))) => errors.push(e),
                    Ok(Err(_)) => errors.push("handshake timed out".into()),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            if !errors.is_empty() {
                return Err(failed("idle sessions", o.idle, &errors));
            }
            tokio::time::sleep(IDLE_SETTLE).await;
            let after = rss_kib(pid)?;
            drop(open);
            // Let the relay notice the closed links before the next phase.
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some(tenths((after as f64 - before as f64) / o.idle as f64))
        } else {
            None
        };

        progress(&format!(
            "round 1: {} clients upload {} envelopes each…",
            o.clients, o.envelopes
        ));
        let (t1, outcomes) = round("round 1 (upload)", addr, stores).await?;
        let uploaded: u64 = outcomes.iter().map(|out| out.stats.envelopes_sent).sum();
        if let Some((i, out)) = outcomes
            .iter()
            .enumerate()
            .find(|(_, out)| out.stats.envelopes_sent != o.envelopes as u64)
        {
            return Err(CliError::Other(format!(
                "client {i} uploaded {} of {} envelopes",
                out.stats.envelopes_sent, o.envelopes
            )));
        }

        progress("round 2: every client downloads its mail…");
        for s in stores {
            s.borrow_mut().download_only();
        }
        let (t2, outcomes) = round("round 2 (download)", addr, stores).await?;
        let downloaded: u64 = outcomes
            .iter()
            .map(|out| out.stats.envelopes_received)
            .sum();
        for (i, s) in stores.iter().enumerate() {
            s.borrow()
                .check()
                .map_err(|e| CliError::Other(format!("client {i}: {e}")))?;
        }

        let mut samples = Vec::with_capacity(gateways.len());
        if !gateways.is_empty() {
            progress(&format!(
                "gateways: {} sessions uploading {GATEWAY_BATCH} envelopes each…",
                gateways.len()
            ));
        }
        for (j, g) in gateways.iter().enumerate() {
            let start = Instant::now();
            let outcome = sync_once_with(&addr.host_port, g, Some(addr.key))
                .await
                .map_err(err)?;
            samples.push(start.elapsed().as_secs_f64() * 1000.0);
            if let Some(e) = outcome.error {
                return Err(CliError::Other(format!("gateway {j}: {e}")));
            }
            if outcome.stats.envelopes_sent != GATEWAY_BATCH as u64 {
                return Err(CliError::Other(format!(
                    "gateway {j} uploaded {} of {GATEWAY_BATCH} envelopes",
                    outcome.stats.envelopes_sent
                )));
            }
        }
        samples.sort_by(f64::total_cmp);

        let per_s = |n: u64, d: Duration| (n as f64 / d.as_secs_f64().max(1e-9)).round();
        Ok(Measured {
            uploaded,
            upload_s: t1.as_secs_f64(),
            upload_per_s: per_s(uploaded, t1),
            downloaded,
            download_s: t2.as_secs_f64(),
            download_per_s: per_s(downloaded, t2),
            idle_kib,
            p50_ms: percentile(&samples, 50.0).map(tenths),
            p99_ms: percentile(&samples, 99.0).map(tenths),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&twenty, 50.0), Some(10.0));
        assert_eq!(percentile(&twenty, 99.0), Some(20.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn a_bench_store_checks_exactly_once_delivery() {
        let a = Identity::generate("a").unwrap();
        let b = Identity::generate("b").unwrap();
        let sealed = seal_batch(&a, &b.public(), 3).unwrap();
        let mut inbox = BenchStore::new(b.public(), &[]);
        inbox.expect(&sealed);
        inbox.download_only();
        assert_eq!(inbox.interests().unwrap().direct.len(), 1);
        let first: Vec<Incoming> = sealed[..2]
            .iter()
            .map(|s| Incoming::Envelope(s.envelope.encode()))
            .collect();
        let (results, proofs) = inbox.ingest(&first, "t").unwrap();
        assert_eq!(results, vec![Received::Opened, Received::Opened]);
        assert_eq!(proofs, vec![sealed[0].proof_secret, sealed[1].proof_secret]);
        assert!(inbox.check().unwrap_err().starts_with("1 of 3 missing"));
        let rest = vec![
            Incoming::Envelope(sealed[2].envelope.encode()),
            Incoming::Envelope(sealed[0].envelope.encode()),
        ];
        inbox.ingest(&rest, "t").unwrap();
        assert!(
            inbox
                .check()
                .unwrap_err()
                .contains("1 arrived more than once")
        );
    }

    #[test]
    fn outgoing_envelopes_are_offered_until_handed_over() {
        let a = Identity::generate("a").unwrap();
        let sealed = seal_batch(&a, &a.public(), 2).unwrap();
        let mut store = BenchStore::new(a.public(), &envelopes_of(&sealed));
        assert!(store.interests().unwrap().direct.is_empty());
        let items = store.items().unwrap();
        assert_eq!(items.len(), 2);
        for item in &items {
            let bytes = store.envelope(&item.id).unwrap().unwrap();
            assert_eq!(Envelope::decode(&bytes).unwrap().id().0, item.id);
        }
        store.download_only();
        assert!(store.items().unwrap().is_empty());
    }
}
