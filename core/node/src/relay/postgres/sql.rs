//! The statements the relay store runs (prepared once per connection, see
//! `worker::Statements`) and the session settings.

/// Advisory lock held by every writing transaction (see the module docs).
pub(super) const WRITE_LOCK: i64 = 0x706f_6c6c_656e_0002;

/// Per-session settings. A relay that stalls or loses its network inside a
/// transaction must not hold the write lock for long, and one waiting on the
/// lock should fail its batch (the session retries at the next encounter)
/// rather than hang.
pub(super) const SESSION_SETTINGS: &str = "SET lock_timeout = '30s';
     SET idle_in_transaction_session_timeout = '60s'";

pub(super) const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
pub(super) const USAGE_OF: &str = "SELECT COALESCE(SUM(bytes), 0)::bigint,
        COALESCE(SUM(bytes) FILTER (WHERE origin = $1), 0)::bigint
     FROM origin_usage";
/// Inserts unless held (the conflict), seen or proven delivered: the whole
/// duplicate rule (`admission::Prior`) and the insert in one round trip.
pub(super) const INSERT_NEW: &str = "INSERT INTO envelopes
        (id, bytes, size, expires_at, tag, commitment, origin, received_at)
     SELECT $1::bytea, $2::bytea, $3::bigint, $4::bigint, $5::bytea, $6::bytea, $7::text, $8::bigint
     WHERE NOT EXISTS (SELECT 1 FROM seen WHERE id = $1::bytea)
       AND NOT EXISTS (SELECT 1 FROM proofs WHERE commitment = $6::bytea)
     ON CONFLICT (id) DO NOTHING";
/// (held, seen, proven): what `admission::Prior` classifies.
pub(super) const PRIOR: &str = "SELECT EXISTS (SELECT 1 FROM envelopes WHERE id = $1),
        EXISTS (SELECT 1 FROM seen WHERE id = $1),
        EXISTS (SELECT 1 FROM proofs WHERE commitment = $2)";
pub(super) const EVICTION_CANDIDATES: &str = "SELECT id, size FROM envelopes
     WHERE (origin = $1) = $2 AND id <> ALL($3::bytea[])
     ORDER BY expires_at, id LIMIT $4";
pub(super) const DELETE_IDS: &str = "DELETE FROM envelopes WHERE id = ANY($1::bytea[])";
pub(super) const PROOF_KNOWN: &str = "SELECT EXISTS (SELECT 1 FROM proofs WHERE commitment = $1)";
pub(super) const PURGE: &str = "WITH gone AS (
         DELETE FROM envelopes WHERE commitment = $1
         RETURNING id, expires_at, size, origin
     ), remembered AS (
         INSERT INTO seen (id, expires_at) SELECT id, expires_at FROM gone
         ON CONFLICT (id) DO NOTHING
     )
     SELECT COUNT(*), MAX(expires_at), COALESCE(SUM(size), 0)::bigint,
            COALESCE(SUM(size) FILTER (WHERE origin = $2), 0)::bigint
     FROM gone";
pub(super) const UNMATCHED_PROOFS: &str = "SELECT COUNT(*) FROM proofs WHERE NOT matched";
pub(super) const INSERT_PROOF: &str = "INSERT INTO proofs (commitment, secret, expires_at, matched)
     VALUES ($1, $2, $3, $4) ON CONFLICT (commitment) DO NOTHING";
pub(super) const ENVELOPE_INDEX: &str =
    "SELECT id, expires_at, tag, commitment FROM envelopes WHERE expires_at > $1";
pub(super) const PROOF_INDEX: &str =
    "SELECT commitment, expires_at FROM proofs WHERE expires_at > $1";
pub(super) const ENVELOPE_TAGS: &str = "SELECT DISTINCT tag FROM envelopes WHERE expires_at > $1";
pub(super) const ENVELOPES_WITH_TAGS: &str = "SELECT id, expires_at, tag, commitment FROM envelopes
    WHERE tag = ANY($1::bytea[]) AND expires_at > $2";
pub(super) const ENVELOPE_BYTES: &str =
    "SELECT bytes FROM envelopes WHERE id = $1 AND expires_at > $2";
pub(super) const PROOF_SECRET: &str = "SELECT secret FROM proofs WHERE commitment = $1";
pub(super) const SEEN: &str = "SELECT EXISTS (SELECT 1 FROM seen WHERE id = $1)";
pub(super) const EXPIRE_ENVELOPES: &str = "DELETE FROM envelopes WHERE expires_at <= $1";
pub(super) const EXPIRE_PROOFS: &str = "DELETE FROM proofs WHERE expires_at <= $1";
pub(super) const EXPIRE_SEEN: &str = "DELETE FROM seen WHERE expires_at <= $1";
pub(super) const USAGE: &str =
    "SELECT COALESCE(SUM(bytes), 0)::bigint, COALESCE(SUM(count), 0)::bigint,
        (SELECT COUNT(*) FROM proofs)
     FROM origin_usage";

/// Chunks (schema version 2): apart from envelopes, under their own quotas
/// (`crate::attachments::ChunkLimits`), handed only to a client that names
/// their blob.
pub(super) const CHUNK_USAGE_OF: &str = "SELECT COALESCE(SUM(size), 0)::bigint,
        COALESCE(SUM(size) FILTER (WHERE origin = $1), 0)::bigint
     FROM chunks";
pub(super) const INSERT_CHUNK: &str = "INSERT INTO chunks
        (id, blob, blob_len, idx, bytes, size, expires_at, origin, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";
pub(super) const CHUNK_HELD: &str = "SELECT EXISTS (SELECT 1 FROM chunks WHERE id = $1)";
pub(super) const CHUNK_EVICTION_CANDIDATES: &str = "SELECT id, size, origin FROM chunks
     WHERE id <> ALL($1::bytea[]) ORDER BY expires_at, id LIMIT $2";
pub(super) const DELETE_CHUNKS: &str = "DELETE FROM chunks WHERE id = ANY($1::bytea[])";
pub(super) const CHUNK_BLOBS: &str = "SELECT DISTINCT blob FROM chunks WHERE expires_at > $1";
pub(super) const CHUNKS_OF_BLOBS: &str = "SELECT id, blob, expires_at FROM chunks
     WHERE blob = ANY($1::bytea[]) AND expires_at > $2";
pub(super) const CHUNK_BYTES: &str = "SELECT bytes FROM chunks WHERE id = $1 AND expires_at > $2";
pub(super) const EXPIRE_CHUNKS: &str = "DELETE FROM chunks WHERE expires_at <= $1";
