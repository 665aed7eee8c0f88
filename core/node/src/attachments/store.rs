//! Chunks in the node's SQLite store.

use crate::routing;
use crate::store::{Store, StoreError};
use pollen_proto::chunk::{BlobId, Chunk, ChunkError};
use pollen_proto::envelope::{CLOCK_SKEW_SECS, MAX_TTL_SECS};
use rusqlite::{OptionalExtension, params};
use thiserror::Error;

/// Why a chunk is held; lower classes are evicted first, and only carried
/// chunks are ever evicted to make room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChunkClass {
    /// Someone else's chunk, carried on.
    Carried = 0,
    /// A chunk of an attachment this node fetches.
    Wanted = 1,
    /// A chunk of an attachment this node sent.
    Own = 2,
}

/// Storage bounds of chunks, separate from the envelopes' [`crate::store::StoreLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Bytes of carried chunks held at most.
    pub carried_bytes: u64,
    /// Bytes of carried chunks one origin may leave here.
    pub per_origin_bytes: u64,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        Self {
            carried_bytes: 256 << 20,
            per_origin_bytes: 64 << 20,
        }
    }
}

/// What became of a stored chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// Kept in this class; `evicted` carried chunks made room.
    Stored {
        /// Why it is held.
        class: ChunkClass,
        /// Carried chunks evicted for it.
        evicted: usize,
    },
    /// Already held.
    Duplicate,
}

/// Why a received chunk was refused; nothing was stored.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkRejection {
    /// It does not verify (wrong hash, lying length, malformed…).
    #[error("chunk refused: {0}")]
    Invalid(#[from] ChunkError),
    /// Its expiry has passed.
    #[error("chunk expired at {0}")]
    Expired(u64),
    /// Its expiry is further away than any sender may set.
    #[error("chunk expires at {0}, more than 30 days away")]
    ExpiryTooFar(u64),
    /// The origin's share of the carried-chunk quota is used up.
    #[error("chunk quota for origin {origin} is full ({used} of {quota} bytes)")]
    QuotaExceeded {
        /// The link or bundle it came from.
        origin: String,
        /// Bytes of carried chunks that origin holds here.
        used: u64,
        /// Its quota.
        quota: u64,
    },
    /// No room among carried chunks even after evicting all that may go.
    #[error("chunk store is full")]
    Full,
}

/// One chunk held, as a session offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldChunk {
    /// Its item id.
    pub id: [u8; 32],
    /// The blob it is part of.
    pub blob: BlobId,
    /// When it expires (unix seconds).
    pub expires_at: u64,
    /// Peers it was handed to.
    pub given: u32,
}

/// Bytes and counts of chunks held, by class: (count, bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkUsage {
    /// Carried for others.
    pub carried: (u64, u64),
    /// Of attachments being fetched.
    pub wanted: (u64, u64),
    /// Of this node's own attachments.
    pub own: (u64, u64),
}

fn class_from(v: i64) -> Result<ChunkClass, StoreError> {
    match v {
        0 => Ok(ChunkClass::Carried),
        1 => Ok(ChunkClass::Wanted),
        2 => Ok(ChunkClass::Own),
        _ => Err(StoreError::Corrupt(format!("chunk class {v}"))),
    }
}

/// The rules every holder applies to a received chunk before it looks at
/// its store (a phone's and both relays'): it decodes and verifies against
/// its blob id, and its expiry has neither passed nor lies further away
/// than any sender may set.
pub fn admit_chunk(bytes: &[u8], now: u64) -> Result<Chunk, ChunkRejection> {
    let chunk = Chunk::decode(bytes)?;
    if chunk.expires_at <= now {
        return Err(ChunkRejection::Expired(chunk.expires_at));
    }
    if chunk.expires_at > now + MAX_TTL_SECS + CLOCK_SKEW_SECS {
        return Err(ChunkRejection::ExpiryTooFar(chunk.expires_at));
    }
    Ok(chunk)
}

impl ChunkRejection {
    /// The acceptance-rule name a session reports (`docs/PROTOCOL.md`).
    pub fn reason(&self) -> &'static str {
        match self {
            ChunkRejection::Invalid(_) => "bad_chunk",
            ChunkRejection::Expired(_) => "expired",
            ChunkRejection::ExpiryTooFar(_) => "expiry_too_far",
            ChunkRejection::QuotaExceeded { .. } => "quota_exceeded",
            ChunkRejection::Full => "store_full",
        }
    }
}

