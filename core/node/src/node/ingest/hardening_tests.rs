//! What a neighbour's claims cannot buy: more copies than the policy allows
//! (checklist R3/T3), and a flood of made-up proofs beyond one cap counted
//! over unmatched proofs only.

use super::Batch;
use crate::admission::{MAX_COPIES, MAX_HOPS, MAX_UNMATCHED_PROOFS};
use crate::node::{Node, SystemClock};
use pollen_proto::envelope::DeliveryProof;

fn node(root: &std::path::Path, name: &str) -> Node {
    Node::init(&root.join(name), name, Box::new(SystemClock)).unwrap()
}

#[test]
fn r3_a_copy_claiming_u32_max_copies_is_kept_with_the_policy_maximum() {
    let root = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        node(root.path(), "Ana"),
        node(root.path(), "Bo"),
        node(root.path(), "Chen"),
    );
    a.add_contact(&c.card(), None).unwrap();
    let sent = a.send_direct("Chen", "spread me everywhere").unwrap();
    let bytes = a
        .store()
        .envelopes(a.now())
        .unwrap()
        .into_iter()
        .find(|r| r.id == sent.envelope)
        .unwrap()
        .bytes;
    // Bo is a carrier: the neighbour says it hands over u32::MAX copies.
    let outcome = b
        .store
        .transaction(|_| -> Result<_, crate::node::NodeError> {
            let mut batch = Batch::new(&b)?;
            let o = batch.ingest_copy(&bytes, None, "tcp:10.0.0.9", u32::MAX)?;
            batch.flush()?;
            Ok(o)
        })
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        b.store().envelope_copies(&sent.envelope).unwrap(),
        Some(MAX_COPIES)
    );
    // The honest recipient still gets it from the carrier.
    let held: Vec<_> = b
        .store()
        .envelopes(b.now())
        .unwrap()
        .into_iter()
        .map(|r| (r.bytes, Some(r.id)))
        .collect();
    c.ingest_envelopes(&held, "tcp:10.0.0.2").unwrap();
    assert_eq!(
        c.messages(None, 10, None).unwrap()[0].text,
        "spread me everywhere"
    );
}

/// Fills the proofs table with `n` rows of one kind, fast.
fn fill_proofs(n: &Node, count: u64, matched: bool) {
    n.store()
        .conn()
        .execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
             INSERT INTO proofs (commitment, secret, expires_at, matched)
             SELECT randomblob(32), randomblob(32), 4000000000, ?2 FROM k",
            rusqlite::params![count as i64, matched],
        )
        .unwrap();
}

#[test]
fn d5_unmatched_proofs_are_capped_by_one_rule_that_counts_only_unmatched_ones() {
    let root = tempfile::tempdir().unwrap();
    let b = node(root.path(), "Bo");
    // A node that delivered a lot holds many matched proofs: they do not
    // count, so a new unmatched proof is still kept (and travels on).
    fill_proofs(&b, MAX_UNMATCHED_PROOFS, true);
    let kept = b.ingest_proofs(&[DeliveryProof([1; 32])]).unwrap();
    assert!(
        kept[0].new,
        "matched proofs must not use up the unmatched cap"
    );
    // A flood of made-up proofs stops at the cap.
    fill_proofs(&b, MAX_UNMATCHED_PROOFS - 1, false);
    assert_eq!(
        b.store().unmatched_proof_count().unwrap(),
        MAX_UNMATCHED_PROOFS
    );
    let flood: Vec<DeliveryProof> = (2..50u8).map(|i| DeliveryProof([i; 32])).collect();
    assert!(b.ingest_proofs(&flood).unwrap().iter().all(|o| !o.new));
    assert_eq!(
        b.store().unmatched_proof_count().unwrap(),
        MAX_UNMATCHED_PROOFS
    );
}

/// The hop count Bo stores for an envelope Ana wrote with `hops`.
fn carried_hops(a: &Node, b: &Node, text: &str, hops: Option<u8>) -> u8 {
    let sent = a.send_direct("Chen", text).unwrap();
    let rec = a
        .store()
        .envelopes(a.now())
        .unwrap()
        .into_iter()
        .find(|r| r.id == sent.envelope)
        .unwrap();
    let mut env = pollen_proto::envelope::Envelope::decode(&rec.bytes).unwrap();
    assert_eq!(env.header().hops, MAX_HOPS, "authors start at the maximum");
    if let Some(h) = hops {
        env.set_hops(h);
    }
    b.ingest_envelopes(&[(env.encode(), Some(rec.id))], "tcp:10.0.0.3")
        .unwrap();
    let held = b.store().envelope_bytes(&rec.id).unwrap().unwrap();
    pollen_proto::envelope::Envelope::decode(&held)
        .unwrap()
        .header()
        .hops
}

#[test]
fn p4_a_carrier_keeps_the_maximum_hop_count_about_half_the_time() {
    let root = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        node(root.path(), "Ana"),
        node(root.path(), "Bo"),
        node(root.path(), "Chen"),
    );
    a.add_contact(&c.card(), None).unwrap();
    let mut kept = 0;
    for i in 0..200 {
        match carried_hops(&a, &b, &format!("message {i}"), None) {
            MAX_HOPS => kept += 1,
            h => assert_eq!(h, MAX_HOPS - 1),
        }
    }
    // Binomial(200, 1/2): outside 70..=130 about once in 10^5 runs.
    assert!((70..=130).contains(&kept), "kept the maximum {kept} of 200");
    // The coin is the carrier's and the envelope's: asking again is the same.
    let id = pollen_proto::envelope::EnvelopeId([5; 32]);
    assert_eq!(
        crate::admission::hop_coin(&b.hop_key(), &id),
        crate::admission::hop_coin(&b.hop_key(), &id)
    );
    // A claim above the maximum is clamped; one hop left is spent.
    let clamped = carried_hops(&a, &b, "inflated", Some(u8::MAX));
    assert!(clamped == MAX_HOPS || clamped == MAX_HOPS - 1, "{clamped}");
    assert_eq!(carried_hops(&a, &b, "last hop", Some(1)), 0);
}
