use super::wire::{FINGERPRINT_SIZE, ID_SIZE};
use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

fn limits(max_message: usize) -> ReconLimits {
    ReconLimits {
        max_message,
        max_rounds: 1_000,
        max_items: 10_000,
        max_ids_learned: 10_000,
    }
}

fn item(timestamp: u64, byte: u8) -> ReconItem {
    ReconItem {
        timestamp,
        id: [byte; 32],
    }
}

struct Outcome {
    have: Vec<[u8; 32]>,
    need: Vec<[u8; 32]>,
    largest: usize,
    round_trips: u32,
}

/// Runs a whole reconciliation between honest sides.
fn reconcile(a: Vec<ReconItem>, b: Vec<ReconItem>, limits: ReconLimits) -> Outcome {
    let (mut initiator, mut msg) = Reconciler::initiate(a, limits).unwrap();
    let mut responder = Reconciler::respond_to(b, limits).unwrap();
    let mut out = Outcome {
        have: Vec::new(),
        need: Vec::new(),
        largest: msg.len(),
        round_trips: 0,
    };
    loop {
        let reply = responder.receive(&msg).unwrap().reply.unwrap();
        out.largest = out.largest.max(reply.len());
        let step = initiator.receive(&reply).unwrap();
        out.have.extend(step.have);
        out.need.extend(step.need);
        match step.reply {
            None => break,
            Some(next) => {
                out.largest = out.largest.max(next.len());
                msg = next;
            }
        }
    }
    assert!(initiator.is_done());
    out.round_trips = initiator.rounds();
    out
}

/// Negentropy's varint, to build hostile messages.
fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.extend(groups.iter().rev());
}

fn sorted(mut ids: Vec<[u8; 32]>) -> Vec<[u8; 32]> {
    ids.sort_unstable();
    ids
}

#[test]
fn identical_sets_finish_in_one_round_trip() {
    let set: Vec<ReconItem> = (0..500).map(|i| item(i / 3, (i % 251) as u8)).collect();
    let out = reconcile(set.clone(), set, limits(MIN_MESSAGE));
    assert_eq!(out.round_trips, 1);
    assert!(out.have.is_empty() && out.need.is_empty());
}

#[test]
fn the_first_message_is_one_whole_set_fingerprint() {
    for n in [0u64, 1, 40, 5_000] {
        let set: Vec<ReconItem> = (0..n).map(|i| item(i, (i % 251) as u8)).collect();
        let (_, msg) = Reconciler::initiate(set, limits(MIN_MESSAGE)).unwrap();
        assert_eq!(msg.len(), 4 + FINGERPRINT_SIZE, "{n} items");
        assert_eq!(msg[..4], [PROTOCOL_VERSION, 0x00, 0x00, 0x01]);
    }
}

#[test]
fn whole_set_first_message_test_vectors() {
    // docs/PROTOCOL.md, "Set reconciliation": recon.first.empty / .two
    let hex = |msg: &[u8]| msg.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (_, empty) = Reconciler::initiate(Vec::new(), limits(MIN_MESSAGE)).unwrap();
    assert_eq!(hex(&empty), "610000017f9c9e31ac8256ca2f258583df262dbc");
    let (_, two) = Reconciler::initiate(vec![item(5, 2), item(7, 1)], limits(MIN_MESSAGE)).unwrap();
    assert_eq!(hex(&two), "6100000112a7b248579deb04f68dac6d3db20efd");
}

#[test]
fn a_responder_that_differs_leaves_the_listing_split_to_itself() {
    // 200 items: ranges of 13 after one split, listed on the 2nd split, so
    // the responder hands the 1st back with its own whole-set fingerprint.
    let a: Vec<ReconItem> = (0..200u32).map(|i| item(u64::from(i), i as u8)).collect();
    let b: Vec<ReconItem> = a[..199].to_vec();
    let (mut initiator, first) = Reconciler::initiate(a.clone(), limits(MIN_MESSAGE)).unwrap();
    let mut responder = Reconciler::respond_to(b.clone(), limits(MIN_MESSAGE)).unwrap();
    let reply = responder.receive(&first).unwrap().reply.unwrap();
    let (_, theirs) = Reconciler::initiate(b, limits(MIN_MESSAGE)).unwrap();
    assert_eq!(reply, theirs);
    assert!(!responder.is_done());
    // The initiator then splits exactly as negentropy's own opening does.
    let step = initiator.receive(&reply).unwrap();
    let (_, split) = Reconciler::initiate_split(a.clone(), limits(MIN_MESSAGE)).unwrap();
    assert_eq!(step.reply, Some(split));
    let out = reconcile(a.clone(), a[..199].to_vec(), limits(MIN_MESSAGE));
    assert_eq!((out.have, out.round_trips), (vec![a[199].id], 2));

    // 20 items: listed on the 1st split, which the responder makes at once;
    // the initiator learns the difference in one round trip.
    let out = reconcile(a[..21].to_vec(), a[..20].to_vec(), limits(MIN_MESSAGE));
    assert_eq!((out.have, out.round_trips), (vec![a[20].id], 1));
}

