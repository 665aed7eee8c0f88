//! Schema migrations, applied in order by `rusqlite_migration` on every open.
//!
//! Never edit a migration that has shipped: add a new one.

use rusqlite_migration::{M, Migrations};

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Envelopes this node holds: its own, shared ones it can read and still
-- carries for other members, and foreign ones it carries for strangers.
-- Rowid tables for rows holding large blobs: SQLite stores big rows of a
-- WITHOUT ROWID table inside the primary-key b-tree, which is slow.
CREATE TABLE envelopes (
    id          BLOB NOT NULL UNIQUE,
    bytes       BLOB NOT NULL,
    size        INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    tag         BLOB NOT NULL,
    commitment  BLOB NOT NULL,
    class       INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX envelopes_commitment ON envelopes(commitment);
CREATE INDEX envelopes_expiry ON envelopes(expires_at);
CREATE INDEX envelopes_origin ON envelopes(origin, class);
CREATE INDEX envelopes_evict ON envelopes(class, expires_at);

-- Bytes and count held per (origin, class), kept exact by triggers so quota
-- checks never scan the envelopes table.
CREATE TABLE usage (
    origin TEXT NOT NULL,
    class  INTEGER NOT NULL,
    bytes  INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (origin, class)
) WITHOUT ROWID;
CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
    INSERT INTO usage (origin, class, bytes, count) VALUES (NEW.origin, NEW.class, NEW.size, 1)
    ON CONFLICT (origin, class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
END;
CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
    UPDATE usage SET bytes = bytes - OLD.size, count = count - 1
    WHERE origin = OLD.origin AND class = OLD.class;
END;
CREATE TRIGGER envelopes_usage_update AFTER UPDATE OF class, origin, size ON envelopes BEGIN
    UPDATE usage SET bytes = bytes - OLD.size, count = count - 1
    WHERE origin = OLD.origin AND class = OLD.class;
    INSERT INTO usage (origin, class, bytes, count) VALUES (NEW.origin, NEW.class, NEW.size, 1)
    ON CONFLICT (origin, class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
END;

-- Ids of envelopes already delivered, opened or purged, kept until they
-- expire so that a replay cannot bring them back.
CREATE TABLE seen (
    id         BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Delivery proofs (preimages of envelope commitments) this node knows.
CREATE TABLE proofs (
    commitment BLOB PRIMARY KEY,
    secret     BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Messages this node sent directly, so a delivery proof can mark them.
CREATE TABLE outbox (
    commitment   BLOB PRIMARY KEY,
    envelope     BLOB NOT NULL,
    conversation BLOB NOT NULL,
    message      BLOB NOT NULL,
    delivered_at INTEGER
) WITHOUT ROWID;
CREATE INDEX outbox_message ON outbox(conversation, message);

CREATE TABLE contacts (
    signing   BLOB PRIMARY KEY,
    agreement BLOB NOT NULL,
    alias     TEXT NOT NULL UNIQUE COLLATE NOCASE,
    card_name TEXT NOT NULL,
    verified  INTEGER NOT NULL DEFAULT 0,
    added_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Cards that claimed a pinned contact's name or alias with other keys.
CREATE TABLE key_changes (
    alias     TEXT NOT NULL,
    old_fp    TEXT NOT NULL,
    new_card  TEXT NOT NULL,
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (alias, new_card)
) WITHOUT ROWID;

CREATE TABLE conversations (
    id            BLOB NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    peer          BLOB,
    doc           BLOB,
    last_activity INTEGER NOT NULL DEFAULT 0,
    unread        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_recent ON conversations(last_activity DESC);
CREATE INDEX conversations_name ON conversations(name COLLATE NOCASE);

-- Keys that open shared envelopes: group epoch keys and channel keys.
CREATE TABLE shared_keys (
    key          BLOB PRIMARY KEY,
    conversation BLOB NOT NULL,
    epoch        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE groups (
    id    BLOB PRIMARY KEY,
    admin BLOB NOT NULL,
    epoch INTEGER NOT NULL
) WITHOUT ROWID;

-- Members of each epoch: a message sealed with an epoch's key counts only
-- if its author was a member of that epoch.
CREATE TABLE group_members (
    grp       BLOB NOT NULL,
    epoch     INTEGER NOT NULL,
    signing   BLOB NOT NULL,
    agreement BLOB NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (grp, epoch, signing)
) WITHOUT ROWID;

-- Every Automerge change applied (or queued) per conversation, by root key,
-- so edits can be built on exactly the changes they modify.
CREATE TABLE changes (
    hash         BLOB NOT NULL UNIQUE,
    conversation BLOB NOT NULL,
    key          TEXT NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE INDEX changes_key ON changes(conversation, key);

-- The projection the UI reads: one row per message, paged by time.
CREATE TABLE messages (
    conversation BLOB NOT NULL,
    id           BLOB NOT NULL,
    author       BLOB NOT NULL,
    author_name  TEXT NOT NULL,
    text         TEXT NOT NULL,
    sent_at      INTEGER NOT NULL,
    reply_to     BLOB,
    edited_at    INTEGER,
    deleted      INTEGER NOT NULL DEFAULT 0,
    reactions    TEXT NOT NULL DEFAULT '[]',
    UNIQUE (conversation, id)
);
CREATE INDEX messages_page ON messages(conversation, sent_at DESC, id DESC);
CREATE INDEX messages_id ON messages(id);

CREATE TABLE read_markers (
    conversation BLOB NOT NULL,
    reader       BLOB NOT NULL,
    up_to        INTEGER NOT NULL,
    PRIMARY KEY (conversation, reader)
) WITHOUT ROWID;
"#;

/// All migrations, oldest first.
/// V2: how many links a received message travelled, 1 when it came straight
/// from its author (NULL for own
/// messages and for messages whose first change came with an edit).
const V2: &str = "ALTER TABLE messages ADD COLUMN hops INTEGER;";

/// V3: relays look envelopes up by routing tag (covering index, so the
/// lookup never reads the envelope bytes).
const V3: &str = "CREATE INDEX envelopes_by_tag ON envelopes (tag, expires_at, id, commitment);";

/// V4: the copy budget of each envelope held (see `crate::routing`); own
/// messages written before it get a full budget.
const V4: &str = "ALTER TABLE envelopes ADD COLUMN copies INTEGER NOT NULL DEFAULT 1;
UPDATE envelopes SET copies = 16 WHERE class = 2;";

/// V5: whether a proof matched something held here (purged or delivered
/// it); only unmatched proofs count against `admission::MAX_UNMATCHED_PROOFS`.
/// Proofs kept before are counted as unmatched, the cautious side.
const V5: &str = "ALTER TABLE proofs ADD COLUMN matched INTEGER NOT NULL DEFAULT 0;
CREATE INDEX proofs_unmatched ON proofs(matched) WHERE matched = 0;";

/// V6: no query reads envelopes by origin since the `usage` table keeps
/// each origin's bytes, yet every insert paid for the index.
const V6: &str = "DROP INDEX envelopes_origin;";

/// V7: a usage row goes with its origin's last envelope. Origins are link
/// addresses and bundles, which a flood can make new for every envelope;
/// rows left at zero grew the store past its cap by one row per origin ever
/// seen (`pollen bench ceiling`).
const V7: &str = "DROP TRIGGER envelopes_usage_delete;
CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
    UPDATE usage SET bytes = bytes - OLD.size, count = count - 1
    WHERE origin = OLD.origin AND class = OLD.class;
    DELETE FROM usage WHERE origin = OLD.origin AND class = OLD.class AND count <= 0;
END;
DROP TRIGGER envelopes_usage_update;
CREATE TRIGGER envelopes_usage_update AFTER UPDATE OF class, origin, size ON envelopes BEGIN
    UPDATE usage SET bytes = bytes - OLD.size, count = count - 1
    WHERE origin = OLD.origin AND class = OLD.class;
    DELETE FROM usage WHERE origin = OLD.origin AND class = OLD.class AND count <= 0;
    INSERT INTO usage (origin, class, bytes, count) VALUES (NEW.origin, NEW.class, NEW.size, 1)
    ON CONFLICT (origin, class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
END;
DELETE FROM usage WHERE count <= 0;";

/// V8: attachment chunks (`crate::attachments`), apart from envelopes and
/// under their own quota, and the blobs this node wants (its own attachments
/// and those it fetches), whose chunks are never evicted for others'.
const V8: &str = "CREATE TABLE chunks (
    id          BLOB NOT NULL UNIQUE,
    blob        BLOB NOT NULL,
    blob_len    INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    size        INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    class       INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX chunks_blob ON chunks(blob, blob_len, idx);
CREATE INDEX chunks_evict ON chunks(class, expires_at);
CREATE INDEX chunks_origin ON chunks(origin, class);
CREATE TABLE wanted_blobs (
    blob     BLOB NOT NULL,
    blob_len INTEGER NOT NULL,
    class    INTEGER NOT NULL,
    PRIMARY KEY (blob, blob_len)
) WITHOUT ROWID;";

/// V9: how many neighbours acknowledged holding each of this node's direct
/// messages (the app's "carried by N"), looked up by envelope id at every
/// acknowledgement.
const V9: &str = "ALTER TABLE outbox ADD COLUMN carriers INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_envelope ON outbox(envelope);";

/// V10: only relays keep the tag index of V3 (`Store::serve_as_relay`
/// builds it again there): every phone paid for it at every insert, in
/// pages written per commit, for a lookup only a relay makes.
const V10: &str = "DROP INDEX IF EXISTS envelopes_by_tag;";

/// V11: when a delivery proof this node made may leave it
/// (`crate::receipts`): 0 for proofs learnt from others, the end of a batch
/// for our own, the largest integer for receipts switched off.
const V11: &str = "ALTER TABLE proofs ADD COLUMN release_at INTEGER NOT NULL DEFAULT 0;";

/// V12: running totals, so that the two checks made at every insert cost
/// the same however much is held (`pollen bench ceiling`): the bytes held
/// per class (the global cap; `usage` has a row per origin, and summing it
/// cost 116 carried envelopes/s at 16,000 origins against 1,552/s at 1,000),
/// and the proofs that matched nothing (the unmatched cap; counting them
/// past the cap ran at 495 proofs/s).
const V12: &str = "CREATE TABLE usage_total (
    class INTEGER PRIMARY KEY,
    bytes INTEGER NOT NULL,
    count INTEGER NOT NULL
);
INSERT INTO usage_total (class, bytes, count) SELECT class, SUM(bytes), SUM(count) FROM usage GROUP BY class;
CREATE TRIGGER envelopes_total_insert AFTER INSERT ON envelopes BEGIN
    INSERT INTO usage_total (class, bytes, count) VALUES (NEW.class, NEW.size, 1)
    ON CONFLICT (class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
END;
CREATE TRIGGER envelopes_total_delete AFTER DELETE ON envelopes BEGIN
    UPDATE usage_total SET bytes = bytes - OLD.size, count = count - 1 WHERE class = OLD.class;
END;
CREATE TRIGGER envelopes_total_update AFTER UPDATE OF class, size ON envelopes BEGIN
    UPDATE usage_total SET bytes = bytes - OLD.size, count = count - 1 WHERE class = OLD.class;
    INSERT INTO usage_total (class, bytes, count) VALUES (NEW.class, NEW.size, 1)
    ON CONFLICT (class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
END;
CREATE TABLE proof_total (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    unmatched INTEGER NOT NULL
);
INSERT INTO proof_total (one, unmatched) SELECT 1, COUNT(*) FROM proofs WHERE matched = 0;
CREATE TRIGGER proofs_total_insert AFTER INSERT ON proofs WHEN NEW.matched = 0 BEGIN
    UPDATE proof_total SET unmatched = unmatched + 1;
END;
CREATE TRIGGER proofs_total_delete AFTER DELETE ON proofs WHEN OLD.matched = 0 BEGIN
    UPDATE proof_total SET unmatched = unmatched - 1;
END;
CREATE TRIGGER proofs_total_update AFTER UPDATE OF matched ON proofs
WHEN (OLD.matched = 0) <> (NEW.matched = 0) BEGIN
    UPDATE proof_total SET unmatched = unmatched + (NEW.matched = 0) - (OLD.matched = 0);
END;";

/// V13: no saved document per conversation. Each root key's document is
/// built from the `changes` stored for it (every change ever applied or
/// queued is there since V1), so a change costs the same in a conversation
/// of ten messages or of a hundred thousand: applying into the whole
/// document and saving it again grew with the conversation (2,000 messages
/// into one chat: 3.4 million instructions each for Automerge's apply alone,
/// half of it renumbering actors, as every change has an actor of its own).
/// Dropping the column rewrites the table; `secure_delete` zeroes the pages
/// the old documents held.
const V13: &str = "ALTER TABLE conversations DROP COLUMN doc;";

/// V14: an envelope's insert counts itself in `usage` and `usage_total`
/// from Rust (`Store::insert_envelope`), in the same transaction, instead
/// of by trigger: SQLite keeps a statement journal for any statement that
/// fires a trigger, and copying every page the insert touched into it cost
/// about a sixth of a carried envelope's ingest. Deletes and updates keep
/// their triggers (many paths delete; one path inserts). And the index on
/// expiry alone goes: expiring finds the expired through the eviction index
/// (class, expires_at), three classes spelt out (`Store::expire`), and the
/// listings of what is unexpired read nearly every row anyway.
const V14: &str = "DROP TRIGGER envelopes_usage_insert;
DROP TRIGGER envelopes_total_insert;
DROP INDEX envelopes_expiry;";

/// V15: shared documents (`crate::shared_docs`): the signed header, every
/// change (kept whole: a document is read by loading them), the
/// conversations it is shared into (a writer's change goes to each), and
/// the changes refused from non-writers, so that the user can be told.
const V15: &str = "CREATE TABLE docs (
    id BLOB PRIMARY KEY,
    header BLOB NOT NULL,
    app TEXT NOT NULL,
    title TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    refused_reason TEXT
) STRICT;
CREATE TABLE doc_changes (
    hash BLOB PRIMARY KEY,
    doc BLOB NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    bytes BLOB NOT NULL
) STRICT;
CREATE INDEX doc_changes_by_doc ON doc_changes (doc);
CREATE TABLE doc_audiences (
    doc BLOB NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
    conversation BLOB NOT NULL,
    PRIMARY KEY (doc, conversation)
) STRICT;";

/// V16: how many peers each chunk was handed to, so that a sender gives
/// the least spread first and carriers met one after another take
/// different parts of a file.
const V16: &str = "ALTER TABLE chunks ADD COLUMN given INTEGER NOT NULL DEFAULT 0;";

/// V17: each chunk's copy budget, sprayed like an envelope's
/// (`crate::routing::CHUNK_COPIES` for a node's own; a carried chunk from
/// before has one copy, kept for the recipient), the order blobs were
/// wanted in, so a session names the latest first, and whether a blob is
/// asked for over Bluetooth too (0: fetched on its own over a fast link
/// only, being over the slow-link limit).
const V17: &str = "ALTER TABLE chunks ADD COLUMN copies INTEGER NOT NULL DEFAULT 1;
UPDATE chunks SET copies = 8 WHERE class = 2;
ALTER TABLE wanted_blobs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wanted_blobs ADD COLUMN slow_ok INTEGER NOT NULL DEFAULT 1;";

/// V18: the attachment reference a message carries (encoded
/// `AttachmentRef`), projected with its text so that a timeline draws it
/// without opening each message's document. Messages projected before
/// carry none here; their documents still do (`Node::message_attachment`).
const V18: &str = "ALTER TABLE messages ADD COLUMN attachment BLOB;";

/// The relay's lookup by routing tag (covering, so it never reads envelope
/// bytes); the same index V3 made everywhere.
pub const RELAY_TAG_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS envelopes_by_tag ON envelopes (tag, expires_at, id, commitment);";

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
        M::up(V7),
        M::up(V8),
        M::up(V9),
        M::up(V10),
        M::up(V11),
        M::up(V12),
        M::up(V13),
        M::up(V14),
        M::up(V15),
        M::up(V16),
        M::up(V17),
        M::up(V18),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