impl Store {
    /// Verifies and stores a chunk received from `origin` at `now` (unix
    /// seconds) with the copy budget handed over with it (at most
    /// [`routing::CHUNK_COPIES`] are kept, whatever the peer claims). Call
    /// inside a transaction: eviction and insertion go together. A refused
    /// chunk changes nothing.
    pub fn receive_chunk(
        &self,
        bytes: &[u8],
        copies: u32,
        origin: &str,
        now: u64,
        limits: &ChunkLimits,
    ) -> Result<Result<ChunkOutcome, ChunkRejection>, StoreError> {
        let chunk = match admit_chunk(bytes, now) {
            Ok(c) => c,
            Err(rejection) => return Ok(Err(rejection)),
        };
        if self.has_chunk(&chunk.item_id())? {
            return Ok(Ok(ChunkOutcome::Duplicate));
        }
        let class = self
            .wanted_class(&chunk.blob, chunk.blob_len)?
            .unwrap_or(ChunkClass::Carried);
        let mut evicted = 0;
        if class == ChunkClass::Carried {
            let size = bytes.len() as u64;
            let used = self.carried_bytes(Some(origin))?;
            if used + size > limits.per_origin_bytes {
                return Ok(Err(ChunkRejection::QuotaExceeded {
                    origin: origin.to_owned(),
                    used,
                    quota: limits.per_origin_bytes,
                }));
            }
            let total = self.carried_bytes(None)?;
            if total + size > limits.carried_bytes {
                match self.evict_carried(total + size - limits.carried_bytes)? {
                    Some(n) => evicted = n,
                    None => return Ok(Err(ChunkRejection::Full)),
                }
            }
        }
        let copies = copies.clamp(1, routing::CHUNK_COPIES);
        self.insert_chunk(&chunk, bytes, (class, copies), origin, now)?;
        Ok(Ok(ChunkOutcome::Stored { class, evicted }))
    }

    /// Stores a chunk of this node's own attachment (never evicted).
    pub fn put_own_chunk(&self, chunk: &Chunk, now: u64) -> Result<(), StoreError> {
        if !self.has_chunk(&chunk.item_id())? {
            let held = (ChunkClass::Own, routing::CHUNK_COPIES);
            self.insert_chunk(chunk, &chunk.encode(), held, "self", now)?;
        }
        Ok(())
    }

