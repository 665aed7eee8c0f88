//! One ingest transaction: the admission rules ([`crate::admission`]) against
//! the shared database, eviction to make room, and delivery proofs.

use super::sql::*;
use super::worker::Statements;
use super::{RelayStoreError, int, uint};
use crate::admission::{self, MAX_UNMATCHED_PROOFS, Prior};
use crate::attachments::{ChunkLimits, ChunkRejection, admit_chunk};
use crate::relay::RelayLimits;
use pollen_proto::envelope::{DeliveryProof, EnvelopeId, Header};
use pollen_proto::sync::store::{Incoming, Received};
use postgres::{Client, Statement, Transaction};

/// Envelopes read per eviction query: enough for a typical batch, small
/// enough that a query never reads far past what it needs.
const EVICTION_CHUNK: i64 = 64;

/// Takes a batch of items in one transaction under the write lock; returns
/// one answer per item and the proofs to send back.
pub(super) fn run(
    client: &mut Client,
    st: &mut Statements,
    limits: RelayLimits,
    items: &[Incoming],
    origin: &str,
    now: u64,
) -> Result<(Vec<Received>, Vec<[u8; 32]>), RelayStoreError> {
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
        chunks: None,
        chunks_inserted: Vec::new(),
    };
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let r = match item {
            // The relay hands everything to everyone who asks: no budget.
            Incoming::Envelope(bytes)
            | Incoming::Copy {
                envelope: bytes, ..
            } => batch.envelope(bytes)?,
            Incoming::Proof(secret) => batch.proof(secret.as_bytes())?,
            // No budget here either: a relay serves whoever names the blob.
            Incoming::Chunk(bytes) | Incoming::ChunkCopy { chunk: bytes, .. } => {
                batch.chunk(bytes)?
            }
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
    /// Chunk bytes held (all, from `origin`), read when first needed.
    chunks: Option<(u64, u64)>,
    /// Chunk ids stored by this batch, which its evictions must not take.
    chunks_inserted: Vec<Vec<u8>>,
}

