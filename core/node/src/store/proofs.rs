//! Delivery proofs, replay protection (ids seen before) and the outbox that
//! tracks which of this node's messages were delivered.

use super::{Store, StoreError, blob};
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId};
use rusqlite::{OptionalExtension, params};

impl Store {
    /// True when the envelope was delivered, opened or purged before.
    pub fn was_seen(&self, id: &EnvelopeId) -> Result<bool, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM seen WHERE id = ?1")?;
        Ok(st.exists([&id[..]])?)
    }

    /// Whether an item id (an envelope's or a chunk's) is held here or
    /// was seen: a session need not ask a neighbour for it.
    pub fn holds_or_saw(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM envelopes WHERE id = ?1)
                 OR EXISTS(SELECT 1 FROM seen WHERE id = ?1)
                 OR EXISTS(SELECT 1 FROM chunks WHERE id = ?1)",
        )?;
        Ok(st.query_row([&id[..]], |r| r.get(0))?)
    }

    /// Remembers an id until `expires_at`, so a replay is recognised.
    pub fn mark_seen(&self, id: &EnvelopeId, expires_at: u64) -> Result<(), StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO seen (id, expires_at) VALUES (?1, ?2)")?;
        st.execute(params![&id[..], expires_at as i64])?;
        Ok(())
    }

    /// The secret of the proof for `commitment`, if known and free to leave
    /// this node at `now` (a proof of ours may be held back: `crate::receipts`).
    pub fn proof_secret(
        &self,
        commitment: &Commitment,
        now: u64,
    ) -> Result<Option<DeliveryProof>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT secret FROM proofs WHERE commitment = ?1 AND release_at <= ?2",
        )?;
        match st
            .query_row(params![&commitment[..], db_time(now)], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
        {
            Some(s) => Ok(Some(DeliveryProof(blob(s)?))),
            None => Ok(None),
        }
    }

    /// Removes every envelope whose commitment is `commitment` (a valid
    /// delivery proof was seen) and remembers their ids as seen.
    pub fn purge_commitment(&self, commitment: &Commitment) -> Result<usize, StoreError> {
        let mut seen = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO seen (id, expires_at)
             SELECT id, expires_at FROM envelopes WHERE commitment = ?1",
        )?;
        seen.execute([&commitment[..]])?;
        let mut del = self
            .conn()
            .prepare_cached("DELETE FROM envelopes WHERE commitment = ?1")?;
        Ok(del.execute([&commitment[..]])?)
    }

    /// Stores a delivery proof; `matched` when it purged or delivered
    /// something held here; offered to no one before `release_at` (0 for a
    /// proof learnt from others). Returns false when it was already known.
    pub fn insert_proof(
        &self,
        commitment: &Commitment,
        secret: &DeliveryProof,
        expires_at: u64,
        matched: bool,
        release_at: u64,
    ) -> Result<bool, StoreError> {
        let mut st = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO proofs (commitment, secret, expires_at, matched, release_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        Ok(st.execute(params![
            &commitment[..],
            &secret[..],
            expires_at as i64,
            matched,
            db_time(release_at)
        ])? == 1)
    }

    /// Lets go of the proofs of ours whose release time came by `now`: the
    /// copies held while they waited (as a carrier holds them) are dropped,
    /// and the proofs become ordinary ones. Returns the copies dropped.
    pub fn release_proofs(&self, now: u64) -> Result<usize, StoreError> {
        let now = db_time(now);
        let dropped = self
            .conn()
            .prepare_cached(
                "DELETE FROM envelopes WHERE commitment IN
                 (SELECT commitment FROM proofs WHERE release_at BETWEEN 1 AND ?1)",
            )?
            .execute([now])?;
        self.conn()
            .prepare_cached("UPDATE proofs SET release_at = 0 WHERE release_at BETWEEN 1 AND ?1")?
            .execute([now])?;
        Ok(dropped)
    }

    /// The earliest time after `now` at which a held-back proof of ours is
    /// released, if any: the runtime's cue to offer it.
    pub fn next_proof_release(&self, now: u64) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = self.conn().query_row(
            "SELECT MIN(release_at) FROM proofs WHERE release_at > ?1 AND release_at < ?2",
            params![db_time(now), i64::MAX],
            |r| r.get(0),
        )?;
        Ok(v.map(|v| v.max(0) as u64))
    }

    /// True when a proof for `commitment` is known (the envelope was delivered).
    pub fn has_proof(&self, commitment: &Commitment) -> Result<bool, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM proofs WHERE commitment = ?1")?;
        Ok(st.exists([&commitment[..]])?)
    }

    /// Every proof not yet expired at `now` and free to leave, as (secret,
    /// expires_at).
    pub fn proofs(&self, now: u64) -> Result<Vec<(DeliveryProof, u64)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT secret, expires_at FROM proofs WHERE expires_at > ?1 AND release_at <= ?1
             ORDER BY commitment",
        )?;
        let rows = st.query_map([now as i64], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (secret, exp) = row?;
            out.push((DeliveryProof(blob(secret)?), exp.max(0) as u64));
        }
        Ok(out)
    }

    /// Expiry of the held envelope with this commitment, if any.
    pub fn commitment_expiry(&self, commitment: &Commitment) -> Result<Option<u64>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT MAX(expires_at) FROM envelopes WHERE commitment = ?1")?;
        let v: Option<i64> = st
            .query_row([&commitment[..]], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(v.map(|v| v.max(0) as u64))
    }

    /// Number of proofs held that matched nothing here.
    pub fn unmatched_proof_count(&self) -> Result<u64, StoreError> {
        // Kept by triggers (schema V12): counting the rows cost a scan of
        // up to the cap at every unmatched proof received.
        let n: i64 = self
            .conn()
            .prepare_cached("SELECT unmatched FROM proof_total")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Every proof held, matched or not.
    pub fn proof_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM proofs", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Records a direct message this node sent, for delivery tracking.
    pub fn insert_outbox(
        &self,
        commitment: &Commitment,
        envelope: &EnvelopeId,
        conversation: &crate::conversation::ConversationId,
        message: &crate::conversation::MessageId,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO outbox (commitment, envelope, conversation, message)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                &commitment[..],
                &envelope[..],
                &conversation[..],
                &message[..]
            ],
        )?;
        Ok(())
    }

    /// Marks the outbox entry with this commitment delivered; returns true when
    /// it was one of ours and not delivered before.
    pub fn mark_delivered(&self, commitment: &Commitment, at: u64) -> Result<bool, StoreError> {
        let mut st = self.conn().prepare_cached(
            "UPDATE outbox SET delivered_at = ?2 WHERE commitment = ?1 AND delivered_at IS NULL",
        )?;
        Ok(st.execute(params![&commitment[..], at as i64])? == 1)
    }

    /// When this node learnt that its direct message with this commitment was
    /// delivered (unix seconds), if it was one and it has.
    pub fn delivered_at(&self, commitment: &Commitment) -> Result<Option<u64>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT delivered_at FROM outbox WHERE commitment = ?1")?;
        let at: Option<Option<i64>> = st.query_row([&commitment[..]], |r| r.get(0)).optional()?;
        Ok(at.flatten().map(|t| t.max(0) as u64))
    }

    /// Counts one more neighbour holding each of these envelopes that is one
    /// of this node's undelivered direct messages; returns those messages.
    /// Envelopes carried for others match nothing and change nothing.
    pub fn note_carried(
        &self,
        ids: &[EnvelopeId],
    ) -> Result<Vec<super::conversations::MessageRef>, StoreError> {
        let conn = self.conn();
        // Most envelopes handed over are carried for others: a lookup tells
        // them apart at a fraction of the cost of an UPDATE ... RETURNING.
        let mut own = conn.prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM outbox WHERE envelope = ?1 AND delivered_at IS NULL)",
        )?;
        let mut st = conn.prepare_cached(
            "UPDATE outbox SET carriers = carriers + 1
             WHERE envelope = ?1 AND delivered_at IS NULL
             RETURNING conversation, message",
        )?;
        let mut out = Vec::new();
        for id in ids {
            if !own.query_row([&id[..]], |r| r.get::<_, bool>(0))? {
                continue;
            }
            let rows = st.query_map([&id[..]], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (c, m) = row?;
                out.push((
                    crate::conversation::ConversationId(blob(c)?),
                    crate::conversation::MessageId(blob(m)?),
                ));
            }
        }
        Ok(out)
    }

    /// The (conversation, message) of this node's direct message with this
    /// commitment, if it is one.
    pub fn outbox_message(
        &self,
        commitment: &Commitment,
    ) -> Result<Option<super::conversations::MessageRef>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT conversation, message FROM outbox WHERE commitment = ?1")?;
        let row = st
            .query_row([&commitment[..]], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        Ok(row.and_then(|(c, m)| {
            Some((
                crate::conversation::ConversationId(c.try_into().ok()?),
                crate::conversation::MessageId(m.try_into().ok()?),
            ))
        }))
    }

    /// (pending, delivered) counts of this node's direct messages.
    pub fn outbox_counts(&self) -> Result<(u64, u64), StoreError> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(delivered_at IS NULL), 0), COALESCE(SUM(delivered_at IS NOT NULL), 0) FROM outbox",
            [],
            |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get::<_, i64>(1)?.max(0) as u64)),
        )?)
    }
}

/// A time as SQLite stores it: u64::MAX ("never") becomes i64::MAX.
fn db_time(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}
