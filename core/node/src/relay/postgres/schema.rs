//! The relay schema: tables mirroring the node's, usage counters kept by
//! triggers, and its creation under an advisory lock.

use super::RelayStoreError;
use super::sql::LOCK;
use postgres::Client;

/// Schema version this build creates and understands.
pub(super) const SCHEMA_VERSION: i64 = 2;
/// Advisory lock held while creating the schema, so relays starting at once
/// do not race on `CREATE TABLE` (which can fail on a concurrent create even
/// with `IF NOT EXISTS`). "pollen" in ASCII, then 1.
const SCHEMA_LOCK: i64 = 0x706f_6c6c_656e_0001;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS envelopes (
    id          bytea  PRIMARY KEY,
    bytes       bytea  NOT NULL,
    size        bigint NOT NULL,
    expires_at  bigint NOT NULL,
    tag         bytea  NOT NULL,
    commitment  bytea  NOT NULL,
    origin      text   NOT NULL,
    received_at bigint NOT NULL
);
-- Ciphertext does not compress: store it out of line without trying.
ALTER TABLE envelopes ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS envelopes_commitment ON envelopes (commitment);
CREATE INDEX IF NOT EXISTS envelopes_expires_at ON envelopes (expires_at, id);
CREATE INDEX IF NOT EXISTS envelopes_tag ON envelopes (tag, expires_at);

CREATE TABLE IF NOT EXISTS proofs (
    commitment bytea   PRIMARY KEY,
    secret     bytea   NOT NULL,
    expires_at bigint  NOT NULL,
    -- False for a proof that purged nothing here: those are capped.
    matched    boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS proofs_expires_at ON proofs (expires_at);

CREATE TABLE IF NOT EXISTS seen (
    id         bytea  PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_expires_at ON seen (expires_at);

-- The relay's Noise key, one for every relay process on this database.
CREATE TABLE IF NOT EXISTS relay_key (
    id     int   PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL
);

CREATE TABLE IF NOT EXISTS origin_usage (
    origin text   PRIMARY KEY,
    bytes  bigint NOT NULL,
    count  bigint NOT NULL
);

CREATE OR REPLACE FUNCTION pollen_usage_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO origin_usage (origin, bytes, count)
        SELECT origin, SUM(size), COUNT(*) FROM added GROUP BY origin
    ON CONFLICT (origin) DO UPDATE
        SET bytes = origin_usage.bytes + EXCLUDED.bytes,
            count = origin_usage.count + EXCLUDED.count;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION pollen_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE origin_usage u
        SET bytes = u.bytes - r.bytes, count = u.count - r.count
        FROM (SELECT origin, SUM(size) AS bytes, COUNT(*) AS count
              FROM removed GROUP BY origin) r
        WHERE u.origin = r.origin;
    DELETE FROM origin_usage WHERE count <= 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION pollen_usage_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM origin_usage;
    RETURN NULL;
END $$;

-- Envelope rows are inserted and deleted, never updated.
DROP TRIGGER IF EXISTS envelopes_added ON envelopes;
CREATE TRIGGER envelopes_added AFTER INSERT ON envelopes
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_added();
DROP TRIGGER IF EXISTS envelopes_removed ON envelopes;
CREATE TRIGGER envelopes_removed AFTER DELETE ON envelopes
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_removed();
DROP TRIGGER IF EXISTS envelopes_truncated ON envelopes;
CREATE TRIGGER envelopes_truncated AFTER TRUNCATE ON envelopes
    FOR EACH STATEMENT EXECUTE FUNCTION pollen_usage_truncated();
";

/// Version 2: attachment chunks, apart from envelopes. Also what a version-1
/// database runs to upgrade: a new table, nothing else locked.
const V2: &str = "
CREATE TABLE IF NOT EXISTS chunks (
    id          bytea PRIMARY KEY,
    blob        bytea NOT NULL,
    blob_len    bigint NOT NULL,
    idx         integer NOT NULL,
    bytes       bytea NOT NULL,
    size        bigint NOT NULL,
    expires_at  bigint NOT NULL,
    origin      text NOT NULL,
    received_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_blob ON chunks (blob, expires_at);
CREATE INDEX IF NOT EXISTS chunks_expires_at ON chunks (expires_at, id);
";

/// Creates the schema on a fresh database, under [`SCHEMA_LOCK`]; refuses a
/// database set up by a newer build.
pub(super) fn create(client: &mut Client) -> Result<(), RelayStoreError> {
    let mut tx = client.transaction()?;
    tx.execute(LOCK, &[&SCHEMA_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS relay_schema (
             one boolean PRIMARY KEY DEFAULT true CHECK (one),
             version bigint NOT NULL
         )",
    )?;
    let found: Option<i64> = tx
        .query_opt("SELECT version FROM relay_schema", &[])?
        .map(|r| r.try_get(0))
        .transpose()?;
    match found {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(RelayStoreError::SchemaTooNew { found: v });
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(1) => {
            tx.batch_execute(V2)?;
            tx.execute("UPDATE relay_schema SET version = $1", &[&SCHEMA_VERSION])?;
            tracing::info!(version = SCHEMA_VERSION, "upgraded the relay schema");
        }
        // Only a fresh database runs the DDL: on a live one even the
        // no-op `CREATE INDEX IF NOT EXISTS` would lock the table
        // against the other relays' inserts.
        _ => {
            tx.batch_execute(SCHEMA)?;
            tx.batch_execute(V2)?;
            tx.execute(
                "INSERT INTO relay_schema (version) VALUES ($1)
                 ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
                &[&SCHEMA_VERSION],
            )?;
            tracing::info!(version = SCHEMA_VERSION, "created the relay schema");
        }
    }
    tx.commit()?;
    Ok(())
}
