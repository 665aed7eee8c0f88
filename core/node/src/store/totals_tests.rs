//! The running totals of schema V12 against a recount, after any sequence of
//! inserts, evictions, class changes, purges, proofs and expiry.

use super::*;
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId, RoutingTag};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert {
        id: u8,
        size: u16,
        class: u8,
        origin: u8,
        expires: u8,
    },
    SetClass {
        id: u8,
        class: u8,
    },
    Purge {
        id: u8,
    },
    Proof {
        id: u8,
        matched: bool,
        release: u8,
        expires: u8,
    },
    Expire {
        now: u8,
    },
    Release {
        now: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..24, 1u16..600, 0u8..3, 0u8..5, 1u8..60).prop_map(|(id, size, class, origin, expires)| {
            Op::Insert { id, size, class, origin, expires }
        }),
        1 => (0u8..24, 0u8..3).prop_map(|(id, class)| Op::SetClass { id, class }),
        1 => (0u8..24).prop_map(|id| Op::Purge { id }),
        2 => (0u8..24, any::<bool>(), 0u8..60, 1u8..60).prop_map(|(id, matched, release, expires)| {
            Op::Proof { id, matched, release, expires }
        }),
        1 => (0u8..60).prop_map(|now| Op::Expire { now }),
        1 => (0u8..60).prop_map(|now| Op::Release { now }),
    ]
}

fn class(c: u8) -> EnvelopeClass {
    [
        EnvelopeClass::Carried,
        EnvelopeClass::Shared,
        EnvelopeClass::Own,
    ][usize::from(c % 3)]
}

fn apply(s: &Store, op: &Op) {
    // Refusals (quota, full) are part of the algebra: the totals must not move.
    let _ = match *op {
        Op::Insert {
            id,
            size,
            class: c,
            origin,
            expires,
        } => {
            let rec = EnvelopeRecord {
                id: EnvelopeId([id; 32]),
                bytes: vec![0; usize::from(size)],
                expires_at: u64::from(expires),
                tag: RoutingTag([0; 8]),
                commitment: Commitment([id; 32]),
                class: class(c),
                copies: 1,
            };
            s.insert_envelope(&rec, &format!("origin-{origin}"), 0)
                .map(drop)
        }
        Op::SetClass { id, class: c } => s.set_envelope_class(&EnvelopeId([id; 32]), class(c)),
        Op::Purge { id } => s.purge_commitment(&Commitment([id; 32])).map(drop),
        Op::Proof {
            id,
            matched,
            release,
            expires,
        } => s
            .insert_proof(
                &Commitment([id; 32]),
                &DeliveryProof([id; 32]),
                u64::from(expires),
                matched,
                u64::from(release),
            )
            .map(drop),
        Op::Expire { now } => s.expire(u64::from(now)).map(drop),
        Op::Release { now } => s.release_proofs(u64::from(now)).map(drop),
    };
}

fn recount(s: &Store) -> (Usage, u64) {
    let mut u = Usage::default();
    let mut st = s
        .conn()
        .prepare("SELECT class, COUNT(*), SUM(size) FROM envelopes GROUP BY class")
        .unwrap();
    let mut rows = st.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let pair = (
            r.get::<_, i64>(1).unwrap() as u64,
            r.get::<_, i64>(2).unwrap() as u64,
        );
        match EnvelopeClass::from_i64(r.get(0).unwrap()).unwrap() {
            EnvelopeClass::Own => u.own = pair,
            EnvelopeClass::Shared => u.shared = pair,
            EnvelopeClass::Carried => u.carried = pair,
        }
    }
    let unmatched: i64 = s
        .conn()
        .query_row("SELECT COUNT(*) FROM proofs WHERE matched = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    (u, unmatched as u64)
}

