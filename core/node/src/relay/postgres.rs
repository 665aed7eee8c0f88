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

use super::{
    Expired, MAX_UNMATCHED_PROOFS, NO_HOPS_LEFT, QUOTA_EXCEEDED, RelayLimits, RelayUsage,
    STORE_FULL, decode_fresh,
};
use crate::node::{Clock, DEFAULT_TTL_SECS, SystemClock};
use pollen_proto::envelope::{DeliveryProof, RoutingTag};
use pollen_proto::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, Received, SyncStore, SyncStoreError, proof_item_id,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use thiserror::Error;

/// Schema version this build creates and understands.
const SCHEMA_VERSION: i64 = 1;
/// Advisory lock held while creating the schema, so relays starting at once
/// do not race on `CREATE TABLE` (which can fail on a concurrent create even
/// with `IF NOT EXISTS`). "pollen" in ASCII, then 1.
const SCHEMA_LOCK: i64 = 0x706f_6c6c_656e_0001;
/// Advisory lock held by every writing transaction (see the module docs).
const WRITE_LOCK: i64 = 0x706f_6c6c_656e_0002;
/// Envelopes read per eviction query: enough for a typical batch, small
/// enough that a query never reads far past what it needs.
const EVICTION_CHUNK: i64 = 64;

/// Per-session settings. A relay that stalls or loses its network inside a
/// transaction must not hold the write lock for long, and one waiting on the
/// lock should fail its batch (the session retries at the next encounter)
/// rather than hang.
const SESSION_SETTINGS: &str = "SET lock_timeout = '30s';
     SET idle_in_transaction_session_timeout = '60s'";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS envelopes (
    id          bytea  PRIMARY KEY,
    bytes       bytea  NOT NULL,
    size        bigint NOT NULL,
    expires_at  bigint NOT NULL,
    tag         bytea  NOT NULL,
    commitment  bytea  NOT NULL,
    origin      text   NOT NULL,
    received_at bigint NOT NULL
);
-- Ciphertext does not compress: store it out of line without trying.
ALTER TABLE envelopes ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS envelopes_commitment ON envelopes (commitment);
CREATE INDEX IF NOT EXISTS envelopes_expires_at ON envelopes (expires_at, id);
CREATE INDEX IF NOT EXISTS envelopes_tag ON envelopes (tag, expires_at);