impl Batch<'_, '_> {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        self.st.get(self.tx, sql)
    }

    /// Unmatched proofs held: counted once per batch, then kept up to date.
    fn unmatched_count(&mut self) -> Result<u64, RelayStoreError> {
        if let Some(n) = self.unmatched {
            return Ok(n);
        }
        let count = self.stmt(UNMATCHED_PROOFS)?;
        let n = uint(self.tx.query_one(&count, &[])?.try_get(0)?);
        self.unmatched = Some(n);
        Ok(n)
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
        let (mut env, id) = match admission::decode_fresh(bytes, None, self.now) {
            Ok(checked) => checked,
            Err(r) => return Ok(Received::Rejected(r.reason())),
        };
        let header = *env.header();
        let size = env.len() as u64;
        let fits = admission::within_quota(self.used, size, self.limits.per_origin_bytes)
            && admission::room_needed(self.total, size, self.limits.global_bytes) == 0;
        // The common case: the insert itself tells a duplicate apart.
        if fits && admission::spend_hop(&mut env, false).is_ok() {
            return self.insert(&env.encode(), &id, &header, size);
        }
        // Otherwise the order of the rules decides the answer: a duplicate
        // is a duplicate even when the relay is full or it has no hops left.
        let prior = self.stmt(PRIOR)?;
        let row = self
            .tx
            .query_one(&prior, &[&&id[..], &&header.commitment[..]])?;
        if Prior::of(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?).is_duplicate() {
            self.proof_back(header.commitment.as_bytes())?;
            return Ok(Received::Duplicate);
        }
        if let Err(r) = admission::spend_hop(&mut env, false) {
            return Ok(Received::Rejected(r.reason()));
        }
        if !admission::within_quota(self.used, size, self.limits.per_origin_bytes) {
            return Ok(Received::Rejected(admission::QUOTA_EXCEEDED));
        }
        if !self.make_room(size)? {
            return Ok(Received::Rejected(admission::STORE_FULL));
        }
        self.insert(&env.encode(), &id, &header, size)
    }

    fn insert(
        &mut self,
        bytes: &[u8],
        id: &EnvelopeId,
        header: &Header,
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
            self.proof_back(header.commitment.as_bytes())?;
            return Ok(Received::Duplicate);
        }
        self.total += size;
        self.used += size;
        self.inserted.push(id.0.to_vec());
        Ok(Received::Carried)
    }

    /// Evicts just enough envelopes for `size` more bytes under the global
    /// cap: other origins' first, then this origin's, soonest to expire
    /// first within each, never one this batch stored. Evicts nothing and
    /// returns false if even that would not make room.
    fn make_room(&mut self, size: u64) -> Result<bool, RelayStoreError> {
        let need = admission::room_needed(self.total, size, self.limits.global_bytes);
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
        let commitment = admission::proof_commitment(&DeliveryProof(*secret));
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
        let matched = latest.is_some();
        let Some(expires_at) = admission::keep_proof(
            matched,
            latest.map(uint),
            self.now,
            MAX_UNMATCHED_PROOFS,
            || self.unmatched_count(),
        )?
        else {
            return Ok(Received::ProofKnown);
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

impl Batch<'_, '_> {
    /// A chunk: verified as every holder does ([`admit_chunk`]), then held
    /// under the chunk quotas, apart from the envelopes': one origin at most
    /// `per_origin_bytes`, and the soonest to expire evicted past
    /// `carried_bytes` (never one this batch stored).
    fn chunk(&mut self, bytes: &[u8]) -> Result<Received, RelayStoreError> {
        let chunk = match admit_chunk(bytes, self.now) {
            Ok(c) => c,
            Err(r) => return Ok(Received::Rejected(r.reason())),
        };
        let id = chunk.item_id();
        let held = self.stmt(CHUNK_HELD)?;
        if self
            .tx
            .query_one(&held, &[&&id[..]])?
            .try_get::<_, bool>(0)?
        {
            return Ok(Received::Duplicate);
        }
        let limits = ChunkLimits::default();
        let size = bytes.len() as u64;
        let (total, used) = match self.chunks {
            Some(u) => u,
            None => {
                let usage = self.stmt(CHUNK_USAGE_OF)?;
                let row = self.tx.query_one(&usage, &[&self.origin])?;
                (uint(row.try_get(0)?), uint(row.try_get(1)?))
            }
        };
        self.chunks = Some((total, used));
        if used + size > limits.per_origin_bytes {
            let quota = ChunkRejection::QuotaExceeded {
                origin: self.origin.to_owned(),
                used,
                quota: limits.per_origin_bytes,
            };
            return Ok(Received::Rejected(quota.reason()));
        }
        if total + size > limits.carried_bytes
            && !self.evict_chunks(total + size - limits.carried_bytes)?
        {
            return Ok(Received::Rejected(ChunkRejection::Full.reason()));
        }
        let insert = self.stmt(INSERT_CHUNK)?;
        self.tx.execute(
            &insert,
            &[
                &&id[..],
                &&chunk.blob.0[..],
                &int(chunk.blob_len),
                &i32::from(chunk.index),
                &bytes,
                &int(size),
                &int(chunk.expires_at),
                &self.origin,
                &int(self.now),
            ],
        )?;
        if let Some((total, used)) = &mut self.chunks {
            *total += size;
            *used += size;
        }
        self.chunks_inserted.push(id.to_vec());
        Ok(Received::Carried)
    }

    /// Evicts the chunks soonest to expire until `need` bytes are free;
    /// evicts nothing and returns false if even all the others would not do.
    fn evict_chunks(&mut self, need: u64) -> Result<bool, RelayStoreError> {
        let candidates = self.stmt(CHUNK_EVICTION_CANDIDATES)?;
        let rows = self
            .tx
            .query(&candidates, &[&self.chunks_inserted, &EVICTION_CHUNK])?;
        let mut pick = Vec::new();
        let (mut freed, mut freed_own) = (0u64, 0u64);
        for row in rows {
            if freed >= need {
                break;
            }
            let size = uint(row.try_get(1)?);
            let origin: String = row.try_get(2)?;
            freed += size;
            if origin == self.origin {
                freed_own += size;
            }
            pick.push(row.try_get::<_, Vec<u8>>(0)?);
        }
        if freed < need {
            return Ok(false);
        }
        let delete = self.stmt(DELETE_CHUNKS)?;
        self.tx.execute(&delete, &[&pick])?;
        if let Some((total, used)) = &mut self.chunks {
            *total -= freed;
            *used -= freed_own;
        }
        Ok(true)
    }
}
