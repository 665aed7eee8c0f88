//! Stored envelopes: insertion under quotas (the admission module's rules),
//! eviction by priority, copy budgets and expiry.

use super::{Store, StoreError, blob};
use crate::admission::{NODE_GLOBAL_BYTES, NODE_PER_ORIGIN_BYTES, room_needed, within_quota};
use pollen_proto::envelope::{Commitment, EnvelopeId, RoutingTag};
use rusqlite::{OptionalExtension, params};

/// Why this node holds an envelope; lower classes are evicted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnvelopeClass {
    /// Somebody else's envelope this node carries for strangers.
    Carried = 0,
    /// A group or channel envelope this node could read and carries on for
    /// the other members.
    Shared = 1,
    /// This node's own message, until it is delivered.
    Own = 2,
}

/// The expired envelopes' delete. The three classes are spelt out so that
/// the eviction index (class, expires_at) finds the expired: the index on
/// expiry alone went in V14, one index fewer to write per envelope.
const EXPIRE_ENVELOPES: &str =
    "DELETE FROM envelopes WHERE class IN (0, 1, 2) AND expires_at <= ?1";

impl EnvelopeClass {
    pub(super) fn from_i64(v: i64) -> Result<Self, StoreError> {
        match v {
            0 => Ok(Self::Carried),
            1 => Ok(Self::Shared),
            2 => Ok(Self::Own),
            _ => Err(StoreError::Corrupt(format!("envelope class {v}"))),
        }
    }
}

/// Storage bounds. The node's own undelivered envelopes are never evicted to
/// make room for anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// Bytes of envelopes held at most, all classes together.
    pub global_bytes: u64,
    /// Bytes of carried envelopes one origin (bundle, link, peer) may leave here.
    pub per_origin_bytes: u64,
}

impl Default for StoreLimits {
    /// The node defaults of [`crate::admission`].
    fn default() -> Self {
        Self {
            global_bytes: NODE_GLOBAL_BYTES,
            per_origin_bytes: NODE_PER_ORIGIN_BYTES,
        }
    }
}

/// An envelope as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeRecord {
    /// Content address (see the envelope module).
    pub id: EnvelopeId,
    /// The encoded envelope.
    pub bytes: Vec<u8>,
    /// Unix seconds after which it is dropped.
    pub expires_at: u64,
    /// Cleartext routing tag.
    pub tag: RoutingTag,
    /// Delivery-proof commitment.
    pub commitment: Commitment,
    /// Why it is held.
    pub class: EnvelopeClass,
    /// Copies this node may still hand on (see `crate::routing`).
    pub copies: u32,
}

/// What happened to an envelope offered to the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored; `evicted` lower-priority envelopes made room for it.
    Stored {
        /// How many envelopes were evicted.
        evicted: usize,
    },
    /// Already held.
    Duplicate,
}

/// Bytes and counts held, by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Own envelopes not yet delivered.
    pub own: (u64, u64),
    /// Shared envelopes this node can read and carries for other members.
    pub shared: (u64, u64),
    /// Envelopes carried for others.
    pub carried: (u64, u64),
}

impl Usage {
    /// Total bytes of envelopes held.
    pub fn bytes(&self) -> u64 {
        self.own.1 + self.shared.1 + self.carried.1
    }

    /// Total number of envelopes held.
    pub fn count(&self) -> u64 {
        self.own.0 + self.shared.0 + self.carried.0
    }
}

