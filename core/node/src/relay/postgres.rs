//! The relay store on PostgreSQL: several relay processes share one database
//! and behave as one relay (what one holds, every one offers; a proof one
//! receives purges the envelope for all).
//!
//! # Threads
//!
//! Sessions call [`SyncStore`] synchronously from inside the node runtime's
//! tokio current-thread runtime. The blocking `postgres::Client` drives its
//! own tokio runtime with `block_on`, which panics when called from a thread
//! already inside a runtime. So the client lives on a dedicated thread owned
//! by the store, and every call is a request sent to it over a std channel
//! with the answer coming back on another: the calling thread only waits on
//! a channel and never enters the client's runtime.
//!
//! # Concurrency between relays
//!
//! Every write (ingest, expiry) takes one transaction-scoped advisory lock,
//! so writes from all relays on the database run one after another. That
//! keeps the global cap and the per-origin quotas exact (two relays cannot
//! both see the last free megabyte) and makes deadlocks on the usage
//! counters impossible. Reads (what to offer, envelope bytes) never wait on
//! it. Inserts use `ON CONFLICT DO NOTHING` all the same, and a conflict is a
//! duplicate, never an error.
//!
//! # Schema
//!
//! `envelopes`, `proofs` and `seen` mirror the node's SQLite tables;
//! `origin_usage` holds bytes and counts per origin, kept by triggers on
//! `envelopes` so that every way a row leaves (purge, eviction, expiry, an
//! operator's `DELETE` or `TRUNCATE`) updates it; `relay_schema` holds the
//! schema version.

mod ingest;
mod schema;
mod sql;
mod worker;

use super::{Expired, RelayLimits, RelayUsage};
use crate::node::{Clock, SystemClock};
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId, RoutingTag};
use pollen_proto::sync::store::{
    Incoming, Interests, LocalItem, Received, SyncStore, SyncStoreError,
};
use postgres::Row;
use schema::SCHEMA_VERSION;
use std::fmt;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use thiserror::Error;
use worker::Worker;

/// Why the PostgreSQL relay store failed. Refusing an envelope is not an
/// error (that is a [`Received::Rejected`]); these are the relay's own
/// troubles, and a session meeting one closes without blaming the peer.
#[derive(Debug, Error)]
pub enum RelayStoreError {
    /// The URL did not parse, the server is unreachable or refused, or a
    /// statement failed.
    #[error("PostgreSQL: {}", describe(.0))]
    Postgres(#[from] postgres::Error),
    /// The database was set up by a newer relay; this build would misread it.
    #[error(
        "the relay database has schema version {found}, newer than this build's {SCHEMA_VERSION}; upgrade the relay"
    )]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
    },
    /// A stored value is not what this build writes (hand-edited or damaged).
    #[error("relay database is corrupt: {0}")]
    Corrupt(String),
    /// The thread that owns the connection could not be started.
    #[error("cannot start the PostgreSQL connection thread: {0}")]
    Spawn(std::io::Error),
    /// The thread that owns the connection is gone (it panicked).
    #[error("the PostgreSQL connection thread stopped")]
    WorkerGone,
}

/// The client's own text is only its error kind ("db error"); the server's
/// message, which says what went wrong, is in the source chain.
fn describe(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether `e` ended the connection. The client marks itself closed only
/// once its connection task has seen the socket close, which can be after
/// the server's FATAL notice (an administrator's `pg_terminate_backend`, a
/// server shutting down) has already failed a call; the next call would
/// then write into a reset socket and fail too.
fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        return matches!(db.severity(), "FATAL" | "PANIC");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

impl From<RelayStoreError> for SyncStoreError {
    fn from(e: RelayStoreError) -> Self {
        SyncStoreError(e.to_string())
    }
}

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// A relay's storage in a PostgreSQL database that other relay processes may
/// share. Implements [`SyncStore`], so sessions run on it unchanged; safe to
/// call from inside a tokio runtime (see the module docs).
pub struct PgRelayStore {
    /// `None` only while dropping, so the worker sees the channel close.
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    clock: Box<dyn Clock>,
    limits: RelayLimits,
}

impl fmt::Debug for PgRelayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgRelayStore")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl PgRelayStore {
    /// Connects to the database at `url` (a libpq-style URL or key=value
    /// string, e.g. `postgresql://user:password@host:5432/pollen`), creating
    /// the schema if it is missing. Uses the system clock.
    pub fn connect(url: &str, limits: RelayLimits) -> Result<Self, RelayStoreError> {
        Self::connect_with_clock(url, limits, Box::new(SystemClock))
    }

    /// [`connect`](Self::connect) with the clock that decides what has
    /// expired (tests move time forward).
    pub fn connect_with_clock(
        url: &str,
        limits: RelayLimits,
        clock: Box<dyn Clock>,
    ) -> Result<Self, RelayStoreError> {
        let mut config: postgres::Config = url.parse()?;
        if config.get_application_name().is_none() {
            config.application_name("pollen-relay");
        }
        // A relay should say it cannot reach its database, not hang.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let worker = std::thread::Builder::new()
            .name("pollen-relay-pg".into())
            .spawn(move || {
                let mut worker = match Worker::open(config, limits) {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(()));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                for job in queue {
                    job(&mut worker);
                }
            })
            .map_err(RelayStoreError::Spawn)?;
        let store = Self {
            jobs: Some(jobs),
            worker: Some(worker),
            clock,
            limits,
        };
        ready.recv().map_err(|_| RelayStoreError::WorkerGone)??;
        Ok(store)
    }

    /// The limits this store enforces.
    pub fn limits(&self) -> RelayLimits {
        self.limits
    }

    /// Drops envelopes, proofs and remembered ids whose expiry is at or
    /// before `now`; returns how many of each.
    pub fn expire(&self, now: u64) -> Result<Expired, RelayStoreError> {
        self.call(move |w| w.expire(now))
    }

    /// Bytes and counts held, across every relay on the database.
    pub fn usage(&self) -> Result<RelayUsage, RelayStoreError> {
        self.call(|w| w.usage())
    }

    /// The relay's private key, shared by every relay process on this
    /// database (so they are one relay to clients); `fresh` is used only by
    /// the first relay that finds none.
    pub fn relay_key(&self, fresh: [u8; 32]) -> Result<[u8; 32], RelayStoreError> {
        self.call(move |w| w.relay_key(fresh))
    }

    /// Runs `f` on the connection thread and waits for its answer.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Worker) -> Result<R, RelayStoreError> + Send + 'static,
    ) -> Result<R, RelayStoreError> {
        let (answer, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |w| {
            let result = f(w);
            if let Err(RelayStoreError::Postgres(e)) = &result
                && connection_lost(e)
            {
                w.forget_connection();
            }
            let _ = answer.send(result);
        });
        self.jobs
            .as_ref()
            .ok_or(RelayStoreError::WorkerGone)?
            .send(job)
            .map_err(|_| RelayStoreError::WorkerGone)?;
        rx.recv().map_err(|_| RelayStoreError::WorkerGone)?
    }
}