    fn insert_chunk(
        &self,
        chunk: &Chunk,
        bytes: &[u8],
        (class, copies): (ChunkClass, u32),
        origin: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO chunks (id, blob, blob_len, idx, bytes, size, expires_at, class, origin, received_at, copies)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                &chunk.item_id()[..],
                &chunk.blob.0[..],
                chunk.blob_len as i64,
                chunk.index as i64,
                bytes,
                bytes.len() as i64,
                chunk.expires_at as i64,
                class as i64,
                origin,
                now as i64,
                copies as i64,
            ])?;
        Ok(())
    }

    /// Whether the chunk with this item id is held.
    pub fn has_chunk(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM chunks WHERE id = ?1)")?
            .query_row([&id[..]], |r| r.get(0))?)
    }

    /// The encoded chunk with this item id, if held.
    pub fn chunk_bytes(&self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT bytes FROM chunks WHERE id = ?1")?
            .query_row([&id[..]], |r| r.get(0))
            .optional()?)
    }

    /// Marks a blob as this node's (`Own`) or fetched (`Wanted`), and
    /// promotes the chunks of it already held out of the carried class.
    pub fn want_blob(
        &self,
        blob: &BlobId,
        blob_len: u64,
        class: ChunkClass,
    ) -> Result<(), StoreError> {
        self.want(blob, blob_len, class, true)
    }

    /// Marks a blob fetched like [`Store::want_blob`], but asked for only
    /// over fast links (Wi-Fi, a cable): an automatic fetch over the
    /// slow-link limit. A later [`Store::want_blob`] (the user asked) lifts
    /// that.
    pub fn want_blob_on_fast_links(&self, blob: &BlobId, blob_len: u64) -> Result<(), StoreError> {
        self.want(blob, blob_len, ChunkClass::Wanted, false)
    }

    fn want(
        &self,
        blob: &BlobId,
        blob_len: u64,
        class: ChunkClass,
        slow_ok: bool,
    ) -> Result<(), StoreError> {
        let class = class.max(ChunkClass::Wanted);
        self.conn()
            .prepare_cached(
                "INSERT INTO wanted_blobs (blob, blob_len, class, seq, slow_ok)
                 VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM wanted_blobs), ?4)
                 ON CONFLICT (blob, blob_len) DO UPDATE
                 SET class = max(class, excluded.class), seq = excluded.seq,
                     slow_ok = max(slow_ok, excluded.slow_ok)",
            )?
            .execute(params![
                &blob.0[..],
                blob_len as i64,
                class as i64,
                slow_ok as i64
            ])?;
        self.conn()
            .prepare_cached(
                "UPDATE chunks SET class = ?3 WHERE blob = ?1 AND blob_len = ?2 AND class < ?3",
            )?
            .execute(params![&blob.0[..], blob_len as i64, class as i64])?;
        Ok(())
    }

    fn wanted_class(&self, blob: &BlobId, blob_len: u64) -> Result<Option<ChunkClass>, StoreError> {
        let v: Option<i64> = self
            .conn()
            .prepare_cached("SELECT class FROM wanted_blobs WHERE blob = ?1 AND blob_len = ?2")?
            .query_row(params![&blob.0[..], blob_len as i64], |r| r.get(0))
            .optional()?;
        v.map(class_from).transpose()
    }

    /// The encoded chunks held of one blob, by index.
    pub fn blob_chunks(
        &self,
        blob: &BlobId,
        blob_len: u64,
    ) -> Result<Vec<(u16, Vec<u8>)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT idx, bytes FROM chunks WHERE blob = ?1 AND blob_len = ?2 ORDER BY idx",
        )?;
        let rows = st.query_map(params![&blob.0[..], blob_len as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (i, b) = row?;
            out.push((
                u16::try_from(i).map_err(|_| StoreError::Corrupt(format!("chunk index {i}")))?,
                b,
            ));
        }
        Ok(out)
    }

    /// Every unexpired chunk held: what a node offers.
    pub fn chunk_index(&self, now: u64) -> Result<Vec<HeldChunk>, StoreError> {
        self.held_chunks(
            "SELECT id, blob, expires_at, given FROM chunks WHERE expires_at > ?1",
            params![now as i64],
        )
    }

    fn held_chunks(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<HeldChunk>, StoreError> {
        let mut st = self.conn().prepare_cached(sql)?;
        let rows = st.query_map(args, |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, blob, exp, given) = row?;
            out.push(HeldChunk {
                id: crate::store::blob(id)?,
                blob: BlobId(crate::store::blob(blob)?),
                expires_at: exp.max(0) as u64,
                given: u32::try_from(given.max(0)).unwrap_or(u32::MAX),
            });
        }
        Ok(out)
    }

    /// The distinct blobs of the unexpired chunks held (read from the blob
    /// index, not the chunks): what a relay matches a client's `Wanted`
    /// against before reading any chunk.
    pub fn held_blobs(&self, now: u64) -> Result<Vec<BlobId>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT DISTINCT blob FROM chunks WHERE expires_at > ?1")?;
        let rows = st.query_map([now as i64], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(BlobId(crate::store::blob(row?)?));
        }
        Ok(out)
    }

    /// The unexpired chunks held of one blob (any length), as offered.
    pub fn chunks_of_blob(&self, blob: &BlobId, now: u64) -> Result<Vec<HeldChunk>, StoreError> {
        self.held_chunks(
            "SELECT id, blob, expires_at, given FROM chunks WHERE blob = ?1 AND expires_at > ?2",
            params![&blob.0[..], now as i64],
        )
    }

    /// The copy budget held of a chunk (item id), if it is held.
    pub fn chunk_copies(&self, id: &[u8; 32]) -> Result<Option<u32>, StoreError> {
        let v: Option<i64> = self
            .conn()
            .prepare_cached("SELECT copies FROM chunks WHERE id = ?1")?
            .query_row([&id[..]], |r| r.get(0))
            .optional()?;
        Ok(v.map(|c| u32::try_from(c.max(0)).unwrap_or(u32::MAX)))
    }

    /// Keeps `kept` copies of a chunk after handing some to a carrier.
    pub fn spend_chunk_copies(&self, id: &[u8; 32], kept: u32) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE chunks SET copies = ?2 WHERE id = ?1")?
            .execute(params![&id[..], kept as i64])?;
        Ok(())
    }

    /// Gives back a chunk's copies handed to a peer that never acknowledged
    /// them (the link went).
    pub fn refund_chunk_copies(&self, id: &[u8; 32], copies: u32) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE chunks SET copies = copies + ?2 WHERE id = ?1")?
            .execute(params![&id[..], i64::from(copies)])?;
        Ok(())
    }

    /// The blobs this node fetches (`Wanted`, not its own) and does not
    /// hold whole, most recently wanted first: (blob, blob_len). Over a
    /// `slow_link`, only those it asks for there too.
    pub fn incomplete_wanted_blobs(
        &self,
        slow_link: bool,
    ) -> Result<Vec<(BlobId, u64)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT w.blob, w.blob_len, (SELECT COUNT(*) FROM chunks c
                 WHERE c.blob = w.blob AND c.blob_len = w.blob_len)
             FROM wanted_blobs w WHERE w.class = 1 AND (w.slow_ok = 1 OR ?1 = 0)
             ORDER BY w.seq DESC",
        )?;
        let rows = st.query_map([slow_link as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (blob, len, held) = row?;
            let len = len.max(0) as u64;
            if (held.max(0) as u64) < pollen_proto::chunk::chunk_count(len) as u64 {
                out.push((BlobId(crate::store::blob(blob)?), len));
            }
        }
        Ok(out)
    }

    /// The item ids of the chunks of a blob that are not held.
    pub fn missing_chunk_ids(
        &self,
        blob: &BlobId,
        blob_len: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let held: std::collections::HashSet<u16> = self
            .blob_chunk_indices(blob, blob_len)?
            .into_iter()
            .collect();
        Ok((0..pollen_proto::chunk::chunk_count(blob_len))
            .filter(|i| !held.contains(i))
            .map(|i| pollen_proto::chunk::chunk_item_id(blob, blob_len, i))
            .collect())
    }

    fn blob_chunk_indices(&self, blob: &BlobId, blob_len: u64) -> Result<Vec<u16>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT idx FROM chunks WHERE blob = ?1 AND blob_len = ?2")?;
        let rows = st.query_map(params![&blob.0[..], blob_len as i64], |r| {
            r.get::<_, i64>(0)
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(u16::try_from(row?).unwrap_or(u16::MAX));
        }
        Ok(out)
    }

    /// Counts one more peer holding each of these chunks (item ids).
    pub fn note_chunks_given(&self, ids: &[[u8; 32]]) -> Result<(), StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("UPDATE chunks SET given = given + 1 WHERE id = ?1")?;
        for id in ids {
            st.execute([&id[..]])?;
        }
        Ok(())
    }

    /// Drops expired chunks; returns how many.
    pub fn drop_expired_chunks(&self, now: u64) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("DELETE FROM chunks WHERE expires_at <= ?1")?
            .execute([now as i64])?)
    }

    /// Chunks held, by class.
    pub fn chunk_usage(&self) -> Result<ChunkUsage, StoreError> {
        let mut usage = ChunkUsage::default();
        let mut st = self.conn().prepare_cached(
            "SELECT class, COUNT(*), COALESCE(SUM(size), 0) FROM chunks GROUP BY class",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (class, n, bytes) = row?;
            let slot = match class_from(class)? {
                ChunkClass::Carried => &mut usage.carried,
                ChunkClass::Wanted => &mut usage.wanted,
                ChunkClass::Own => &mut usage.own,
            };
            *slot = (n as u64, bytes as u64);
        }
        Ok(usage)
    }

    fn carried_bytes(&self, origin: Option<&str>) -> Result<u64, StoreError> {
        let v: i64 = match origin {
            Some(o) => self
                .conn()
                .prepare_cached(
                    "SELECT COALESCE(SUM(size), 0) FROM chunks WHERE class = 0 AND origin = ?1",
                )?
                .query_row([o], |r| r.get(0))?,
            None => self
                .conn()
                .prepare_cached("SELECT COALESCE(SUM(size), 0) FROM chunks WHERE class = 0")?
                .query_row([], |r| r.get(0))?,
        };
        Ok(v.max(0) as u64)
    }

    /// Evicts carried chunks, soonest to expire first, until `needed` bytes
    /// are free; `None` (and nothing evicted) if carried chunks cannot free that much.
    fn evict_carried(&self, needed: u64) -> Result<Option<usize>, StoreError> {
        if self.carried_bytes(None)? < needed {
            return Ok(None);
        }
        let mut st = self.conn().prepare_cached(
            "SELECT id, size FROM chunks WHERE class = 0 ORDER BY expires_at, rowid",
        )?;
        let mut victims = Vec::new();
        let mut freed = 0u64;
        let mut rows = st.query([])?;
        while freed < needed {
            let Some(row) = rows.next()? else { break };
            victims.push(row.get::<_, Vec<u8>>(0)?);
            freed += row.get::<_, i64>(1)?.max(0) as u64;
        }
        drop(rows);
        let mut del = self
            .conn()
            .prepare_cached("DELETE FROM chunks WHERE id = ?1")?;
        for id in &victims {
            del.execute([id])?;
        }
        Ok(Some(victims.len()))
    }
}