impl Store {
    /// (held, seen before, a proof for its commitment is known) in one lookup.
    pub fn envelope_state(
        &self,
        id: &EnvelopeId,
        commitment: &Commitment,
    ) -> Result<(bool, bool, bool), StoreError> {
        // The raw connection: this reads no usage count, so the ingest
        // batch's pending counts need not be written first.
        let mut st = self.conn.prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM envelopes WHERE id = ?1),
                    EXISTS(SELECT 1 FROM seen WHERE id = ?1),
                    EXISTS(SELECT 1 FROM proofs WHERE commitment = ?2)",
        )?;
        Ok(st.query_row(params![&id[..], &commitment[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?)
    }

    /// True when the envelope is held.
    pub fn has_envelope(&self, id: &EnvelopeId) -> Result<bool, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM envelopes WHERE id = ?1")?;
        Ok(st.exists([&id[..]])?)
    }

    /// Stores an envelope, enforcing the origin's quota and making room by
    /// evicting envelopes of lower priority (lower class, then soonest to expire).
    pub fn insert_envelope(
        &self,
        rec: &EnvelopeRecord,
        origin: &str,
        now: u64,
    ) -> Result<InsertOutcome, StoreError> {
        // The envelope and its counts are written together or not at all.
        if self.conn.is_autocommit() {
            return self.transaction(|s| s.insert_envelope(rec, origin, now));
        }
        // No lookup first: ingest has just looked the id up, and the insert
        // itself tells a duplicate (nothing changed). Only a refusal or an
        // eviction, which must not happen for an envelope already held, asks.
        let size = rec.bytes.len() as u64;
        let (total, used) = self.bytes_used(origin, EnvelopeClass::Carried as i64)?;
        // Only strangers' traffic counts against an origin: what this node
        // reads or sent is its own business.
        if rec.class == EnvelopeClass::Carried
            && !within_quota(used, size, self.limits.per_origin_bytes)
        {
            if self.has_envelope(&rec.id)? {
                return Ok(InsertOutcome::Duplicate);
            }
            return Err(StoreError::QuotaExceeded {
                origin: origin.to_owned(),
                used,
                quota: self.limits.per_origin_bytes,
            });
        }
        let evicted = if room_needed(total, size, self.limits.global_bytes) > 0 {
            if self.has_envelope(&rec.id)? {
                return Ok(InsertOutcome::Duplicate);
            }
            self.make_room(total, size, rec.class)?
        } else {
            0
        };
        let mut st = self.conn.prepare_cached(
            "INSERT INTO envelopes (id, bytes, size, expires_at, tag, commitment, class, origin, received_at, copies)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO NOTHING",
        )?;
        let inserted = st.execute(params![
            &rec.id[..],
            &rec.bytes,
            size as i64,
            rec.expires_at as i64,
            &rec.tag.0[..],
            &rec.commitment[..],
            rec.class as i64,
            origin,
            now as i64,
            i64::from(rec.copies.max(1)),
        ])?;
        if inserted == 0 {
            return Ok(InsertOutcome::Duplicate);
        }
        // Held again after an eviction, perhaps with another budget.
        self.unlist_copies(&rec.id);
        // What the dropped insert triggers did (schema V14), counted in
        // memory and written once before the commit (`usage_ledger`).
        self.ledger
            .borrow_mut()
            .add(origin, rec.class as i64, size as i64);
        Ok(InsertOutcome::Stored { evicted })
    }

    /// Frees `size` bytes under the global cap, evicting only envelopes whose
    /// class ranks below `class` (and, for shared envelopes, older ones of the
    /// same class). Own envelopes are never evicted.
    fn make_room(
        &self,
        mut used: u64,
        size: u64,
        class: EnvelopeClass,
    ) -> Result<usize, StoreError> {
        let cap = self.limits.global_bytes;
        let max_class = match class {
            EnvelopeClass::Own => EnvelopeClass::Shared,
            other => other,
        };
        let mut victims = Vec::new();
        {
            let mut st = self.conn().prepare_cached(
                "SELECT id, size FROM envelopes WHERE class <= ?1
                 ORDER BY class ASC, expires_at ASC",
            )?;
            let mut rows = st.query([max_class as i64])?;
            while room_needed(used, size, cap) > 0 {
                let Some(row) = rows.next()? else { break };
                let id: Vec<u8> = row.get(0)?;
                let s: i64 = row.get(1)?;
                victims.push(id);
                used = used.saturating_sub(s.max(0) as u64);
            }
        }
        let needed = room_needed(used, size, cap);
        if needed > 0 {
            return Err(StoreError::Full { needed });
        }
        let mut del = self
            .conn()
            .prepare_cached("DELETE FROM envelopes WHERE id = ?1")?;
        for id in &victims {
            del.execute([id])?;
        }
        if !victims.is_empty() {
            tracing::debug!(evicted = victims.len(), "evicted envelopes to make room");
        }
        Ok(victims.len())
    }

    /// Bytes and counts held by class.
    pub fn usage(&self) -> Result<Usage, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT class, count, bytes FROM usage_total")?;
        let mut rows = st.query([])?;
        let mut u = Usage::default();
        while let Some(row) = rows.next()? {
            let class = EnvelopeClass::from_i64(row.get(0)?)?;
            let pair = (
                row.get::<_, i64>(1)?.max(0) as u64,
                row.get::<_, i64>(2)?.max(0) as u64,
            );
            match class {
                EnvelopeClass::Own => u.own = pair,
                EnvelopeClass::Shared => u.shared = pair,
                EnvelopeClass::Carried => u.carried = pair,
            }
        }
        Ok(u)
    }

    /// Every envelope held and not expired at `now`, in insertion-independent
    /// id order (what a stranger may be offered).
    pub fn envelopes(&self, now: u64) -> Result<Vec<EnvelopeRecord>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, bytes, expires_at, tag, commitment, class, copies FROM envelopes
             WHERE expires_at > ?1 ORDER BY id",
        )?;
        let rows = st.query_map([now as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, bytes, expires_at, tag, commitment, class, copies) = row?;
            out.push(EnvelopeRecord {
                id: EnvelopeId(blob(id)?),
                bytes,
                expires_at: expires_at.max(0) as u64,
                tag: RoutingTag(blob(tag)?),
                commitment: Commitment(blob(commitment)?),
                class: EnvelopeClass::from_i64(class)?,
                copies: copies.clamp(1, i64::from(u32::MAX)) as u32,
            });
        }
        Ok(out)
    }

    /// The bytes of one held envelope.
    pub fn envelope_bytes(&self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT bytes FROM envelopes WHERE id = ?1")?;
        Ok(st.query_row([&id[..]], |r| r.get(0)).optional()?)
    }

    /// Drops envelopes, seen ids and proofs that expired at `now`.
    pub fn expire(&self, now: u64) -> Result<usize, StoreError> {
        let now = now as i64;
        // Cached: a node (or a simulator of thousands) expires often, and
        // compiling the delete with its usage triggers costs more than running it.
        let n = self
            .conn()
            .prepare_cached(EXPIRE_ENVELOPES)?
            .execute([now])?;
        self.conn()
            .prepare_cached("DELETE FROM seen WHERE expires_at <= ?1")?
            .execute([now])?;
        self.conn()
            .prepare_cached("DELETE FROM proofs WHERE expires_at <= ?1")?
            .execute([now])?;
        self.release_proofs(now.max(0) as u64)?;
        Ok(n)
    }

    /// Envelopes of one class not expired at `now`.
    pub fn envelopes_of_class(
        &self,
        class: EnvelopeClass,
        now: u64,
    ) -> Result<Vec<EnvelopeRecord>, StoreError> {
        Ok(self
            .envelopes(now)?
            .into_iter()
            .filter(|r| r.class == class)
            .collect())
    }

    /// Changes why an envelope is held.
    pub fn set_envelope_class(
        &self,
        id: &EnvelopeId,
        class: EnvelopeClass,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE envelopes SET class = ?2 WHERE id = ?1",
            params![&id[..], class as i64],
        )?;
        Ok(())
    }

    /// The copy budget of a held envelope (None if not held).
    pub fn envelope_copies(&self, id: &EnvelopeId) -> Result<Option<u32>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT copies FROM envelopes WHERE id = ?1")?;
        let copies: Option<i64> = st.query_row([&id[..]], |r| r.get(0)).optional()?;
        // 0: the last copy moved on (encounter routing); kept for the recipient.
        Ok(copies.map(|c| c.clamp(0, i64::from(u32::MAX)) as u32))
    }

    /// Runs `f`, budget spends as a session hands copies over, in one
    /// transaction that does not wait for the disk: a wait for the disk at
    /// every hand-over (a synchronous commit) held a sender to a few hundred
    /// envelopes a second. The WAL keeps the writes in order and the next
    /// durable commit (every ingest is one) carries them to disk. A power
    /// cut before that forgets the spends, so a few more copies travel than
    /// the budget meant; nothing acknowledged is lost. Inside a caller's
    /// transaction `f` just runs: that commit decides (and SQLite refuses to
    /// change the level there).
    pub fn spend_without_waiting<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.conn().is_autocommit() {
            return f(self);
        }
        let sync = |level: &str| -> Result<(), StoreError> {
            self.conn()
                .prepare_cached(&format!("PRAGMA synchronous = {level}"))?
                .execute([])?;
            Ok(())
        };
        sync("NORMAL")?;
        let done = self.transaction(f);
        // Restored whatever happened: every other write stays durable.
        sync("FULL")?;
        done
    }

    /// Sets the copy budget of a held envelope as a session hands a copy
    /// over, without waiting for the disk ([`Store::spend_without_waiting`]).
    pub fn spend_envelope_copies(&self, id: &EnvelopeId, copies: u32) -> Result<(), StoreError> {
        self.spend_without_waiting(|s| s.set_envelope_copies(id, copies))
    }

    /// Gives back copies handed to a peer that never acknowledged them (the
    /// link went); nothing when the envelope is no longer held.
    pub fn refund_envelope_copies(&self, id: &EnvelopeId, copies: u32) -> Result<(), StoreError> {
        self.unlist_copies(id);
        self.conn()
            .prepare_cached("UPDATE envelopes SET copies = copies + ?2 WHERE id = ?1")?
            .execute(params![&id[..], i64::from(copies)])?;
        Ok(())
    }

    /// Sets the copy budget of a held envelope.
    pub fn set_envelope_copies(&self, id: &EnvelopeId, copies: u32) -> Result<(), StoreError> {
        self.unlist_copies(id);
        let mut st = self
            .conn()
            .prepare_cached("UPDATE envelopes SET copies = ?2 WHERE id = ?1")?;
        st.execute(params![&id[..], i64::from(copies)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiring_finds_the_expired_through_the_eviction_index() {
        let s = Store::in_memory(StoreLimits::default()).unwrap();
        let plan: Vec<String> = s
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {EXPIRE_ENVELOPES}"))
            .unwrap()
            .query_map([0i64], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("INDEX envelopes_evict")),
            "{plan:?}"
        );
    }

    fn rec(id: u8, size: usize, class: EnvelopeClass, expires_at: u64) -> EnvelopeRecord {
        EnvelopeRecord {
            id: EnvelopeId([id; 32]),
            bytes: vec![0; size],
            expires_at,
            tag: RoutingTag([0; 8]),
            commitment: Commitment([id; 32]),
            class,
            copies: 1,
        }
    }

    fn store(global: u64, per_origin: u64) -> Store {
        Store::in_memory(StoreLimits {
            global_bytes: global,
            per_origin_bytes: per_origin,
        })
        .unwrap()
    }

    #[test]
    fn own_undelivered_survive_a_flood_of_carried() {
        let s = store(1000, 1000);
        s.insert_envelope(&rec(1, 400, EnvelopeClass::Own, 100), "local", 0)
            .unwrap();
        for i in 10..40 {
            let _ = s.insert_envelope(&rec(i, 256, EnvelopeClass::Carried, 50 + i as u64), "x", 0);
        }
        assert!(s.has_envelope(&EnvelopeId([1; 32])).unwrap());
        assert!(s.usage().unwrap().bytes() <= 1000);
        // The newest carried ones pushed out the ones expiring first.
        assert!(!s.has_envelope(&EnvelopeId([10; 32])).unwrap());
        assert!(s.has_envelope(&EnvelopeId([39; 32])).unwrap());
        // Own messages can push carried ones out, never the other way round.
        s.insert_envelope(&rec(2, 400, EnvelopeClass::Own, 100), "local", 0)
            .unwrap();
        let err = s
            .insert_envelope(&rec(3, 400, EnvelopeClass::Own, 100), "local", 0)
            .unwrap_err();
        assert!(matches!(err, StoreError::Full { .. }));
        assert!(
            s.has_envelope(&EnvelopeId([1; 32])).unwrap()
                && s.has_envelope(&EnvelopeId([2; 32])).unwrap()
        );
    }

    #[test]
    fn spending_copies_writes_the_budget_and_keeps_commits_durable() {
        let s = store(10_000, 10_000);
        s.insert_envelope(&rec(1, 256, EnvelopeClass::Carried, 100), "a", 0)
            .unwrap();
        s.spend_envelope_copies(&EnvelopeId([1; 32]), 8).unwrap();
        assert_eq!(s.envelope_copies(&EnvelopeId([1; 32])).unwrap(), Some(8));
        let level: i64 = s
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "synchronous is FULL again");
        // Inside a transaction too (the level cannot change there).
        s.transaction(|s| s.spend_envelope_copies(&EnvelopeId([1; 32]), 4))
            .unwrap();
        assert_eq!(s.envelope_copies(&EnvelopeId([1; 32])).unwrap(), Some(4));
    }

    #[test]
    fn per_origin_quota_is_enforced_and_usage_tracks_deletes() {
        let s = store(10_000, 600);
        s.insert_envelope(&rec(1, 256, EnvelopeClass::Carried, 100), "a", 0)
            .unwrap();
        s.insert_envelope(&rec(2, 256, EnvelopeClass::Carried, 100), "a", 0)
            .unwrap();
        assert!(matches!(
            s.insert_envelope(&rec(3, 256, EnvelopeClass::Carried, 100), "a", 0),
            Err(StoreError::QuotaExceeded { .. })
        ));
        s.insert_envelope(&rec(3, 256, EnvelopeClass::Carried, 100), "b", 0)
            .unwrap();
        assert_eq!(
            s.insert_envelope(&rec(3, 256, EnvelopeClass::Carried, 100), "b", 0)
                .unwrap(),
            InsertOutcome::Duplicate
        );
        assert_eq!(s.usage().unwrap().carried, (3, 768));
        assert_eq!(s.purge_commitment(&Commitment([1; 32])).unwrap(), 1);
        assert!(s.was_seen(&EnvelopeId([1; 32])).unwrap());
        assert_eq!(s.usage().unwrap().carried, (2, 512));
        assert_eq!(s.expire(100).unwrap(), 2);
        assert_eq!(s.usage().unwrap().count(), 0);
    }

    #[test]
    fn d7_origins_seen_once_leave_no_usage_row_once_their_envelopes_go() {
        let s = store(2_000, 2_000);
        for i in 0..50u8 {
            let r = rec(i, 256, EnvelopeClass::Carried, 100 + u64::from(i));
            s.insert_envelope(&r, &format!("origin {i}"), 0).unwrap();
        }
        let rows = |s: &Store| -> u64 {
            s.conn()
                .query_row("SELECT COUNT(*) FROM usage", [], |r| r.get::<_, i64>(0))
                .unwrap() as u64
        };
        // Seven 256-byte envelopes fit; the 43 evicted origins left nothing.
        assert_eq!(s.usage().unwrap().carried.0, 7);
        assert_eq!(rows(&s), 7);
        s.set_envelope_class(&EnvelopeId([49; 32]), EnvelopeClass::Shared)
            .unwrap();
        assert_eq!(rows(&s), 7, "a class change moves the row");
        assert_eq!(s.expire(1_000).unwrap(), 7);
        assert_eq!(rows(&s), 0);
    }
}
