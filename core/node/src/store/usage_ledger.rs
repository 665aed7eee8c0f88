//! The usage counts of envelopes inserted in the open transaction, kept in
//! memory and written to `usage` and `usage_total` once, before the commit.
//!
//! Two upserts per envelope were a fifth of a carrier's ingest, and reading
//! the totals back for the quota check another tenth; a batch of a thousand
//! envelopes from one origin now writes two rows. The counts stay exact:
//! everything else that reads or changes envelopes or counts goes through
//! `Store::conn`, which writes the pending counts first (so delete and update triggers, and every reader,
//! see them), and a rollback drops them with the inserts they counted.

use super::{Store, StoreError};
use rusqlite::params;
use std::collections::HashMap;

/// Pending counts and the last totals read, for one transaction.
#[derive(Debug, Default)]
pub(super) struct UsageLedger {
    /// (origin, class) → (bytes, count) inserted and not yet written.
    pending: HashMap<(String, i64), (i64, i64)>,
    /// The written totals as last read, valid until other SQL runs.
    read: Option<ReadTotals>,
    /// A write of the pending counts that failed where no error could be
    /// returned (`Store::conn`); the commit reports it and rolls back.
    failed: Option<String>,
}

/// Written totals: all classes, and one origin's carried bytes.
#[derive(Debug)]
struct ReadTotals {
    total: i64,
    origin: String,
    carried: i64,
}

impl UsageLedger {
    /// Counts an inserted envelope.
    pub(super) fn add(&mut self, origin: &str, class: i64, bytes: i64) {
        let key = (origin.to_owned(), class);
        let entry = self.pending.entry(key).or_insert((0, 0));
        entry.0 += bytes;
        entry.1 += 1;
    }

    /// Forgets everything: a transaction starts or was rolled back.
    pub(super) fn reset(&mut self) {
        *self = Self::default();
    }

    fn pending_bytes(&self, origin: &str, class: i64) -> (i64, i64) {
        let all = self.pending.values().map(|(b, _)| b).sum();
        let mine = self
            .pending
            .iter()
            .filter(|((o, c), _)| o == origin && *c == class)
            .map(|(_, (b, _))| b)
            .sum();
        (all, mine)
    }
}

impl Store {
    /// (bytes held in all, carried bytes held from `origin`), counting what
    /// the open transaction inserted.
    pub(super) fn bytes_used(&self, origin: &str, carried: i64) -> Result<(u64, u64), StoreError> {
        let known = {
            let ledger = self.ledger.borrow();
            ledger
                .read
                .as_ref()
                .filter(|r| r.origin == origin)
                .map(|r| (r.total, r.carried))
        };
        let (total, from_origin) = match known {
            Some(k) => k,
            None => {
                // Two lookups of a few rows each: the cost is the same with
                // one origin held or a million (schema V12).
                let mut st = self.conn.prepare_cached(
                    "SELECT (SELECT COALESCE(SUM(bytes), 0) FROM usage_total),
                            COALESCE((SELECT bytes FROM usage WHERE origin = ?1 AND class = ?2), 0)",
                )?;
                let read: (i64, i64) =
                    st.query_row(params![origin, carried], |r| Ok((r.get(0)?, r.get(1)?)))?;
                self.ledger.borrow_mut().read = Some(ReadTotals {
                    total: read.0,
                    origin: origin.to_owned(),
                    carried: read.1,
                });
                read
            }
        };
        let (pending_all, pending_mine) = self.ledger.borrow().pending_bytes(origin, carried);
        Ok((
            (total + pending_all).max(0) as u64,
            (from_origin + pending_mine).max(0) as u64,
        ))
    }

    /// Writes the pending counts (one upsert per origin and class, one per
    /// class for the totals) and forgets the totals read.
    pub(super) fn settle_usage(&self) -> Result<(), StoreError> {
        let mut ledger = self.ledger.borrow_mut();
        ledger.read = None;
        if let Some(e) = ledger.failed.take() {
            return Err(StoreError::Corrupt(format!(
                "usage counts could not be written: {e}"
            )));
        }
        if ledger.pending.is_empty() {
            return Ok(());
        }
        let mut by_class: HashMap<i64, (i64, i64)> = HashMap::new();
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO usage (origin, class, bytes, count) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (origin, class) DO UPDATE
                 SET bytes = bytes + excluded.bytes, count = count + excluded.count",
            )?;
            for ((origin, class), (bytes, count)) in &ledger.pending {
                st.execute(params![origin, class, bytes, count])?;
                let c = by_class.entry(*class).or_insert((0, 0));
                c.0 += bytes;
                c.1 += count;
            }
        }
        let mut st = self.conn.prepare_cached(
            "INSERT INTO usage_total (class, bytes, count) VALUES (?1, ?2, ?3)
             ON CONFLICT (class) DO UPDATE
             SET bytes = bytes + excluded.bytes, count = count + excluded.count",
        )?;
        for (class, (bytes, count)) in by_class {
            st.execute(params![class, bytes, count])?;
        }
        ledger.pending.clear();
        Ok(())
    }

    /// Settles before other SQL runs, where an error cannot be returned:
    /// it is kept for the commit, which then rolls everything back.
    pub(super) fn settle_before_other_sql(&self) {
        let busy = {
            let ledger = self.ledger.borrow();
            !ledger.pending.is_empty() || ledger.read.is_some()
        };
        if busy && let Err(e) = self.settle_usage() {
            self.ledger.borrow_mut().failed = Some(e.to_string());
        }
    }
}
