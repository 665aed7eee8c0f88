//! SQLite persistence: envelopes with quotas and eviction, contacts, groups,
//! conversation documents and the projection the UI reads.
//!
//! One [`Store`] wraps one connection in WAL mode with `synchronous=FULL`, so
//! whatever a committed call reported survives a crash or power loss.

#[cfg(test)]
mod checkpoint_tests;
mod contacts;
mod conversations;
mod docs;
mod envelopes;
mod groups;
mod proofs;
mod schema;
mod sync_index;
#[cfg(test)]
mod totals_tests;
mod usage_ledger;

pub use contacts::{Contact, KeyChange};
pub use conversations::{ConversationKind, ConversationRow, MessageRow, ProjectedMessage};
pub use docs::DocRow;
pub use envelopes::{EnvelopeClass, EnvelopeRecord, InsertOutcome, StoreLimits, Usage};
pub use groups::GroupRow;
pub use sync_index::EnvelopeIndex;

use rusqlite::{Connection, OptionalExtension, params};
use std::cell::RefCell;
use std::path::Path;
use thiserror::Error;

/// Prepared statements a store keeps (more than the store has, so none is
/// ever re-parsed).
const STATEMENT_CACHE: usize = 128;

/// WAL pages after which a commit copies the log into the database itself
/// (SQLite's automatic checkpoint; its default is 1,000). Running nodes
/// checkpoint when no session is running ([`Store::checkpoint`]), so this
/// is only the bound for a long busy spell: a sync's commits do not stop to
/// copy 4 MB every thousand pages, and an index page rewritten by every
/// commit is copied once per checkpoint, not once per thousand pages.
const WAL_BACKSTOP_PAGES: i64 = 8192;

/// Bytes the WAL file is cut back to once a checkpoint has emptied it, so a
/// burst does not leave 32 MB on a phone's disk.
const WAL_KEPT_BYTES: i64 = 4 << 20;

/// What a checkpoint found and did ([`Store::checkpoint`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Pages the WAL held.
    pub wal_pages: u64,
    /// Pages of it now copied into the database.
    pub copied: u64,
}

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error (I/O, corruption, constraint).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The envelope's origin already holds its quota.
    #[error("quota for origin {origin} is full ({used} of {quota} bytes)")]
    QuotaExceeded {
        /// The origin (bundle, link or peer) that sent it.
        origin: String,
        /// Bytes that origin already holds here.
        used: u64,
        /// Its quota.
        quota: u64,
    },
    /// No room even after evicting everything of lower priority.
    #[error("store is full: {needed} more bytes needed and nothing of lower priority to evict")]
    Full {
        /// Bytes that could not be made free.
        needed: u64,
    },
    /// A stored value does not have the shape this build writes.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The node's database.
pub struct Store {
    conn: Connection,
    limits: StoreLimits,
    /// Usage counts of the open transaction's inserts, written before commit.
    ledger: RefCell<usage_ledger::UsageLedger>,
    /// Copy budgets as the last full envelope listing read them, each
    /// dropped when this store writes that envelope's budget or stores it
    /// again ([`Store::listed_envelope_copies`]).
    listed_copies: RefCell<std::collections::HashMap<pollen_proto::envelope::EnvelopeId, u32>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, limits: StoreLimits) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Self::setup(conn, limits)
    }

    /// An in-memory store, for tests and the simulator.
    pub fn in_memory(limits: StoreLimits) -> Result<Store, StoreError> {
        Self::setup(Connection::open_in_memory()?, limits)
    }

    fn setup(mut conn: Connection, limits: StoreLimits) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL lets a reader (the UI, `pollen status`) run beside a writer;
        // FULL makes every commit durable before we report it.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEPT_BYTES)?;
        // The store has some sixty cached statements; rusqlite keeps sixteen
        // by default, so a sync session re-parsed its SQL over and over.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            limits,
            ledger: RefCell::default(),
            listed_copies: RefCell::default(),
        })
    }

    /// The limits this store enforces.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// Replaces the limits (e.g. from settings).
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.limits = limits;
    }

    /// SQLite's `data_version`: changes whenever another connection (another
    /// `pollen` process on the same data directory) commits.
    pub fn data_version(&self) -> Result<u64, StoreError> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(v.max(0) as u64)
    }

    /// Runs `f` in one transaction: all of it is committed, or none of it.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        // Cached statements: a busy node (or a simulator) opens thousands of
        // transactions, and parsing BEGIN/COMMIT each time showed in profiles.
        let run = |sql: &str| -> Result<(), StoreError> {
            self.conn.prepare_cached(sql)?.execute([])?;
            Ok(())
        };
        run("BEGIN IMMEDIATE")?;
        self.ledger.borrow_mut().reset();
        let result = f(self).and_then(|v| {
            self.settle_usage()?;
            Ok(v)
        });
        match result {
            Ok(v) => {
                run("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                self.ledger.borrow_mut().reset();
                // Rolling back can only fail if the connection is gone; the
                // original error is the one worth reporting.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Reads a value from the key-value settings table.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a value to the key-value settings table.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Writes `value` under `new_key` and erases `old_key` in one
    /// transaction, its bytes overwritten in the file (`secure_delete`, then
    /// a checkpoint that moves the overwritten pages out of the WAL): for a
    /// secret that must not linger after it is sealed.
    pub fn erase_meta_replacing(
        &self,
        old_key: &str,
        new_key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let done = self.transaction(|s| {
            s.set_meta(new_key, value)?;
            s.conn
                .execute("DELETE FROM meta WHERE key = ?1", [old_key])?;
            Ok::<_, StoreError>(())
        });
        let checkpoint = done.and_then(|()| {
            Ok(self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?)
        });
        // Off again: the ingest path deletes often and need not pay for it.
        self.conn.pragma_update(None, "secure_delete", "OFF")?;
        checkpoint
    }

    /// Copies what the WAL holds into the database without waiting for
    /// readers (a passive checkpoint). Commits are durable in the WAL
    /// already; this keeps the log short, off the path of a running sync.
    pub fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let (log, copied): (i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(1)?, r.get(2)?))
                })?;
        // -1 each for a database not in WAL mode (in memory).
        Ok(Checkpoint {
            wal_pages: log.max(0) as u64,
            copied: copied.max(0) as u64,
        })
    }

    /// Runs SQLite's own consistency check; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(result))
        }
    }

    /// Size of the database file(s) in bytes, as SQLite accounts for them.
    pub fn file_bytes(&self) -> Result<u64, StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages * size) as u64)
    }

    /// The connection, for any SQL but the carrier's ingest: the usage
    /// counts of the open transaction are written first, so that triggers
    /// and readers see them (`usage_ledger`).
    pub(crate) fn conn(&self) -> &Connection {
        self.settle_before_other_sql();
        &self.conn
    }
}

/// Reads a fixed-size blob column, reporting a wrong size as corruption.
pub(crate) fn blob<const N: usize>(v: Vec<u8>) -> Result<[u8; N], StoreError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::Corrupt(format!("expected {N} bytes, found {}", v.len())))
}
