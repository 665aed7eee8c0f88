//! The relay store on a real PostgreSQL server.
//!
//! Each test starts its own throwaway server with `tests/pg/start_postgres.sh`
//! (installing PostgreSQL from Debian's packages if needed) and stops it with
//! `tests/pg/stop_postgres.sh` when it ends, passed or failed; a watchdog
//! started with the server stops it too if this process is killed. That
//! needs root, so those tests are `#[ignore]`d and reported as ignored unless
//! asked for (`scripts/test.sh` asks as root, with `-- --ignored`); asked for,
//! a server that cannot start fails them.

use pollen_node::node::{Clock, Node, SystemClock};
use pollen_node::relay::postgres::{PgRelayStore, RelayStoreError};
use pollen_node::relay::{Expired, MAX_UNMATCHED_PROOFS, RelayLimits, RelayUsage};
use pollen_proto::envelope::{
    Commitment, DeliveryProof, Draft, Envelope, EnvelopeId, Recipient, SharedKey, seal,
};
use pollen_proto::identity::Identity;
use pollen_proto::sync::store::{Incoming, ItemKind, Received, SyncStore, proof_item_id};
use pollen_tests::Pg;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(AtomicU64::new(T0)))
    }
    fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn store(pg: &Pg, limits: RelayLimits, clock: &TestClock) -> PgRelayStore {
    PgRelayStore::connect_with_clock(&pg.url, limits, Box::new(clock.clone())).unwrap()
}

/// A sealed envelope and what a test needs to know about it.
struct Made {
    bytes: Vec<u8>,
    id: EnvelopeId,
    secret: DeliveryProof,
    commitment: Commitment,
    expires_at: u64,
}

fn made(sealed: pollen_proto::envelope::Sealed) -> Made {
    let env = sealed.envelope;
    Made {
        bytes: env.encode(),
        id: env.id(),
        secret: sealed.proof_secret,
        commitment: env.header().commitment,
        expires_at: env.header().expires_at,
    }
}

/// A 512-byte channel envelope, different every call.
fn envelope(expires_at: u64, hops: u8) -> Made {
    let author = Identity::generate("Relay Tester").unwrap();
    let key = SharedKey([42; 32]);
    made(
        seal(
            &author,
            &Draft {
                to: Recipient::Shared(&key),
                payload: b"carried",
                sent_at: expires_at.saturating_sub(DAY).min(T0),
                expires_at,
                hops,
            },
        )
        .unwrap(),
    )
}

fn env(m: &Made) -> Incoming {
    Incoming::Envelope(m.bytes.clone())
}

fn ingest(s: &mut PgRelayStore, items: &[Incoming], origin: &str) -> Vec<Received> {
    s.ingest(items, origin).unwrap().0
}