CREATE TABLE IF NOT EXISTS proofs (
    commitment bytea   PRIMARY KEY,
    secret     bytea   NOT NULL,
    expires_at bigint  NOT NULL,
    -- False for a proof that purged nothing here: those are capped.
    matched    boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS proofs_expires_at ON proofs (expires_at);

CREATE TABLE IF NOT EXISTS seen (
    id         bytea  PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_expires_at ON seen (expires_at);

-- The relay's Noise key, one for every relay process on this database.
CREATE TABLE IF NOT EXISTS relay_key (
    id     int   PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL
);

CREATE TABLE IF NOT EXISTS origin_usage (
    origin text   PRIMARY KEY,
    bytes  bigint NOT NULL,
    count  bigint NOT NULL
);

CREATE OR REPLACE FUNCTION pollen_usage_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO origin_usage (origin, bytes, count)
        SELECT origin, SUM(size), COUNT(*) FROM added GROUP BY origin
    ON CONFLICT (origin) DO UPDATE
        SET bytes = origin_usage.bytes + EXCLUDED.bytes,
            count = origin_usage.count + EXCLUDED.count;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION pollen_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE origin_usage u
        SET bytes = u.bytes - r.bytes, count = u.count - r.count
        FROM (SELECT origin, SUM(size) AS bytes, COUNT(*) AS count
              FROM removed GROUP BY origin) r
        WHERE u.origin = r.origin;
    DELETE FROM origin_usage WHERE count <= 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION pollen_usage_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM origin_usage;
    RETURN NULL;
END $$;

-- Envelope rows are inserted and deleted, never updated.
DROP TRIGGER IF EXISTS envelopes_added ON envelopes;
CREATE TRIGGER envelopes_added AFTER INSERT ON envelopes
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_added();
DROP TRIGGER IF EXISTS envelopes_removed ON envelopes;
CREATE TRIGGER envelopes_removed AFTER DELETE ON envelopes
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_removed();
DROP TRIGGER IF EXISTS envelopes_truncated ON envelopes;
CREATE TRIGGER envelopes_truncated AFTER TRUNCATE ON envelopes
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_truncated();
";

const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
const USAGE_OF: &str = "SELECT COALESCE(SUM(bytes), 0)::bigint,
        COALESCE(SUM(bytes) FILTER (WHERE origin = $1), 0)::bigint
     FROM origin_usage";
/// Inserts unless held (the conflict), seen or proven delivered: the whole
/// duplicate check and the insert in one round trip.
const INSERT_NEW: &str = "INSERT INTO envelopes
        (id, bytes, size, expires_at, tag, commitment, origin, received_at)
     SELECT $1::bytea, $2::bytea, $3::bigint, $4::bigint, $5::bytea, $6::bytea, $7::text, $8::bigint
     WHERE NOT EXISTS (SELECT 1 FROM seen WHERE id = $1::bytea)
       AND NOT EXISTS (SELECT 1 FROM proofs WHERE commitment = $6::bytea)
     ON CONFLICT (id) DO NOTHING";
const KNOWN: &str = "SELECT EXISTS (SELECT 1 FROM envelopes WHERE id = $1)
        OR EXISTS (SELECT 1 FROM seen WHERE id = $1)
        OR EXISTS (SELECT 1 FROM proofs WHERE commitment = $2)";
const EVICTION_CANDIDATES: &str = "SELECT id, size FROM envelopes
     WHERE (origin = $1) = $2 AND id <> ALL($3::bytea[])
     ORDER BY expires_at, id LIMIT $4";
const DELETE_IDS: &str = "DELETE FROM envelopes WHERE id = ANY($1::bytea[])";
const PROOF_KNOWN: &str = "SELECT EXISTS (SELECT 1 FROM proofs WHERE commitment = $1)";
const PURGE: &str = "WITH gone AS (
         DELETE FROM envelopes WHERE commitment = $1
         RETURNING id, expires_at, size, origin
     ), remembered AS (
         INSERT INTO seen (id, expires_at) SELECT id, expires_at FROM gone
         ON CONFLICT (id) DO NOTHING
     )
     SELECT COUNT(*), MAX(expires_at), COALESCE(SUM(size), 0)::bigint,
            COALESCE(SUM(size) FILTER (WHERE origin = $2), 0)::bigint
     FROM gone";
const UNMATCHED_PROOFS: &str = "SELECT COUNT(*) FROM proofs WHERE NOT matched";
const INSERT_PROOF: &str = "INSERT INTO proofs (commitment, secret, expires_at, matched)
     VALUES ($1, $2, $3, $4) ON CONFLICT (commitment) DO NOTHING";
const ENVELOPE_INDEX: &str =
    "SELECT id, expires_at, tag, commitment FROM envelopes WHERE expires_at > $1";
const PROOF_INDEX: &str = "SELECT commitment, expires_at FROM proofs WHERE expires_at > $1";
const ENVELOPE_TAGS: &str = "SELECT DISTINCT tag FROM envelopes WHERE expires_at > $1";
const ENVELOPES_WITH_TAGS: &str = "SELECT id, expires_at, tag, commitment FROM envelopes
    WHERE tag = ANY($1::bytea[]) AND expires_at > $2";
const ENVELOPE_BYTES: &str = "SELECT bytes FROM envelopes WHERE id = $1 AND expires_at > $2";
const PROOF_SECRET: &str = "SELECT secret FROM proofs WHERE commitment = $1";
const SEEN: &str = "SELECT EXISTS (SELECT 1 FROM seen WHERE id = $1)";
const EXPIRE_ENVELOPES: &str = "DELETE FROM envelopes WHERE expires_at <= $1";
const EXPIRE_PROOFS: &str = "DELETE FROM proofs WHERE expires_at <= $1";
const EXPIRE_SEEN: &str = "DELETE FROM seen WHERE expires_at <= $1";
const USAGE: &str = "SELECT COALESCE(SUM(bytes), 0)::bigint, COALESCE(SUM(count), 0)::bigint,
        (SELECT COUNT(*) FROM proofs)
     FROM origin_usage";

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
            let _ = answer.send(f(w));
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

    /// A relay wants nothing for itself: nobody's envelopes go first.
    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        Ok(Interests::default())
    }

    fn envelope(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        let (id, now) = (*id, self.clock.now());
        Ok(self.call(move |w| w.envelope(&id, now))?)
    }

    fn proof(&mut self, commitment: &[u8; 32]) -> Result<Option<[u8; 32]>, SyncStoreError> {
        let commitment = *commitment;
        Ok(self.call(move |w| w.proof(&commitment))?)
    }

    fn seen(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        let id = *id;
        Ok(self.call(move |w| w.seen(&id))?)
    }

    /// A relay opens nothing, so the only proofs it hands back are those of
    /// envelopes it already knows to be delivered.
    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<[u8; 32]>), SyncStoreError> {
        let now = self.clock.now();
        // The job must own its data; a batch is at most a session window.
        let items = items.to_vec();
        let origin = origin.to_owned();
        Ok(self.call(move |w| w.ingest(&items, &origin, now))?)
    }
}