#[test]
fn in_sync_at_100k_costs_one_small_frame_each_way() {
    let report = bench(100_000, 0, |len| len).unwrap();
    assert_eq!((report.round_trips, report.messages), (1, 2));
    assert_eq!(report.bytes_total, 4 + FINGERPRINT_SIZE + 1);
}

#[test]
fn a_responder_still_answers_negentropys_own_first_message() {
    // A version-3 initiator opens with negentropy's bucket split.
    let a: Vec<ReconItem> = (0..300u32).map(|i| item(u64::from(i), i as u8)).collect();
    let b: Vec<ReconItem> = a[..290].to_vec();
    let mut storage = negentropy::NegentropyStorageVector::new();
    for it in &a {
        storage
            .insert(it.timestamp, negentropy::Id::from_byte_array(it.id))
            .unwrap();
    }
    storage.seal().unwrap();
    let mut old = negentropy::Negentropy::owned(storage, MIN_MESSAGE as u64).unwrap();
    let mut msg = old.initiate().unwrap();
    assert!(msg.len() > 4 + FINGERPRINT_SIZE);
    let mut responder = Reconciler::respond_to(b, limits(MIN_MESSAGE)).unwrap();
    let mut have = Vec::new();
    loop {
        let reply = responder.receive(&msg).unwrap().reply.unwrap();
        let mut need = Vec::new();
        match old
            .reconcile_with_ids(&reply, &mut have, &mut need)
            .unwrap()
        {
            Some(next) => msg = next,
            None => break,
        }
        assert!(need.is_empty());
    }
    let have: HashSet<[u8; 32]> = have.into_iter().map(|id| id.to_bytes()).collect();
    let truth: HashSet<[u8; 32]> = a[290..].iter().map(|it| it.id).collect();
    assert_eq!(have, truth);
}

#[test]
fn responder_knows_it_is_done_when_nothing_differs() {
    // Over 32 items, so the initiator sends fingerprints: a responder always
    // answers an id list with its own.
    let set: Vec<ReconItem> = (0..40).map(|i| item(i, i as u8)).collect();
    let (_, msg) = Reconciler::initiate(set.clone(), limits(MIN_MESSAGE)).unwrap();
    let mut responder = Reconciler::respond_to(set, limits(MIN_MESSAGE)).unwrap();
    assert_eq!(
        responder.receive(&msg).unwrap().reply,
        Some(vec![PROTOCOL_VERSION])
    );
    assert!(responder.is_done());
    assert_eq!(responder.receive(&msg), Err(ReconError::Closed));
}

#[test]
fn unordered_duplicated_input_and_extreme_expiry() {
    let a = vec![
        item(u64::MAX, 9),
        item(3, 1),
        item(1, 2),
        item(3, 1),
        item(0, 7),
    ];
    let b = vec![item(0, 7), item(u64::MAX, 8), item(1, 2), item(1, 2)];
    let out = reconcile(a, b, limits(MIN_MESSAGE));
    assert_eq!(sorted(out.have), vec![[1; 32], [9; 32]]);
    assert_eq!(out.need, vec![[8; 32]]);
}

#[test]
fn limits_are_enforced_at_construction() {
    assert!(matches!(
        Reconciler::respond_to(vec![], limits(MIN_MESSAGE - 1)),
        Err(ReconError::CapTooSmall(4095))
    ));
    let small = ReconLimits {
        max_items: 2,
        ..limits(MIN_MESSAGE)
    };
    assert!(matches!(
        Reconciler::initiate(vec![item(1, 1); 3], small),
        Err(ReconError::TooManyItems { len: 3, max: 2 })
    ));
}