impl Drop for PgRelayStore {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop; joining waits for the
        // connection to close cleanly.
        self.jobs = None;
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            tracing::warn!("PostgreSQL connection thread had panicked");
        }
    }
}

impl SyncStore for PgRelayStore {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let now = self.clock.now();
        Ok(self.call(move |w| w.items(now))?)
    }

    /// Distinct tags first, then only the envelopes of the tags a client
    /// wants: a session costs what the client gets, not what the relay holds.
    fn items_matching(
        &mut self,
        wanted: &mut dyn FnMut(&RoutingTag) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        let now = self.clock.now();
        let tags = self.call(move |w| w.tags(now))?;
        let matched: Vec<Vec<u8>> = tags
            .into_iter()
            .filter(|t| wanted(&RoutingTag(*t)))
            .map(|t| t.to_vec())
            .collect();
        if matched.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.call(move |w| w.envelopes_with_tags(&matched, now))?)
    }

    /// Distinct blobs first, then only the chunks of blobs the client
    /// named: a relay may hold many.
    fn chunks_matching(
        &mut self,
        wanted: &mut dyn FnMut(&[u8; 32]) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        let now = self.clock.now();
        let blobs: Vec<Vec<u8>> = self
            .call(move |w| w.chunk_blobs(now))?
            .into_iter()
            .filter(|b| wanted(b))
            .map(|b| b.to_vec())
            .collect();
        if blobs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.call(move |w| w.chunks_of_blobs(&blobs, now))?)
    }

    fn chunk(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        let (id, now) = (*id, self.clock.now());
        Ok(self.call(move |w| w.chunk(&id, now))?)
    }

    /// A relay wants nothing for itself: nobody's envelopes go first.
    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        Ok(Interests::default())
    }

    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        let (id, now) = (id.0, self.clock.now());
        Ok(self.call(move |w| w.envelope(&id, now))?)
    }

    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        let commitment = commitment.0;
        Ok(self.call(move |w| w.proof(&commitment))?.map(DeliveryProof))
    }

    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        let id = id.0;
        Ok(self.call(move |w| w.seen(&id))?)
    }

    /// A relay opens nothing, so the only proofs it hands back are those of
    /// envelopes it already knows to be delivered.
    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        let now = self.clock.now();
        // The job must own its data; a batch is at most a session window.
        let items = items.to_vec();
        let origin = origin.to_owned();
        let (received, proofs) = self.call(move |w| w.ingest(&items, &origin, now))?;
        Ok((received, proofs.into_iter().map(DeliveryProof).collect()))
    }
}

/// Unix seconds and byte counts as PostgreSQL's signed bigint. Nothing this
/// store writes comes near 2^63; saturate rather than wrap if it ever did.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A bigint read back; a negative one can only come from outside this store.
fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A fixed-length bytea column.
fn array<const N: usize>(row: &Row, col: usize) -> Result<[u8; N], RelayStoreError> {
    let bytes: &[u8] = row.try_get(col)?;
    bytes.try_into().map_err(|_| {
        RelayStoreError::Corrupt(format!(
            "column {} holds {} bytes, expected {N}",
            row.columns().get(col).map_or("?", |c| c.name()),
            bytes.len()
        ))
    })
}