/// Statements prepared once per connection: a statement sent as text costs
/// an extra round trip to prepare every time.
#[derive(Default)]
struct Statements(HashMap<&'static str, Statement>);

impl Statements {
    fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        self.0.insert(sql, s.clone());
        Ok(s)
    }
}

/// The connection thread's state.
struct Worker {
    config: postgres::Config,
    client: Option<Client>,
    statements: Statements,
    limits: RelayLimits,
}

impl Worker {
    fn open(config: postgres::Config, limits: RelayLimits) -> Result<Self, RelayStoreError> {
        let mut w = Self {
            config,
            client: None,
            statements: Statements::default(),
            limits,
        };
        w.create_schema()?;
        tracing::info!(
            database = w.config.get_dbname().unwrap_or("(default)"),
            "relay store on PostgreSQL ready"
        );
        Ok(w)
    }

    /// The connection, reconnecting if the last one broke (a restarted
    /// server, a network blip, a session timeout).
    fn parts(&mut self) -> Result<(&mut Client, &mut Statements), RelayStoreError> {
        let client = match self.client.take() {
            Some(c) if !c.is_closed() => c,
            old => {
                if old.is_some() {
                    tracing::warn!("connection to PostgreSQL lost; reconnecting");
                }
                // Prepared statements belong to the old connection.
                self.statements = Statements::default();
                let mut c = self.config.connect(NoTls)?;
                c.batch_execute(SESSION_SETTINGS)?;
                c
            }
        };
        Ok((self.client.insert(client), &mut self.statements))
    }

