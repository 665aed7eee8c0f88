//! The benchmark's clients: sealed batches of mail, rounds of concurrent
//! sessions against the relay, and connections that go silent after the
//! handshake.

use super::BenchStore;
use crate::CliError;
use crate::bench_payloads::payloads;
use pollen_node::node::DEFAULT_TTL_SECS;
use pollen_proto::envelope::{self, Draft, Envelope, Recipient, Sealed};
use pollen_proto::identity::{Identity, PublicIdentity};
use pollen_proto::sync::handshake::PREAMBLE_LEN;
use pollen_proto::sync::{Session, SessionConfig, SessionEvent};
use pollen_runtime::relay::RelayAddress;
use pollen_runtime::{LinkClock, LinkOutcome, sync_once_with};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Seals `count` message envelopes from `author` to `to`, keeping the proof secrets.
pub(super) fn seal_batch(
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

pub(super) fn envelopes_of(sealed: &[Sealed]) -> Vec<Envelope> {
    sealed.iter().map(|s| s.envelope.clone()).collect()
}

/// Sessions of a phase failed: how many, grouped by reason (most common
/// first), so a pattern such as the relay's handshake limit shows at once.
pub(super) fn failed(what: &str, total: usize, reasons: &[String]) -> CliError {
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

/// Runs one session per store, all at once; the wall time and each outcome,
/// or an error naming how many sessions failed.
pub(super) async fn round(
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
pub(super) async fn idle_connection(
    addr: RelayAddress,
    me: PublicIdentity,
) -> Result<TcpStream, String> {
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
