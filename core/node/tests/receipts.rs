//! P6, statistical disclosure through receipts: delivery proofs are held
//! back and batched by default, may be switched off, and read receipts may
//! be switched off (they are sealed inside the conversation either way).

mod common;

use common::{T0, TestClock, ana_and_chen, carry_all, node};
use pollen_node::receipts::{PROOF_BATCH_SECS, Receipts};
use pollen_proto::sync::SyncStore;
use pollen_proto::sync::store::ItemKind;

fn proof_items(n: &mut pollen_node::node::Node) -> usize {
    n.items()
        .unwrap()
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Proof { .. }))
        .count()
}

#[test]
fn p6_a_proof_is_offered_only_from_its_batch_and_never_when_receipts_are_off() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let ana = node(root.path(), "Ana", &clock);
    let mut chen = node(root.path(), "Chen", &clock);
    let mut dee = node(root.path(), "Dee", &clock);
    for n in [&chen, &dee] {
        ana.add_contact(&n.card(), None).unwrap();
        n.add_contact(&ana.card(), None).unwrap();
    }
    dee.set_receipts(Receipts::Off).unwrap();
    ana.send_direct("Chen", "to chen").unwrap();
    ana.send_direct("Dee", "to dee").unwrap();
    carry_all(&ana, &chen);
    carry_all(&ana, &dee);
    assert_eq!(chen.messages(None, 5, None).unwrap().len(), 1);
    assert_eq!(dee.messages(None, 5, None).unwrap().len(), 1);

    // Nothing to offer, export or answer with yet.
    assert_eq!(proof_items(&mut chen), 0);
    let bundle = root.path().join("chen.bundle");
    assert_eq!(chen.export_bundle(&bundle).unwrap().proofs, 0);
    let release = chen.next_proof_release().unwrap().unwrap();
    assert!(release > T0 && release <= T0 + 2 * PROOF_BATCH_SECS);

    clock.set(release);
    assert_eq!(proof_items(&mut chen), 1);
    assert_eq!(chen.export_bundle(&bundle).unwrap().proofs, 1);
    ana.import_bundle(&bundle, &mut |_| {}).unwrap();
    assert_eq!(ana.status().unwrap().own_delivered, 1);

    // Off: a week later Dee still offers no proof and has none waiting.
    clock.set(T0 + 6 * 86_400);
    assert_eq!(proof_items(&mut dee), 0);
    assert_eq!(dee.next_proof_release().unwrap(), None);
}

#[test]
fn p6_with_read_receipts_off_reading_sends_nothing_but_clears_the_count() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (ana, chen) = ana_and_chen(root.path(), &clock);
    ana.send_direct("Chen", "one").unwrap();
    carry_all(&ana, &chen);
    assert!(chen.read_receipts().unwrap(), "on by default");
    chen.set_read_receipts(false).unwrap();
    let held = chen.store().envelopes(chen.now()).unwrap().len();
    assert_eq!(chen.mark_read("Ana").unwrap(), None);
    assert_eq!(chen.conversations(10).unwrap()[0].unread, 0);
    assert_eq!(
        chen.store().envelopes(chen.now()).unwrap().len(),
        held,
        "no read marker sealed"
    );

    clock.tick();
    ana.send_direct("Chen", "two").unwrap();
    carry_all(&ana, &chen);
    chen.set_read_receipts(true).unwrap();
    assert!(chen.mark_read("Ana").unwrap().is_some(), "on again: sent");
}