    fn create_schema(&mut self) -> Result<(), RelayStoreError> {
        let (client, _) = self.parts()?;
        let mut tx = client.transaction()?;
        tx.execute(LOCK, &[&SCHEMA_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS relay_schema (
                 one boolean PRIMARY KEY DEFAULT true CHECK (one),
                 version bigint NOT NULL
             )",
        )?;
        let found: Option<i64> = tx
            .query_opt("SELECT version FROM relay_schema", &[])?
            .map(|r| r.try_get(0))
            .transpose()?;
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(RelayStoreError::SchemaTooNew { found: v });
            }
            Some(v) if v == SCHEMA_VERSION => {}
            // Only a fresh database runs the DDL: on a live one even the
            // no-op `CREATE INDEX IF NOT EXISTS` would lock the table
            // against the other relays' inserts.
            _ => {
                tx.batch_execute(SCHEMA)?;
                tx.execute(
                    "INSERT INTO relay_schema (version) VALUES ($1)
                     ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
                    &[&SCHEMA_VERSION],
                )?;
                tracing::info!(version = SCHEMA_VERSION, "created the relay schema");
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn tags(&mut self, now: u64) -> Result<Vec<[u8; 8]>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPE_TAGS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&now])? {
            out.push(array(&row, 0)?);
        }
        Ok(out)
    }

    fn envelopes_with_tags(
        &mut self,
        tags: &[Vec<u8>],
        now: u64,
    ) -> Result<Vec<LocalItem>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPES_WITH_TAGS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&tags, &now])? {
            out.push(LocalItem {
                id: array(&row, 0)?,
                expires_at: uint(row.try_get(1)?),
                kind: ItemKind::Envelope {
                    tag: RoutingTag(array(&row, 2)?),
                    commitment: array(&row, 3)?,
                },
            });
        }
        Ok(out)
    }

    fn items(&mut self, now: u64) -> Result<Vec<LocalItem>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let mut items = Vec::new();
        // Streamed: a full relay holds millions of envelopes, and rows are
        // much larger than the items made from them.
        let envelopes = st.get(client, ENVELOPE_INDEX)?;
        {
            let mut rows = client.query_raw(&envelopes, [&now as &dyn ToSql])?;
            while let Some(row) = rows.next()? {
                items.push(LocalItem {
                    id: array(&row, 0)?,
                    expires_at: uint(row.try_get(1)?),
                    kind: ItemKind::Envelope {
                        tag: RoutingTag(array(&row, 2)?),
                        commitment: array(&row, 3)?,
                    },
                });
            }
        }
        let proofs = st.get(client, PROOF_INDEX)?;
        let mut rows = client.query_raw(&proofs, [&now as &dyn ToSql])?;
        while let Some(row) = rows.next()? {
            let commitment = array(&row, 0)?;
            items.push(LocalItem {
                id: proof_item_id(&commitment),
                expires_at: uint(row.try_get(1)?),
                kind: ItemKind::Proof { commitment },
            });
        }
        Ok(items)
    }

    fn envelope(&mut self, id: &[u8; 32], now: u64) -> Result<Option<Vec<u8>>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPE_BYTES)?;
        let row = client.query_opt(&stmt, &[&&id[..], &int(now)])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn proof(&mut self, commitment: &[u8; 32]) -> Result<Option<[u8; 32]>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, PROOF_SECRET)?;
        match client.query_opt(&stmt, &[&&commitment[..]])? {
            Some(row) => Ok(Some(array(&row, 0)?)),
            None => Ok(None),
        }
    }

    fn seen(&mut self, id: &[u8; 32]) -> Result<bool, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, SEEN)?;
        Ok(client.query_one(&stmt, &[&&id[..]])?.try_get(0)?)
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
        now: u64,
    ) -> Result<(Vec<Received>, Vec<[u8; 32]>), RelayStoreError> {
        let limits = self.limits;
        let (client, st) = self.parts()?;
        let mut tx = client.transaction()?;
        let lock = st.get(&mut tx, LOCK)?;
        tx.execute(&lock, &[&WRITE_LOCK])?;
        // Read once under the lock, then kept up to date here: no other
        // writer can change them until this transaction ends.
        let usage = st.get(&mut tx, USAGE_OF)?;
        let row = tx.query_one(&usage, &[&origin])?;
        let mut batch = Batch {
            tx: &mut tx,
            st,
            origin,
            now,
            limits,
            total: uint(row.try_get(0)?),
            used: uint(row.try_get(1)?),
            unmatched: None,
            inserted: Vec::new(),
            back: Vec::new(),
        };
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let r = match item {
                // The relay hands everything to everyone who asks: no budget.
                Incoming::Envelope(bytes)
                | Incoming::Copy {
                    envelope: bytes, ..
                } => batch.envelope(bytes)?,
                Incoming::Proof(secret) => batch.proof(secret)?,
            };
            if let Received::Rejected(reason) = r {
                tracing::debug!(%origin, reason, "envelope refused");
            }
            results.push(r);
        }
        let back = std::mem::take(&mut batch.back);
        tx.commit()?;
        Ok((results, back))
    }

    fn expire(&mut self, now: u64) -> Result<Expired, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let mut tx = client.transaction()?;
        let lock = st.get(&mut tx, LOCK)?;
        tx.execute(&lock, &[&WRITE_LOCK])?;
        let mut delete = |sql| -> Result<u64, RelayStoreError> {
            let stmt = st.get(&mut tx, sql)?;
            Ok(tx.execute(&stmt, &[&now])?)
        };
        let expired = Expired {
            envelopes: delete(EXPIRE_ENVELOPES)?,
            proofs: delete(EXPIRE_PROOFS)?,
            seen: delete(EXPIRE_SEEN)?,
        };
        tx.commit()?;
        if expired != Expired::default() {
            tracing::debug!(?expired, "expired relay items");
        }
        Ok(expired)
    }

    fn relay_key(&mut self, fresh: [u8; 32]) -> Result<[u8; 32], RelayStoreError> {
        let (client, _) = self.parts()?;
        // Racing relays: the first insert wins, everyone reads the winner.
        client.execute(
            "INSERT INTO relay_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&&fresh[..]],
        )?;
        let row = client.query_one("SELECT secret FROM relay_key WHERE id = 1", &[])?;
        let secret: Vec<u8> = row.try_get(0)?;
        secret
            .try_into()
            .map_err(|_| RelayStoreError::Corrupt("relay_key is not 32 bytes".into()))
    }

    fn usage(&mut self) -> Result<RelayUsage, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, USAGE)?;
        let row = client.query_one(&stmt, &[])?;
        Ok(RelayUsage {
            bytes: uint(row.try_get(0)?),
            envelopes: uint(row.try_get(1)?),
            proofs: uint(row.try_get(2)?),
        })
    }
}

