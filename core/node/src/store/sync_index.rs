//! What a sync session offers: the index of held envelopes and proofs
//! (ids, expiries, tags, commitments), without the envelope bytes.

use super::{Store, StoreError, blob};
use pollen_proto::envelope::{Commitment, EnvelopeId, RoutingTag};
use rusqlite::params;

/// A held envelope's header fields, for sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeIndex {
    /// Content address.
    pub id: EnvelopeId,
    /// Expiry, unix seconds.
    pub expires_at: u64,
    /// Routing tag.
    pub tag: RoutingTag,
    /// Delivery-proof commitment.
    pub commitment: Commitment,
}

impl Store {
    /// What a sync session offers: (id, expires_at, tag, commitment) of every
    /// envelope held and not expired at `now`, without the bytes.
    pub fn envelope_index(&self, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        self.index_where("expires_at > ?1", now)
    }

    /// The unexpired envelopes of this node's own messages still held
    /// (the eviction index finds them by class).
    pub fn own_envelope_index(&self, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        self.index_where("class = 2 AND expires_at > ?1", now)
    }

    fn index_where(&self, filter: &str, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT id, expires_at, tag, commitment FROM envelopes WHERE {filter}"
        ))?;
        let rows = st.query_map([now as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, expires_at, tag, commitment) = row?;
            out.push(EnvelopeIndex {
                id: EnvelopeId(blob(id)?),
                expires_at: expires_at.max(0) as u64,
                tag: RoutingTag(blob(tag)?),
                commitment: Commitment(blob(commitment)?),
            });
        }
        Ok(out)
    }

    /// Builds the lookup by routing tag that a relay's sessions use
    /// ([`Store::envelope_tags`], [`Store::envelope_index_for_tag`]); a
    /// phone does without it (migration V10). Idempotent; the first call on
    /// a large store takes one pass over the envelopes.
    pub fn serve_as_relay(&self) -> Result<(), StoreError> {
        self.conn().execute_batch(super::schema::RELAY_TAG_INDEX)?;
        Ok(())
    }

    /// Whether the relay's tag index is present.
    pub fn has_relay_index(&self) -> Result<bool, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'envelopes_by_tag'",
            [],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Distinct routing tags of envelopes held and not expired at `now`.
    pub fn envelope_tags(&self, now: u64) -> Result<Vec<RoutingTag>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT DISTINCT tag FROM envelopes WHERE expires_at > ?1")?;
        let rows = st.query_map([now as i64], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(RoutingTag(blob(row?)?));
        }
        Ok(out)
    }

    /// Index entries of envelopes with routing tag `tag`, not expired at `now`.
    pub fn envelope_index_for_tag(
        &self,
        tag: &RoutingTag,
        now: u64,
    ) -> Result<Vec<EnvelopeIndex>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, expires_at, commitment FROM envelopes WHERE tag = ?1 AND expires_at > ?2",
        )?;
        let rows = st.query_map(params![&tag.0[..], now as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, expires_at, commitment) = row?;
            out.push(EnvelopeIndex {
                id: EnvelopeId(blob(id)?),
                expires_at: expires_at.max(0) as u64,
                tag: *tag,
                commitment: Commitment(blob(commitment)?),
            });
        }
        Ok(out)
    }

    /// (commitment, expires_at, matched) of every proof not expired at `now`
    /// and free to leave (`crate::receipts`); `matched` when it purged or
    /// delivered something held here.
    pub fn proof_index(&self, now: u64) -> Result<Vec<(Commitment, u64, bool)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT commitment, expires_at, matched FROM proofs
             WHERE expires_at > ?1 AND release_at <= ?1",
        )?;
        let rows = st.query_map([now as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, exp, matched) = row?;
            out.push((Commitment(blob(c)?), exp.max(0) as u64, matched));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Store, StoreLimits};

    #[test]
    fn only_a_relay_keeps_the_tag_index() {
        let store = Store::in_memory(StoreLimits::default()).unwrap();
        assert!(
            !store.has_relay_index().unwrap(),
            "a phone pays for no tag index"
        );
        store.serve_as_relay().unwrap();
        assert!(store.has_relay_index().unwrap());
        store.serve_as_relay().unwrap();
        assert!(
            store.has_relay_index().unwrap(),
            "asking again changes nothing"
        );
        // The relay's lookup is answered from the index alone.
        let plan: Vec<String> = store
            .conn()
            .prepare("EXPLAIN QUERY PLAN SELECT id, expires_at, commitment FROM envelopes WHERE tag = ?1 AND expires_at > ?2")
            .unwrap()
            .query_map(rusqlite::params![vec![0u8; 8], 0i64], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter()
                .any(|p| p.contains("COVERING INDEX envelopes_by_tag")),
            "{plan:?}"
        );
    }
}
