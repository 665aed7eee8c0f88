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
        let mut st = self.conn().prepare_cached(
            "SELECT id, expires_at, tag, commitment FROM envelopes WHERE expires_at > ?1",
        )?;
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

    /// (commitment, expires_at) of every proof not expired at `now`.
    pub fn proof_index(&self, now: u64) -> Result<Vec<(Commitment, u64)>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT commitment, expires_at FROM proofs WHERE expires_at > ?1")?;
        let rows = st.query_map([now as i64], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, exp) = row?;
            out.push((Commitment(blob(c)?), exp.max(0) as u64));
        }
        Ok(out)
    }
}