fn usage(s: &PgRelayStore) -> (u64, u64) {
    let u = s.usage().unwrap();
    (u.envelopes, u.bytes)
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn ingest_deduplicates_spends_a_hop_and_refuses_with_the_protocol_reasons() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    assert!(s.interests().unwrap().direct.is_empty() && s.interests().unwrap().shared.is_empty());

    let a = envelope(T0 + 3600, 5);
    assert_eq!(ingest(&mut s, &[env(&a)], "tcp:a"), [Received::Carried]);
    assert_eq!(ingest(&mut s, &[env(&a)], "tcp:b"), [Received::Duplicate]);
    let b = envelope(T0 + 7200, 5);
    assert_eq!(
        ingest(&mut s, &[env(&b), env(&b)], "tcp:a"),
        [Received::Carried, Received::Duplicate]
    );

    // Stored with one hop spent; the id ignores hops.
    let held = s.envelope(&a.id).unwrap().expect("held");
    assert_eq!(held[9], 4);
    assert_eq!(held[..9], a.bytes[..9]);
    assert_eq!(held[10..], a.bytes[10..]);
    assert_eq!(Envelope::decode(&held).unwrap().id(), a.id);

    let items = s.items().unwrap();
    assert_eq!(items.len(), 2);
    let item = items.iter().find(|i| i.id == a.id.0).unwrap();
    assert_eq!(item.expires_at, a.expires_at);
    let header = *Envelope::decode(&a.bytes).unwrap().header();
    assert_eq!(
        item.kind,
        ItemKind::Envelope {
            tag: header.tag,
            commitment: a.commitment
        }
    );

    // An envelope stored with its last hop spent is still a duplicate when
    // it comes back: the duplicate check comes before the hop check.
    let last = envelope(T0 + 3600, 1);
    assert_eq!(ingest(&mut s, &[env(&last)], "tcp:a"), [Received::Carried]);
    let spent = s.envelope(&last.id).unwrap().unwrap();
    assert_eq!(spent[9], 0);
    assert_eq!(
        ingest(&mut s, &[Incoming::Envelope(spent)], "tcp:c"),
        [Received::Duplicate]
    );

    let mut v2 = a.bytes.clone();
    v2[0] = 2;
    let far = made(
        seal(
            &Identity::generate("Far").unwrap(),
            &Draft {
                to: Recipient::Shared(&SharedKey([1; 32])),
                payload: b"x",
                sent_at: T0 + 2 * DAY,
                expires_at: T0 + 32 * DAY,
                hops: 3,
            },
        )
        .unwrap(),
    );
    let refused = ingest(
        &mut s,
        &[
            Incoming::Envelope(vec![1; 100]),
            Incoming::Envelope(v2),
            Incoming::Envelope(vec![1; 70_000]),
            env(&envelope(T0, 3)),
            env(&far),
            env(&envelope(T0 + 60, 0)),
        ],
        "tcp:a",
    );
    assert_eq!(
        refused,
        [
            Received::Rejected("bad_length"),
            Received::Rejected("unsupported_version"),
            Received::Rejected("oversized"),
            Received::Rejected("expired"),
            Received::Rejected("expiry_too_far"),
            Received::Rejected("no_hops_left"),
        ]
    );
    assert_eq!(usage(&s), (3, 3 * 512));
    assert!(!s.seen(&a.id).unwrap());
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn a_proof_purges_its_envelope_and_a_forged_one_purges_nothing() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let a = envelope(T0 + 3600, 5);
    let other = envelope(T0 + 3600, 5);
    ingest(&mut s, &[env(&a), env(&other)], "tcp:a");

    // Made-up proofs, one a bit away from the real secret: they open no
    // commitment, so nothing is purged (they are kept to travel on).
    let mut near = a.secret;
    near.0[0] ^= 1;
    assert_eq!(
        ingest(
            &mut s,
            &[
                Incoming::Proof(DeliveryProof([9; 32])),
                Incoming::Proof(near)
            ],
            "tcp:evil"
        ),
        [
            Received::Proof {
                purged: 0,
                delivered: false
            },
            Received::Proof {
                purged: 0,
                delivered: false
            }
        ]
    );
    assert!(s.envelope(&a.id).unwrap().is_some());
    assert_eq!(usage(&s), (2, 1024));

    assert_eq!(
        ingest(&mut s, &[Incoming::Proof(a.secret)], "tcp:b"),
        [Received::Proof {
            purged: 1,
            delivered: false
        }]
    );
    assert_eq!(s.envelope(&a.id).unwrap(), None);
    assert!(s.seen(&a.id).unwrap());
    assert_eq!(s.proof(&a.commitment).unwrap(), Some(a.secret));
    // Whoever still carries the delivered envelope gets its proof back; the
    // relay opens nothing, so an undelivered duplicate yields no proof.
    let (again, back) = s.ingest(&[env(&a)], "tcp:c").unwrap();
    assert_eq!(again, [Received::Duplicate]);
    assert_eq!(back, vec![a.secret]);
    let (dup, none) = s.ingest(&[env(&other)], "tcp:c").unwrap();
    assert_eq!(dup, [Received::Duplicate]);
    assert!(none.is_empty());
    assert!(s.envelope(&other.id).unwrap().is_some());
    assert_eq!(usage(&s), (1, 512));
    let items = s.items().unwrap();
    let proof = items
        .iter()
        .find(|i| i.id == proof_item_id(&a.commitment))
        .expect("the proof is offered");
    assert_eq!(
        proof.kind,
        ItemKind::Proof {
            commitment: a.commitment
        }
    );
    // Kept as long as the envelope could still be around.
    assert_eq!(proof.expires_at, a.expires_at);
    assert!(items.iter().all(|i| i.id != a.id.0));

    // Neither comes back.
    assert_eq!(
        ingest(&mut s, &[Incoming::Proof(a.secret), env(&a)], "tcp:c"),
        [Received::ProofKnown, Received::Duplicate]
    );
    // A proof that arrives first keeps its envelope out.
    let later = envelope(T0 + 3600, 5);
    ingest(&mut s, &[Incoming::Proof(later.secret)], "tcp:c");
    assert_eq!(
        ingest(&mut s, &[env(&later)], "tcp:c"),
        [Received::Duplicate]
    );
    assert_eq!(s.envelope(&later.id).unwrap(), None);

    // Unmatched proofs are capped; proofs that purge something are not.
    let mut c = pg.client();
    c.execute(
        "INSERT INTO proofs (commitment, secret, expires_at, matched)
         SELECT sha256(i::text::bytea), sha256(i::text::bytea), $1, false
         FROM generate_series(1, $2::bigint) i",
        &[&((T0 + DAY) as i64), &(MAX_UNMATCHED_PROOFS as i64)],
    )
    .unwrap();
    assert_eq!(
        ingest(
            &mut s,
            &[Incoming::Proof(DeliveryProof([7; 32]))],
            "tcp:evil"
        ),
        [Received::ProofKnown]
    );
    assert_eq!(s.proof(&DeliveryProof([7; 32]).commitment()).unwrap(), None);
    assert_eq!(
        ingest(&mut s, &[Incoming::Proof(other.secret)], "tcp:b"),
        [Received::Proof {
            purged: 1,
            delivered: false
        }]
    );
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn quotas_and_eviction() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let limits = RelayLimits {
        global_bytes: 4 * 512,
        per_origin_bytes: 3 * 512,
    };
    let mut s = store(&pg, limits, &clock);
    let a: Vec<Made> = (1..=4).map(|i| envelope(T0 + 100 * i, 5)).collect();
    let inc: Vec<Incoming> = a.iter().map(env).collect();
    assert_eq!(
        ingest(&mut s, &inc, "tcp:a"),
        [
            Received::Carried,
            Received::Carried,
            Received::Carried,
            Received::Rejected("quota_exceeded")
        ]
    );
    let b1 = envelope(T0 + 50, 5);
    assert_eq!(ingest(&mut s, &[env(&b1)], "tcp:b"), [Received::Carried]);
    assert_eq!(usage(&s), (4, 2048));

    // Full: b's next envelope evicts exactly one, the soonest to expire of
    // the other origins (a's first), although b's own expires sooner.
    let b2 = envelope(T0 + 1000, 5);
    assert_eq!(ingest(&mut s, &[env(&b2)], "tcp:b"), [Received::Carried]);
    assert_eq!(usage(&s), (4, 2048));
    assert_eq!(s.envelope(&a[0].id).unwrap(), None);
    for kept in [&a[1], &a[2], &b1, &b2] {
        assert!(s.envelope(&kept.id).unwrap().is_some());
    }
    // Evicted is not seen: it may be carried here again later.
    assert!(!s.seen(&a[0].id).unwrap());
    // A duplicate stays a duplicate when the relay is full.
    assert_eq!(ingest(&mut s, &[env(&b2)], "tcp:c"), [Received::Duplicate]);

    // Nothing to evict but what the same batch stored: refused, and nothing
    // was evicted for the attempt.
    let pg2 = pg.fresh_database("small");
    let mut small = PgRelayStore::connect_with_clock(
        &pg2,
        RelayLimits {
            global_bytes: 1024,
            per_origin_bytes: 4096,
        },
        Box::new(clock.clone()),
    )
    .unwrap();
    let x: Vec<Made> = (1..=4).map(|i| envelope(T0 + 100 * i, 5)).collect();
    assert_eq!(
        ingest(&mut small, &[env(&x[0]), env(&x[1]), env(&x[2])], "tcp:x"),
        [
            Received::Carried,
            Received::Carried,
            Received::Rejected("store_full")
        ]
    );
    assert_eq!(usage(&small), (2, 1024));
    // With no other origin's envelopes, a later batch evicts the origin's
    // own soonest-to-expire one.
    assert_eq!(
        ingest(&mut small, &[env(&x[3])], "tcp:x"),
        [Received::Carried]
    );
    assert_eq!(small.envelope(&x[0].id).unwrap(), None);
    assert!(small.envelope(&x[1].id).unwrap().is_some());
    assert_eq!(usage(&small), (2, 1024));
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn expiry_drops_envelopes_proofs_and_seen_ids() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let soon = envelope(T0 + 100, 5);
    let late = envelope(T0 + 1000, 5);
    ingest(
        &mut s,
        &[
            env(&soon),
            env(&late),
            Incoming::Proof(late.secret),
            Incoming::Proof(DeliveryProof([5; 32])),
        ],
        "tcp:a",
    );
    assert_eq!(s.items().unwrap().len(), 3);

    // Past its expiry an envelope is no longer offered or handed out, even
    // before the expiry pass drops it.
    clock.set(T0 + 100);
    assert_eq!(s.items().unwrap().len(), 2);
    assert_eq!(s.envelope(&soon.id).unwrap(), None);
    assert_eq!(
        s.expire(T0 + 100).unwrap(),
        Expired {
            envelopes: 1,
            proofs: 0,
            seen: 0,
            chunks: 0
        }
    );
    assert_eq!(usage(&s), (0, 0));
    // The purged envelope's proof and seen id last as long as it could.
    assert_eq!(
        s.expire(T0 + 1000).unwrap(),
        Expired {
            envelopes: 0,
            proofs: 1,
            seen: 1,
            chunks: 0
        }
    );
    assert!(!s.seen(&late.id).unwrap());
    // An unmatched proof lasts the default message lifetime.
    assert_eq!(
        s.expire(T0 + 7 * DAY).unwrap(),
        Expired {
            envelopes: 0,
            proofs: 1,
            seen: 0,
            chunks: 0
        }
    );
    assert_eq!(
        s.usage().unwrap(),
        RelayUsage {
            bytes: 0,
            envelopes: 0,
            proofs: 0
        }
    );
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn two_relays_on_one_database_behave_as_one() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let limits = RelayLimits {
        global_bytes: 1 << 30,
        per_origin_bytes: 2 * 512,
    };
    let mut r1 = store(&pg, limits, &clock);
    let mut r2 = store(&pg, limits, &clock);
    let a = envelope(T0 + 3600, 5);
    assert_eq!(
        ingest(&mut r1, &[env(&a)], "tcp:phone"),
        [Received::Carried]
    );
    // What one holds, the other offers and hands out.
    assert!(r2.items().unwrap().iter().any(|i| i.id == a.id.0));
    assert_eq!(r2.envelope(&a.id).unwrap(), r1.envelope(&a.id).unwrap());
    assert_eq!(
        ingest(&mut r2, &[env(&a)], "tcp:other"),
        [Received::Duplicate]
    );
    // One origin's quota counts across both.
    let b = envelope(T0 + 3600, 5);
    let c = envelope(T0 + 3600, 5);
    assert_eq!(
        ingest(&mut r2, &[env(&b)], "tcp:phone"),
        [Received::Carried]
    );
    assert_eq!(
        ingest(&mut r1, &[env(&c)], "tcp:phone"),
        [Received::Rejected("quota_exceeded")]
    );
    // A proof given to one purges the envelope for both.
    assert_eq!(
        ingest(&mut r2, &[Incoming::Proof(a.secret)], "tcp:bob"),
        [Received::Proof {
            purged: 1,
            delivered: false
        }]
    );
    assert_eq!(r1.envelope(&a.id).unwrap(), None);
    assert!(r1.seen(&a.id).unwrap());
    assert_eq!(r1.proof(&a.commitment).unwrap(), Some(a.secret));
    assert_eq!(
        ingest(&mut r1, &[Incoming::Proof(a.secret)], "tcp:bob"),
        [Received::ProofKnown]
    );
    assert_eq!(r1.usage().unwrap(), r2.usage().unwrap());
    assert_eq!(usage(&r1), (1, 512));
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn concurrent_ingest_of_the_same_envelopes_stores_each_once() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let all: Arc<Vec<Made>> = Arc::new((0..300).map(|i| envelope(T0 + 600 + i, 5)).collect());
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (url, clock, all, start) =
                (pg.url.clone(), clock.clone(), all.clone(), start.clone());
            std::thread::spawn(move || {
                let mut s =
                    PgRelayStore::connect_with_clock(&url, RelayLimits::default(), Box::new(clock))
                        .unwrap();
                let mut order: Vec<usize> = (0..all.len()).collect();
                // One thread goes backwards, so they meet in the middle.
                if t == 1 {
                    order.reverse();
                }
                start.wait();
                let mut results = vec![None; all.len()];
                for chunk in order.chunks(25) {
                    let batch: Vec<Incoming> = chunk.iter().map(|&i| env(&all[i])).collect();
                    let (received, _) = s.ingest(&batch, &format!("tcp:{t}")).unwrap();
                    for (&i, r) in chunk.iter().zip(received) {
                        results[i] = Some(r);
                    }
                }
                results
            })
        })
        .collect();
    let results: Vec<Vec<Option<Received>>> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, (first, second)) in results[0].iter().zip(&results[1]).enumerate() {
        let mut got = [first.clone(), second.clone()];
        got.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(
            got,
            [Some(Received::Carried), Some(Received::Duplicate)],
            "envelope {i}"
        );
    }
    let s = store(&pg, RelayLimits::default(), &clock);
    assert_eq!(usage(&s), (300, 300 * 512));
    let n: i64 = pg
        .client()
        .query_one("SELECT COUNT(*) FROM envelopes", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 300);
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn relays_starting_at_once_create_the_schema_once() {
    let pg = Pg::start();
    let url = pg.fresh_database("fresh");
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                PgRelayStore::connect(&url, RelayLimits::default()).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().expect("every relay connects");
    }
    // And a restart finds the schema in place.
    let mut s = PgRelayStore::connect(&url, RelayLimits::default()).unwrap();
    assert!(s.items().unwrap().is_empty());
    drop(s);
    // A database of the first version (no chunks) is upgraded in place.
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("DROP TABLE chunks; UPDATE relay_schema SET version = 1")
        .unwrap();
    drop(PgRelayStore::connect(&url, RelayLimits::default()).unwrap());
    let version: i64 = c
        .query_one("SELECT version FROM relay_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 2);
    c.batch_execute("SELECT COUNT(*) FROM chunks").unwrap();
    // A database set up by a newer relay is refused, not misread.
    c.batch_execute("UPDATE relay_schema SET version = version + 1")
        .unwrap();
    let err = PgRelayStore::connect(&url, RelayLimits::default()).unwrap_err();
    assert!(
        matches!(err, RelayStoreError::SchemaTooNew { found: 3 }),
        "{err}"
    );
}