/// (origin, class, bytes, count) rows of the `usage` table, or the same
/// counted from the envelopes held.
fn per_origin(s: &Store, from: &str) -> Vec<(String, i64, i64, i64)> {
    let sql = if from == "usage" {
        "SELECT origin, class, bytes, count FROM usage WHERE count > 0 ORDER BY origin, class"
    } else {
        "SELECT origin, class, SUM(size), COUNT(*) FROM envelopes GROUP BY origin, class ORDER BY origin, class"
    };
    let mut st = s.conn().prepare(sql).unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

proptest! {
    #[test]
    fn running_totals_equal_a_recount(ops in proptest::collection::vec(op(), 1..80)) {
        let s = Store::in_memory(StoreLimits { global_bytes: 4_000, per_origin_bytes: 1_500 }).unwrap();
        for op in &ops {
            apply(&s, op);
            let (u, unmatched) = recount(&s);
            prop_assert_eq!(s.usage().unwrap(), u, "after {:?}", op);
            prop_assert_eq!(s.unmatched_proof_count().unwrap(), unmatched, "after {:?}", op);
            prop_assert_eq!(per_origin(&s, "usage"), per_origin(&s, "recount"), "after {:?}", op);
            prop_assert!(u.bytes() <= 4_000);
        }
    }
}

proptest! {
    /// The same inside transactions of several operations, some rolled
    /// back: an insert's counts, kept in memory until the commit
    /// (`usage_ledger`), are seen by the quota and cap checks of the inserts
    /// after it and by every other statement, and go with a rollback.
    #[test]
    fn totals_hold_within_transactions_and_after_rollbacks(
        batches in proptest::collection::vec(
            (proptest::collection::vec(op(), 1..16), any::<bool>()), 1..10)
    ) {
        let s = Store::in_memory(StoreLimits { global_bytes: 4_000, per_origin_bytes: 1_500 }).unwrap();
        for (ops, commit) in &batches {
            let before = (s.usage().unwrap(), per_origin(&s, "usage"));
            let result: Result<(), StoreError> = s.transaction(|s| {
                for op in ops {
                    apply(s, op);
                }
                // Read while counts may still be pending: the read writes them first.
                let (u, _) = recount(s);
                if s.usage()? != u || u.bytes() > 4_000 {
                    return Err(StoreError::Corrupt(format!("inside: {:?} against {u:?}", s.usage()?)));
                }
                if *commit { Ok(()) } else { Err(StoreError::Corrupt("rolled back".into())) }
            });
            match result {
                Ok(()) => {}
                Err(StoreError::Corrupt(why)) if why == "rolled back" => {
                    prop_assert_eq!(&(s.usage().unwrap(), per_origin(&s, "usage")), &before);
                }
                Err(e) => prop_assert!(false, "{}", e),
            }
            let (u, _) = recount(&s);
            prop_assert_eq!(s.usage().unwrap(), u);
            prop_assert_eq!(per_origin(&s, "usage"), per_origin(&s, "recount"));
            prop_assert!(u.bytes() <= 4_000);
        }
    }
}

#[test]
fn a_store_written_before_the_totals_gets_them_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let limits = StoreLimits {
        global_bytes: 1 << 20,
        per_origin_bytes: 1 << 20,
    };
    {
        let s = Store::open(&path, limits).unwrap();
        for id in 0..5u8 {
            apply(
                &s,
                &Op::Insert {
                    id,
                    size: 100 + u16::from(id),
                    class: id,
                    origin: id,
                    expires: 50,
                },
            );
            apply(
                &s,
                &Op::Proof {
                    id,
                    matched: id % 2 == 0,
                    release: 0,
                    expires: 50,
                },
            );
        }
        // Back to V11, as an older build left it: the totals and their
        // triggers gone, the saved documents' column back (V13 dropped it)
        // and the per-origin insert trigger and the expiry index back (V14
        // dropped them), and no shared-document tables (V15), no chunk spread counts (V16) or budgets (V17), no projected attachments (V18).
        s.conn()
            .execute_batch(
                "ALTER TABLE messages DROP COLUMN attachment; ALTER TABLE chunks DROP COLUMN given; ALTER TABLE chunks DROP COLUMN copies; ALTER TABLE wanted_blobs DROP COLUMN seq; ALTER TABLE wanted_blobs DROP COLUMN slow_ok;
                 DROP TABLE doc_audiences; DROP TABLE doc_changes; DROP TABLE docs;
                 DROP TABLE usage_total; DROP TABLE proof_total;
                 DROP TRIGGER envelopes_total_delete;
                 DROP TRIGGER envelopes_total_update; DROP TRIGGER proofs_total_insert;
                 DROP TRIGGER proofs_total_delete; DROP TRIGGER proofs_total_update;
                 ALTER TABLE conversations ADD COLUMN doc BLOB;
                 CREATE INDEX envelopes_expiry ON envelopes(expires_at);
                 CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
                     INSERT INTO usage (origin, class, bytes, count) VALUES (NEW.origin, NEW.class, NEW.size, 1)
                     ON CONFLICT (origin, class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
                 END;
                 PRAGMA user_version = 11;",
            )
            .unwrap();
    }
    let s = Store::open(&path, limits).unwrap();
    let triggers: i64 = s
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '%_insert' AND tbl_name = 'envelopes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0, "an insert counts itself (V14)");
    assert_eq!(per_origin(&s, "usage"), per_origin(&s, "recount"));
    let (u, unmatched) = recount(&s);
    assert_eq!(
        (s.usage().unwrap(), s.unmatched_proof_count().unwrap()),
        (u, unmatched)
    );
    assert_eq!((u.count(), unmatched), (5, 2));
}