/// One ingest transaction, holding the write lock.
struct Batch<'a, 't> {
    tx: &'a mut Transaction<'t>,
    st: &'a mut Statements,
    origin: &'a str,
    now: u64,
    limits: RelayLimits,
    /// Bytes held in all.
    total: u64,
    /// Bytes held from `origin`.
    used: u64,
    /// Unmatched proofs held, counted when first needed.
    unmatched: Option<u64>,
    /// Ids stored by this batch, which its own evictions must not take.
    inserted: Vec<Vec<u8>>,
    /// Proofs of envelopes that arrived although already delivered: the
    /// sender still carries them and gets the proof back.
    back: Vec<[u8; 32]>,
}

impl Batch<'_, '_> {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        self.st.get(self.tx, sql)
    }

    /// Queues the proof for `commitment`, if known, to go back to the sender.
    fn proof_back(&mut self, commitment: &[u8; 32]) -> Result<(), RelayStoreError> {
        let stmt = self.stmt(PROOF_SECRET)?;
        if let Some(row) = self.tx.query_opt(&stmt, &[&&commitment[..]])? {
            let secret: Vec<u8> = row.try_get(0)?;
            if let Ok(secret) = secret.try_into() {
                self.back.push(secret);
            }
        }
        Ok(())
    }

    /// The acceptance rules a carrier applies, in the protocol's order:
    /// decode, freshness, duplicate, hops, quotas.
    fn envelope(&mut self, bytes: &[u8]) -> Result<Received, RelayStoreError> {
        let (mut env, id) = match decode_fresh(bytes, self.now) {
            Ok(checked) => checked,
            Err(reason) => return Ok(Received::Rejected(reason)),
        };
        let header = *env.header();
        let size = env.len() as u64;
        let fits = self.used + size <= self.limits.per_origin_bytes
            && self.total + size <= self.limits.global_bytes;
        // The common case: the insert itself tells a duplicate apart.
        if header.hops > 0 && fits {
            env.set_hops(header.hops - 1);
            return self.insert(&env.encode(), &id, &header, size);
        }
        // Otherwise the order of the rules decides the answer: a duplicate
        // is a duplicate even when the relay is full or it has no hops left.
        let known = self.stmt(KNOWN)?;
        let row = self
            .tx
            .query_one(&known, &[&&id[..], &&header.commitment[..]])?;
        if row.try_get(0)? {
            self.proof_back(&header.commitment)?;
            return Ok(Received::Duplicate);
        }
        if header.hops == 0 {
            return Ok(Received::Rejected(NO_HOPS_LEFT));
        }
        if self.used + size > self.limits.per_origin_bytes {
            return Ok(Received::Rejected(QUOTA_EXCEEDED));
        }
        if !self.make_room(size)? {
            return Ok(Received::Rejected(STORE_FULL));
        }
        env.set_hops(header.hops - 1);
        self.insert(&env.encode(), &id, &header, size)
    }

    fn insert(
        &mut self,
        bytes: &[u8],
        id: &[u8; 32],
        header: &pollen_proto::envelope::Header,
        size: u64,
    ) -> Result<Received, RelayStoreError> {
        let stmt = self.stmt(INSERT_NEW)?;
        let n = self.tx.execute(
            &stmt,
            &[
                &&id[..],
                &bytes,
                &int(size),
                &int(header.expires_at),
                &&header.tag.0[..],
                &&header.commitment[..],
                &self.origin,
                &int(self.now),
            ],
        )?;
        if n == 0 {
            self.proof_back(&header.commitment)?;
            return Ok(Received::Duplicate);
        }
        self.total += size;
        self.used += size;
        self.inserted.push(id.to_vec());
        Ok(Received::Carried)
    }

    /// Evicts just enough envelopes for `size` more bytes under the global
    /// cap: other origins' first, then this origin's, soonest to expire
    /// first within each, never one this batch stored. Evicts nothing and
    /// returns false if even that would not make room.
    fn make_room(&mut self, size: u64) -> Result<bool, RelayStoreError> {
        let need = (self.total + size).saturating_sub(self.limits.global_bytes);
        let candidates = self.stmt(EVICTION_CANDIDATES)?;
        let delete = self.stmt(DELETE_IDS)?;
        // A savepoint, so a failed attempt takes its deletions back.
        let mut sp = self.tx.transaction()?;
        let (mut freed, mut freed_own, mut evicted) = (0u64, 0u64, 0usize);
        for own in [false, true] {
            while freed < need {
                let rows = sp.query(
                    &candidates,
                    &[&self.origin, &own, &self.inserted, &EVICTION_CHUNK],
                )?;
                if rows.is_empty() {
                    break;
                }
                let mut victims: Vec<Vec<u8>> = Vec::new();
                for row in &rows {
                    if freed >= need {
                        break;
                    }
                    victims.push(row.try_get(0)?);
                    let s = uint(row.try_get(1)?);
                    freed += s;
                    if own {
                        freed_own += s;
                    }
                }
                evicted += victims.len();
                sp.execute(&delete, &[&victims])?;
            }
        }
        if freed < need {
            sp.rollback()?;
            return Ok(false);
        }
        sp.commit()?;
        self.total = self.total.saturating_sub(freed);
        self.used = self.used.saturating_sub(freed_own);
        tracing::debug!(evicted, bytes = freed, "evicted envelopes to make room");
        Ok(true)
    }

    /// A delivery proof: checked only against commitments, so a forged one
    /// purges nothing.
    fn proof(&mut self, secret: &[u8; 32]) -> Result<Received, RelayStoreError> {
        let commitment = DeliveryProof(*secret).commitment();
        let known = self.stmt(PROOF_KNOWN)?;
        if self.tx.query_one(&known, &[&&commitment[..]])?.try_get(0)? {
            return Ok(Received::ProofKnown);
        }
        let purge = self.stmt(PURGE)?;
        let row = self
            .tx
            .query_one(&purge, &[&&commitment[..], &self.origin])?;
        let purged = uint(row.try_get(0)?);
        let latest: Option<i64> = row.try_get(1)?;
        self.total = self.total.saturating_sub(uint(row.try_get(2)?));
        self.used = self.used.saturating_sub(uint(row.try_get(3)?));
        let (expires_at, matched) = match latest {
            // Kept as long as any copy could still be around.
            Some(latest) => (uint(latest), true),
            None => {
                let unmatched = match self.unmatched {
                    Some(n) => n,
                    None => {
                        let count = self.stmt(UNMATCHED_PROOFS)?;
                        uint(self.tx.query_one(&count, &[])?.try_get(0)?)
                    }
                };
                self.unmatched = Some(unmatched);
                if unmatched >= MAX_UNMATCHED_PROOFS {
                    return Ok(Received::ProofKnown);
                }
                (self.now.saturating_add(DEFAULT_TTL_SECS), false)
            }
        };
        let insert = self.stmt(INSERT_PROOF)?;
        let n = self.tx.execute(
            &insert,
            &[&&commitment[..], &&secret[..], &int(expires_at), &matched],
        )?;
        if n == 0 {
            return Ok(Received::ProofKnown);
        }
        if !matched {
            self.unmatched = self.unmatched.map(|n| n + 1);
        }
        Ok(Received::Proof {
            purged: purged as usize,
            delivered: false,
        })
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
