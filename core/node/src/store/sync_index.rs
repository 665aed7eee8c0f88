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
    /// Copy budget, where the listing read it (not from the relay's
    /// covering tag index).
    pub copies: Option<u32>,
}

impl Store {
    /// What a sync session offers: (id, expires_at, tag, commitment) of every
    /// envelope held and not expired at `now`, without the bytes.
    /// Also remembers each one's copy budget for
    /// [`Store::listed_envelope_copies`].
    pub fn envelope_index(&self, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        let index = self.index_where("expires_at > ?1", now)?;
        *self.listed_copies.borrow_mut() = index
            .iter()
            .filter_map(|e| Some((e.id, e.copies?)))
            .collect();
        Ok(index)
    }

    /// The copy budget of a held envelope as the last
    /// [`Store::envelope_index`] read it, unless this store has written it
    /// since; otherwise read now. What a routed session asks of every item
    /// it lists, twice: one lookup each held a sender to a fraction of its
    /// speed (`docs/PERFORMANCE.md`, *Sync: copy budgets read with the
    /// listing*). Only another process spending the same envelope's copies
    /// between the listing and the question makes it stale; the spend
    /// itself reads the stored budget ([`Store::envelope_copies`]).
    pub fn listed_envelope_copies(&self, id: &EnvelopeId) -> Result<Option<u32>, StoreError> {
        if let Some(&copies) = self.listed_copies.borrow().get(id) {
            return Ok(Some(copies));
        }
        self.envelope_copies(id)
    }

    /// Forgets the listed budget of `id`: this store is writing it.
    pub(super) fn unlist_copies(&self, id: &EnvelopeId) {
        self.listed_copies.borrow_mut().remove(id);
    }

    /// The unexpired envelopes of this node's own messages still held
    /// (the eviction index finds them by class).
    pub fn own_envelope_index(&self, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        self.index_where("class = 2 AND expires_at > ?1", now)
    }

    fn index_where(&self, filter: &str, now: u64) -> Result<Vec<EnvelopeIndex>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT id, expires_at, tag, commitment, copies FROM envelopes WHERE {filter}"
        ))?;
        let rows = st.query_map([now as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, expires_at, tag, commitment, copies) = row?;
            out.push(EnvelopeIndex {
                id: EnvelopeId(blob(id)?),
                expires_at: expires_at.max(0) as u64,
                tag: RoutingTag(blob(tag)?),
                commitment: Commitment(blob(commitment)?),
                copies: Some(copies.clamp(0, i64::from(u32::MAX)) as u32),
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
                copies: None,
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

    #[test]
    fn listed_copies_come_from_the_listing_until_this_store_writes_them() {
        use super::super::{EnvelopeClass, EnvelopeRecord};
        use pollen_proto::envelope::{Commitment, EnvelopeId, RoutingTag};
        let store = Store::in_memory(StoreLimits::default()).unwrap();
        let id = EnvelopeId([7; 32]);
        let rec = EnvelopeRecord {
            id,
            bytes: vec![0; 512],
            expires_at: 1_000,
            tag: RoutingTag([0; 8]),
            commitment: Commitment([7; 32]),
            class: EnvelopeClass::Carried,
            copies: 8,
        };
        store.insert_envelope(&rec, "peer", 0).unwrap();
        let behind_its_back = |copies: i64| {
            store
                .conn()
                .execute("UPDATE envelopes SET copies = ?1", [copies])
                .unwrap();
        };
        assert_eq!(
            store.listed_envelope_copies(&id).unwrap(),
            Some(8),
            "not listed yet: read"
        );
        let listed = store.envelope_index(0).unwrap();
        assert_eq!(listed[0].copies, Some(8));
        behind_its_back(3);
        assert_eq!(
            store.listed_envelope_copies(&id).unwrap(),
            Some(8),
            "as listed"
        );
        assert_eq!(
            store.envelope_copies(&id).unwrap(),
            Some(3),
            "the spend reads the row"
        );
        store.set_envelope_copies(&id, 2).unwrap();
        assert_eq!(
            store.listed_envelope_copies(&id).unwrap(),
            Some(2),
            "written here: read"
        );
        store.envelope_index(0).unwrap();
        store.refund_envelope_copies(&id, 1).unwrap();
        assert_eq!(store.listed_envelope_copies(&id).unwrap(), Some(3));
        // Evicted, then stored again with another budget.
        store.envelope_index(0).unwrap();
        store.conn().execute("DELETE FROM envelopes", []).unwrap();
        store
            .insert_envelope(&EnvelopeRecord { copies: 1, ..rec }, "peer", 0)
            .unwrap();
        assert_eq!(store.listed_envelope_copies(&id).unwrap(), Some(1));
    }
}