#[test]
fn learning_too_many_ids_is_an_error() {
    let a: Vec<ReconItem> = (0..40).map(|i| item(i, i as u8)).collect();
    let capped = ReconLimits {
        max_ids_learned: 39,
        ..limits(MIN_MESSAGE)
    };
    let (mut initiator, msg) = Reconciler::initiate(a, capped).unwrap();
    let mut responder = Reconciler::respond_to(vec![], capped).unwrap();
    let mut msg = msg;
    let err = loop {
        let reply = responder.receive(&msg).unwrap().reply.unwrap();
        match initiator.receive(&reply) {
            Ok(step) => msg = step.reply.expect("not done before the cap"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, ReconError::TooManyIds(39));
    assert_eq!(initiator.receive(&msg), Err(ReconError::Closed));
}

#[test]
fn oversized_wrong_version_and_truncated_messages_are_refused() {
    let set: Vec<ReconItem> = (0..100).map(|i| item(i, i as u8)).collect();
    let (_, msg) = Reconciler::initiate(set.clone(), limits(MIN_MESSAGE)).unwrap();
    let fresh = || Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();

    assert!(matches!(
        fresh().receive(&[]),
        Err(ReconError::Malformed(_))
    ));
    let mut other = msg.clone();
    other[0] = 0x62;
    assert_eq!(
        fresh().receive(&other),
        Err(ReconError::UnsupportedVersion(0x62))
    );
    assert_eq!(
        fresh().receive(&[0x01]),
        Err(ReconError::UnsupportedVersion(0x01))
    );
    // Cut inside the last fingerprint.
    assert!(matches!(
        fresh().receive(&msg[..msg.len() - 1]),
        Err(ReconError::Malformed(_))
    ));
    // A bound whose timestamp varint never ends.
    assert!(matches!(
        fresh().receive(&[PROTOCOL_VERSION, 0x81]),
        Err(ReconError::Malformed(_))
    ));
    // An overlong varint negentropy would silently truncate.
    let mut overlong = vec![PROTOCOL_VERSION];
    overlong.extend([0xff; 10]);
    overlong.push(0x7f);
    assert!(matches!(
        fresh().receive(&overlong),
        Err(ReconError::Malformed(_))
    ));
    // Unknown mode, and an id list claiming more ids than it carries.
    assert!(matches!(
        fresh().receive(&[PROTOCOL_VERSION, 0, 0, 3]),
        Err(ReconError::Malformed(DecodeError::Invalid { value: 3, .. }))
    ));
    assert!(matches!(
        fresh().receive(&[PROTOCOL_VERSION, 0, 0, 2, 1]),
        Err(ReconError::Malformed(_))
    ));
    assert!(matches!(
        fresh().receive(&[PROTOCOL_VERSION, 0, 33]),
        Err(ReconError::Malformed(DecodeError::TooLong { .. }))
    ));
    let big = vec![PROTOCOL_VERSION; MIN_MESSAGE + 1];
    assert_eq!(
        fresh().receive(&big),
        Err(ReconError::MessageTooLarge {
            len: MIN_MESSAGE + 1,
            max: MIN_MESSAGE
        })
    );
}

/// A responder that answers every message with "the whole range differs".
#[test]
fn a_peer_that_never_finishes_hits_max_rounds() {
    let mut endless = vec![PROTOCOL_VERSION, 0, 0, 1];
    endless.extend([0xab; FINGERPRINT_SIZE]);
    let capped = ReconLimits {
        max_rounds: 8,
        ..limits(MIN_MESSAGE)
    };
    let set: Vec<ReconItem> = (0..1000).map(|i| item(i, (i % 256) as u8)).collect();
    let (mut initiator, _) = Reconciler::initiate(set.clone(), capped).unwrap();
    let mut ok = 0;
    let err = loop {
        match initiator.receive(&endless) {
            Ok(step) => {
                assert!(step.reply.is_some());
                ok += 1;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(err, ReconError::TooManyRounds(8));
    assert_eq!(ok, 7);

    // And an initiator that keeps asking about a range that differs.
    let (_, first) = Reconciler::initiate(set.clone(), capped).unwrap();
    let mut responder = Reconciler::respond_to(set[1..].to_vec(), capped).unwrap();
    for _ in 0..8 {
        responder.receive(&first).unwrap();
    }
    assert_eq!(responder.receive(&first), Err(ReconError::TooManyRounds(8)));
}

#[test]
fn bench_reports_exact_differences() {
    let report = bench(3_000, 25, |len| len).unwrap();
    assert_eq!((report.have, report.need), (25, 25));
    assert!(report.round_trips >= 1);
    assert_eq!(bench(1_000, 0, |len| len).unwrap().round_trips, 1);
}

/// Up to 2000 distinct items, each in A only, B only, or both.
fn two_sets() -> impl Strategy<Value = (Vec<ReconItem>, Vec<ReconItem>)> {
    // Few distinct expiries, so ranges split on id prefixes as well.
    prop::collection::btree_map(any::<[u8; 32]>(), (0u64..64, 1u8..=3), 0..2000).prop_map(
        |pool: BTreeMap<[u8; 32], (u64, u8)>| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (id, (timestamp, member)) in pool {
                let it = ReconItem {
                    timestamp: 1_800_000_000 + timestamp * 1000,
                    id,
                };
                if member & 1 != 0 {
                    a.push(it);
                }
                if member & 2 != 0 {
                    b.push(it);
                }
            }
            // Any order in, with a duplicate: the reconciler sorts.
            a.reverse();
            if let Some(&first) = b.first() {
                b.push(first);
            }
            (a, b)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn finds_exactly_the_differences(
        (a, b) in two_sets(),
        max_message in prop::sample::select(vec![MIN_MESSAGE, 5_000, 8_192, 65_536]),
    ) {
        let ids = |s: &[ReconItem]| s.iter().map(|i| i.id).collect::<HashSet<_>>();
        let (sa, sb) = (ids(&a), ids(&b));
        let out = reconcile(a, b, limits(max_message));
        prop_assert!(out.largest <= max_message);
        prop_assert_eq!(sorted(out.have), sorted(sa.difference(&sb).copied().collect()));
        prop_assert_eq!(sorted(out.need), sorted(sb.difference(&sa).copied().collect()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..600),
        version_ok in any::<bool>(),
    ) {
        let mut data = data;
        if version_ok && !data.is_empty() {
            data[0] = PROTOCOL_VERSION;
        }
        let set: Vec<ReconItem> = (0..300).map(|i| item(i / 2, (i % 256) as u8)).collect();
        let mut responder = Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();
        if let Ok(step) = responder.receive(&data) {
            prop_assert!(step.reply.unwrap().len() <= MIN_MESSAGE);
        }
        let (mut initiator, _) = Reconciler::initiate(set, limits(MIN_MESSAGE)).unwrap();
        if let Ok(step) = initiator.receive(&data) {
            prop_assert!(step.reply.map_or(0, |r| r.len()) <= MIN_MESSAGE);
            prop_assert!(step.have.len() + step.need.len() <= 300 + data.len() / 32);
        }
        if data.first() != Some(&PROTOCOL_VERSION) {
            prop_assert!(Reconciler::respond_to(vec![], limits(MIN_MESSAGE)).unwrap().receive(&data).is_err());
        }
    }

    /// Well-formed but hostile messages: bounds in any order, any mode,
    /// fingerprints and id lists that match nothing.
    #[test]
    fn hostile_well_formed_messages_never_panic(
        ranges in prop::collection::vec(
            (any::<u64>(), prop::collection::vec(any::<u8>(), 0..=32), 0u8..3, 0usize..4),
            0..60,
        ),
    ) {
        let mut msg = vec![PROTOCOL_VERSION];
        for (timestamp, prefix, mode, ids) in &ranges {
            push_varint(&mut msg, *timestamp);
            push_varint(&mut msg, prefix.len() as u64);
            msg.extend(prefix);
            push_varint(&mut msg, u64::from(*mode));
            match mode {
                1 => msg.extend([prefix.len() as u8; FINGERPRINT_SIZE]),
                2 => {
                    push_varint(&mut msg, *ids as u64);
                    for k in 0..*ids {
                        msg.extend([k as u8 ^ (*timestamp as u8); ID_SIZE]);
                    }
                }
                _ => {}
            }
        }
        prop_assume!(msg.len() <= MIN_MESSAGE);
        let set: Vec<ReconItem> = (0..500).map(|i| item(i % 7, (i % 256) as u8)).collect();
        let mut responder = Reconciler::respond_to(set.clone(), limits(MIN_MESSAGE)).unwrap();
        let step = responder.receive(&msg);
        prop_assert!(step.is_ok(), "{:?}", step);
        let (mut initiator, _) = Reconciler::initiate(set, limits(MIN_MESSAGE)).unwrap();
        let step = initiator.receive(&msg);
        prop_assert!(step.is_ok(), "{:?}", step);
    }

    #[test]
    fn truncated_honest_messages_never_panic(cut in 0usize..2000, seed in any::<u8>()) {
        let a: Vec<ReconItem> = (0..900u64).map(|i| item(i / 4, (i as u8) ^ seed)).collect();
        let b: Vec<ReconItem> = a.iter().skip(7).copied().collect();
        let (_, msg) = Reconciler::initiate(a, limits(MIN_MESSAGE)).unwrap();
        let cut = cut.min(msg.len());
        let mut responder = Reconciler::respond_to(b, limits(MIN_MESSAGE)).unwrap();
        let _ = responder.receive(&msg[..cut]);
    }
}