/// Needs no server, so it runs as any user.
#[test]
fn bad_urls_and_unreachable_servers_are_errors() {
    let err = PgRelayStore::connect("postgresql://[nonsense", RelayLimits::default()).unwrap_err();
    assert!(matches!(err, RelayStoreError::Postgres(_)), "{err}");
    // Port 1 on loopback: nothing listens there.
    let err = PgRelayStore::connect(
        "postgresql://relay@127.0.0.1:1/pollen",
        RelayLimits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("PostgreSQL: "), "{err}");
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn a_relay_reconnects_after_losing_its_connection() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let a = envelope(T0 + 3600, 5);
    ingest(&mut s, &[env(&a)], "tcp:a");
    let killed: i64 = pg
        .client()
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = 'pollen-relay'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    // The call that finds the connection dead fails (the session closes and
    // is retried at the next encounter); the next one reconnects.
    let mut failures = 0;
    let items = loop {
        match s.items() {
            Ok(items) => break items,
            Err(e) if failures == 0 => {
                println!("first call after the kill: {e}");
                failures += 1;
            }
            Err(e) => panic!("did not reconnect: {e}"),
        }
    };
    assert_eq!(items.len(), 1);
    assert_eq!(
        ingest(&mut s, &[env(&envelope(T0 + 3600, 5))], "tcp:a"),
        [Received::Carried]
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn the_database_holds_no_plaintext() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let canary = b"CANARY-7f3a the ferry leaves at six from pier nine";
    let alice = Identity::generate("Alice Canarywright").unwrap();
    let bob = Identity::generate("Bob").unwrap();
    let sealed = made(
        seal(
            &alice,
            &Draft {
                to: Recipient::Direct(&bob.public()),
                payload: canary,
                sent_at: T0,
                expires_at: T0 + DAY,
                hops: 5,
            },
        )
        .unwrap(),
    );
    assert_eq!(
        ingest(&mut s, &[env(&sealed)], "tcp:a"),
        [Received::Carried]
    );
    let mut c = pg.client();

    // In SQL: no stored byte string contains the text; the ciphertext is there.
    let body = &sealed.bytes[100..164];
    let count = |c: &mut postgres::Client, needle: &[u8]| -> i64 {
        c.query_one(
            "SELECT COUNT(*) FROM envelopes WHERE position($1::bytea in bytes) > 0
                OR position($1::bytea in convert_to(envelopes::text, 'UTF8')) > 0",
            &[&needle],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(count(&mut c, canary), 0);
    assert_eq!(count(&mut c, b"Alice Canarywright"), 0);
    assert_eq!(count(&mut c, body), 1, "control: the ciphertext is stored");

    // On disk, tables, indexes and WAL: the text nowhere, the ciphertext found.
    c.batch_execute("CHECKPOINT").unwrap();
    let mut all = Vec::new();
    files(&pg.dir.join("data"), &mut all);
    let (mut text, mut name, mut cipher) = (Vec::new(), Vec::new(), 0);
    for f in &all {
        let bytes = std::fs::read(f).unwrap_or_default();
        if contains(&bytes, canary) {
            text.push(f.clone());
        }
        if contains(&bytes, b"Alice Canarywright") {
            name.push(f.clone());
        }
        if contains(&bytes, body) {
            cipher += 1;
        }
    }
    assert!(text.is_empty(), "plaintext found in {text:?}");
    assert!(name.is_empty(), "author name found in {name:?}");
    assert!(
        cipher > 0,
        "control: the ciphertext is in the data files ({} files searched)",
        all.len()
    );
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn sessions_inside_a_tokio_current_thread_runtime_use_the_store() {
    let pg = Pg::start();
    let root = tempfile::tempdir().unwrap();
    let alice = Node::init(&root.path().join("alice"), "Alice", Box::new(SystemClock)).unwrap();
    let bob = Node::init(&root.path().join("bob"), "Bob", Box::new(SystemClock)).unwrap();
    alice.add_contact(&bob.card(), None).unwrap();
    bob.add_contact(&alice.card(), None).unwrap();
    // Bob's proof straight back (by default it waits for its batch).
    bob.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    let text = "meet at the relay 41c7";
    alice.send_direct("Bob", text).unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        // Where the blocking client would panic ("Cannot start a runtime
        // from within a runtime"), had it been called on this thread.
        assert!(tokio::runtime::Handle::try_current().is_ok());

        let relay = PgRelayStore::connect(&pg.url, RelayLimits::default()).unwrap();
        let relay = Rc::new(RefCell::new(relay));
        let listener = pollen_runtime::listen("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let failures = Rc::new(RefCell::new(Vec::new()));
        let seen = failures.clone();
        let server = tokio::task::spawn_local(pollen_runtime::serve(
            listener,
            relay.clone(),
            move |_, outcome| {
                if let Some(e) = &outcome.error {
                    seen.borrow_mut().push(e.to_string());
                }
            },
            async {
                let _ = stopped.await;
            },
        ));

        let alice = RefCell::new(alice);
        let o = pollen_runtime::sync_once(&addr, &alice).await.unwrap();
        assert!(o.error.is_none(), "{:?}", o.error);
        assert_eq!(relay.borrow().usage().unwrap().envelopes, 1);

        let bob = RefCell::new(bob);
        let o = pollen_runtime::sync_once(&addr, &bob).await.unwrap();
        assert!(o.error.is_none(), "{:?}", o.error);
        assert_eq!(o.opened, 1);
        let got = bob.borrow().messages(None, 10, None).unwrap();
        assert!(got.iter().any(|m| m.text == text));
        // Bob's proof came back in the same session and the relay purged.
        let u = relay.borrow().usage().unwrap();
        assert_eq!((u.envelopes, u.proofs), (0, 1));

        let o = pollen_runtime::sync_once(&addr, &alice).await.unwrap();
        assert!(o.error.is_none(), "{:?}", o.error);
        assert_eq!(o.delivered, 1, "the proof reached Alice through the relay");

        let _ = stop.send(());
        server.await.unwrap();
        assert!(failures.borrow().is_empty(), "{:?}", failures.borrow());
        // Dropping inside the runtime joins the connection thread cleanly.
        drop(relay);
    });
}

/// Not a benchmark, a quick measure printed with the test output:
/// `cargo test ... -- --nocapture ingest_rate`.
#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn ingest_rate() {
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let singles: Vec<Incoming> = (0..500).map(|i| env(&envelope(T0 + 600 + i, 5))).collect();
    let batched: Vec<Incoming> = (0..5000).map(|i| env(&envelope(T0 + 600 + i, 5))).collect();
    for (items, batch) in [(&singles, 1), (&batched, 256)] {
        let started = Instant::now();
        let mut carried = 0;
        for chunk in items.chunks(batch) {
            let (r, _) = s.ingest(chunk, "tcp:bench").unwrap();
            carried += r.iter().filter(|r| **r == Received::Carried).count();
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(carried, items.len());
        println!(
            "ingest: {} envelopes of 512 bytes, {batch} per transaction: {secs:.2} s, {:.0} envelopes/s",
            items.len(),
            items.len() as f64 / secs
        );
    }
    let started = Instant::now();
    let (r, _) = s.ingest(&batched[..256], "tcp:bench").unwrap();
    assert!(r.iter().all(|r| *r == Received::Duplicate));
    println!(
        "ingest: 256 duplicates in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    let items = s.items().unwrap();
    assert_eq!(items.len(), 5500);
    println!(
        "items(): {} in {:.1} ms",
        items.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn chunks_are_verified_kept_apart_and_served_only_for_a_named_blob() {
    use pollen_proto::chunk::{Preview, seal_attachment};
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut s = store(&pg, RelayLimits::default(), &clock);
    let file: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sealed = seal_attachment(&file, Preview::default(), T0 + 7 * DAY).unwrap();
    let blob = sealed.reference.blob.0;
    let chunks: Vec<Vec<u8>> = sealed.chunks.iter().map(|c| c.encode()).collect();

    // Every chunk verified and kept once, with or without a claimed budget.
    let mut items: Vec<Incoming> = chunks.iter().map(|c| Incoming::Chunk(c.clone())).collect();
    items[0] = Incoming::ChunkCopy {
        copies: u32::MAX,
        chunk: chunks[0].clone(),
    };
    let got = ingest(&mut s, &items, "tcp:ana");
    assert!(got.iter().all(|r| *r == Received::Carried), "{got:?}");
    assert!(
        ingest(&mut s, &items[..1], "tcp:bo")
            .iter()
            .all(|r| *r == Received::Duplicate)
    );
    // A chunk whose bytes do not match its blob id, and an expired one.
    let mut forged = chunks[1].clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let stale = seal_attachment(b"old", Preview::default(), T0 - 1).unwrap();
    assert_eq!(
        ingest(
            &mut s,
            &[
                Incoming::Chunk(forged),
                Incoming::Chunk(stale.chunks[0].encode())
            ],
            "tcp:eve"
        ),
        [
            Received::Rejected("bad_chunk"),
            Received::Rejected("expired")
        ]
    );
    // Apart from envelopes: the envelope usage is untouched.
    assert_eq!(usage(&s), (0, 0));
    // Served only for the blob a client names.
    assert!(s.chunks_matching(&mut |_| false).unwrap().is_empty());
    let served = s.chunks_matching(&mut |b| *b == blob).unwrap();
    assert_eq!(served.len(), chunks.len());
    for item in &served {
        let bytes = s.chunk(&item.id).unwrap().expect("held");
        assert!(chunks.contains(&bytes));
    }
    // They expire with their attachment.
    clock.set(T0 + 7 * DAY + 1);
    assert_eq!(
        s.expire(T0 + 7 * DAY + 1).unwrap().chunks,
        chunks.len() as u64
    );
    assert!(s.chunks_matching(&mut |_| true).unwrap().is_empty());
}

/// A whole visit each: Ana leaves her message and its file at the relay,
/// a stranger gets neither, Chen gets both in one session because he names
/// the blob as soon as the message opens.
#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn a_file_left_at_the_relay_reaches_the_recipient_who_names_it() {
    use pollen_proto::chunk::Preview;
    use pollen_proto::sync::pump::{LinkModel, pump};
    use pollen_proto::sync::{Offer, Session, SessionConfig};
    let pg = Pg::start();
    let clock = TestClock::new();
    let mut relay = store(&pg, RelayLimits::default(), &clock);
    let root = tempfile::tempdir().unwrap();
    let open =
        |name: &str| Node::init(&root.path().join(name), name, Box::new(clock.clone())).unwrap();
    let (mut ana, mut chen, mut dee) = (open("Ana"), open("Chen"), open("Dee"));
    ana.add_contact(&chen.card(), None).unwrap();
    chen.add_contact(&ana.card(), None).unwrap();
    let file: Vec<u8> = (0..150_000u32).map(|i| (i * 3 % 241) as u8).collect();
    let (_, sent) = ana
        .send_file("Chen", &file, Preview::default(), "from the relay")
        .unwrap();
    let visit = |client: &mut Node, relay: &mut PgRelayStore| {
        let mut to_relay = SessionConfig::tcp(false, "tcp:client");
        to_relay.offer = Offer::Interests;
        let mut a = Session::new(SessionConfig::tcp(true, "tcp:relay"), T0 * 1000);
        let mut b = Session::new(to_relay, T0 * 1000);
        let r = pump(
            &mut a,
            client,
            &mut b,
            relay,
            LinkModel::default(),
            T0 * 1000,
        );
        assert!(r.finished, "{:?}", r.events);
    };
    visit(&mut ana, &mut relay);
    let chunks = pollen_proto::chunk::chunk_count(sent.blob_len) as usize;
    assert_eq!(relay.chunks_matching(&mut |_| true).unwrap().len(), chunks);
    visit(&mut dee, &mut relay);
    assert_eq!(dee.store().chunk_usage().unwrap(), Default::default());
    visit(&mut chen, &mut relay);
    assert!(
        chen.messages(None, 10, None)
            .unwrap()
            .iter()
            .any(|m| m.text == "from the relay")
    );
    assert!(chen.attachment_progress(&sent).unwrap().complete());
    assert_eq!(chen.store().assemble_attachment(&sent).unwrap(), file);
}
