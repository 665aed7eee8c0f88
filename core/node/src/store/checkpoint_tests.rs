//! The WAL checkpoint: commits wait in the log (durable there) until a
//! running node is idle, or the log passes its backstop; the checkpoint then
//! copies them into the database file.

use super::*;
use pollen_proto::envelope::{Commitment, EnvelopeId, RoutingTag};

fn rec(i: u32) -> EnvelopeRecord {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_le_bytes());
    EnvelopeRecord {
        id: EnvelopeId(id),
        bytes: vec![i as u8; 1024],
        expires_at: 1_000_000,
        tag: RoutingTag([0; 8]),
        commitment: Commitment(id),
        class: EnvelopeClass::Carried,
        copies: 1,
    }
}

fn roomy() -> StoreLimits {
    StoreLimits {
        global_bytes: 1 << 30,
        per_origin_bytes: 1 << 30,
    }
}

/// A store on disk with its schema checkpointed, so that the database
/// file's size changes only when a checkpoint copies what came after.
fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("pollen.db"), roomy()).unwrap();
    s.checkpoint().unwrap();
    (dir, s)
}

#[test]
fn commits_wait_in_the_wal_until_the_checkpoint_copies_them() {
    let (dir, s) = fresh();
    let path = dir.path().join("pollen.db");
    let empty = std::fs::metadata(&path).unwrap().len();
    // Five commits of a thousand 1 KB envelopes: some 2,000 pages, twice
    // what SQLite's default would have let the WAL hold before copying.
    for batch in 0..5u32 {
        s.transaction(|s| {
            for i in 0..1000 {
                s.insert_envelope(&rec(batch * 1000 + i), "peer", 0)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        empty,
        "no commit stopped to copy the WAL"
    );
    let c = s.checkpoint().unwrap();
    assert!(c.wal_pages > 1000, "{c:?}");
    assert_eq!(c.copied, c.wal_pages, "{c:?}");
    assert!(std::fs::metadata(&path).unwrap().len() >= empty + 5000 * 1024);
    drop(s);
    let s = Store::open(&path, roomy()).unwrap();
    assert_eq!(s.usage().unwrap().count(), 5000);
}

#[test]
fn the_backstop_copies_a_long_busy_spell() {
    let (dir, s) = fresh();
    let path = dir.path().join("pollen.db");
    let empty = std::fs::metadata(&path).unwrap().len();
    // About 3 pages a commit's worth of envelopes: past the backstop's
    // 8,192 pages within 30,000 envelopes, with no checkpoint called.
    let mut i = 0u32;
    while std::fs::metadata(&path).unwrap().len() == empty {
        assert!(i < 30_000, "the WAL grew past its backstop uncopied");
        s.transaction(|s| {
            for _ in 0..1000 {
                s.insert_envelope(&rec(i), "peer", 0)?;
                i += 1;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
    assert!(
        i > 15_000,
        "copied after {i} envelopes, before the backstop"
    );
}

#[test]
fn a_store_in_memory_has_nothing_to_checkpoint() {
    let s = Store::in_memory(roomy()).unwrap();
    s.insert_envelope(&rec(1), "peer", 0).unwrap();
    assert_eq!(s.checkpoint().unwrap(), Checkpoint::default());
}
