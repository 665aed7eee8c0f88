//! What the crash tests share: bundles of envelopes nobody here can read,
//! a seeded generator for kill points, and the checks a restarted node's
//! database must pass.

// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use pollen_node::conversation::{self, MessageId, Op};
use pollen_proto::bundle::{BundleWriter, Record};
use pollen_proto::envelope::{self, Draft, EnvelopeId, Recipient, SharedKey};
use pollen_proto::identity::Identity;
use pollen_proto::payload::Payload;
use std::collections::BTreeMap;
use std::path::Path;

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The channel the node under test joins: its posts are always handed to
/// members, so a finished session means the node holds them all.
pub const ROOM: &str = "tracked-room";

/// One envelope to write into a bundle.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Small carried junk for a channel nobody here joined.
    Carried,
    /// A real post (an Automerge change) in [`ROOM`], expiring in three
    /// days: the envelopes whose survival is checked.
    Tracked,
    /// Large (16 KiB bucket), expiring in one day: what eviction takes first,
    /// since it evicts carried envelopes soonest to expire first.
    Fodder,
}

/// Seals carried channel envelopes for a channel nobody in the test joined.
pub struct Stranger {
    author: Identity,
    key: SharedKey,
    room: SharedKey,
    t: u64,
    n: u64,
}

impl Stranger {
    /// A fresh author.
    pub fn new() -> Stranger {
        Stranger {
            author: Identity::generate("stranger").unwrap(),
            key: SharedKey::for_channel("somewhere-else"),
            room: SharedKey::for_channel(ROOM),
            t: now(),
            n: 0,
        }
    }

    /// Writes one bundle of `kinds`, in order; returns each envelope's id
    /// and kind, in bundle order.
    pub fn bundle(&mut self, path: &Path, kinds: &[Kind]) -> Vec<([u8; 32], Kind)> {
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut w = BundleWriter::new(file).unwrap();
        let mut out = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            self.n += 1;
            let (payload, days, key) = match kind {
                Kind::Carried => (format!("carried {}", self.n).into_bytes(), 3, &self.key),
                Kind::Tracked => (self.post(&format!("tracked {}", self.n)), 3, &self.room),
                Kind::Fodder => (
                    format!("fodder {} {}", self.n, "x".repeat(12_000)).into_bytes(),
                    1,
                    &self.key,
                ),
            };
            let sealed = envelope::seal(
                &self.author,
                &Draft {
                    to: Recipient::Shared(key),
                    payload: &payload,
                    sent_at: self.t,
                    expires_at: self.t + days * 86400,
                    hops: 5,
                },
            )
            .unwrap();
            let id = sealed.envelope.id().0;
            w.write(&Record::Envelope {
                id: EnvelopeId(id),
                bytes: sealed.envelope.encode(),
            })
            .unwrap();
            out.push((id, kind));
        }
        w.finish().unwrap();
        out
    }
}

impl Stranger {
    /// A post by this author, as a phone would send it.
    fn post(&self, text: &str) -> Vec<u8> {
        let signing = self.author.public().signing;
        let op = Op::Post {
            id: MessageId::for_author(&signing),
            text: text.to_owned(),
            reply_to: None,
            attachment: None,
        };
        let change = conversation::build_change(&signing, &op, self.t * 1000, &[]).unwrap();
        Payload::Change {
            key: change.key,
            change: change.bytes,
        }
        .encode()
    }
}

/// splitmix64: a seeded generator with no dependency, so a failing run's
/// kill points can be replayed from its printed seed.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The seed from `POLLEN_CRASH_SEED`, else from the clock.
pub fn seed() -> u64 {
    std::env::var("POLLEN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// What a restarted node's database says about itself.
pub struct Health {
    /// `PRAGMA integrity_check`'s first row ("ok" when sound).
    pub integrity: String,
    /// (origin, class) rows where the usage table, which quota checks trust,
    /// disagrees with the envelopes actually held.
    pub usage_mismatches: Vec<String>,
    /// Bytes of envelopes held.
    pub envelope_bytes: u64,
}

/// Opens the database of a stopped node and checks it.
pub fn health(db: &rusqlite::Connection) -> Health {
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut actual: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    let mut st = db
        .prepare("SELECT origin, class, SUM(size), COUNT(*) FROM envelopes GROUP BY origin, class")
        .unwrap();
    for row in st
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
        .unwrap()
    {
        let (k, v) = row.unwrap();
        actual.insert(k, v);
    }
    let mut kept: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    let mut st = db
        .prepare("SELECT origin, class, bytes, count FROM usage WHERE count != 0 OR bytes != 0")
        .unwrap();
    for row in st
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
        .unwrap()
    {
        let (k, v) = row.unwrap();
        kept.insert(k, v);
    }
    let mut usage_mismatches = Vec::new();
    for k in actual.keys().chain(kept.keys()) {
        if actual.get(k) != kept.get(k) {
            usage_mismatches.push(format!(
                "{k:?}: held {:?}, usage says {:?}",
                actual.get(k),
                kept.get(k)
            ));
        }
    }
    let envelope_bytes = actual.values().map(|(b, _)| *b as u64).sum();
    Health {
        integrity,
        usage_mismatches,
        envelope_bytes,
    }
}

/// The ids of `ids` that the database does not hold.
pub fn missing(db: &rusqlite::Connection, ids: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut has = db.prepare("SELECT 1 FROM envelopes WHERE id = ?1").unwrap();
    ids.iter()
        .filter(|id| !has.exists([&id[..]]).unwrap())
        .copied()
        .collect()
}

/// Whether the message projection holds a message with this text.
pub fn has_text(db: &rusqlite::Connection, text: &str) -> bool {
    db.prepare("SELECT 1 FROM messages WHERE text = ?1")
        .unwrap()
        .exists([text])
        .unwrap()
}
