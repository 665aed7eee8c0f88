//! A contact card reads the same in either letter case: Android shows its
//! card as an upper-case QR code (alphanumeric mode), iOS and the CLI write
//! lower case. Mixed case is refused with an error that says so.

use pollen_node::node::{Node, NodeError, SystemClock};
use pollen_proto::identity::CardError;

fn node(root: &std::path::Path, name: &str) -> Node {
    Node::init(&root.join(name), name, Box::new(SystemClock)).unwrap()
}

#[test]
fn an_upper_case_card_pins_the_same_contact_as_the_lower_case_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        node(dir.path(), "ada"),
        node(dir.path(), "bob"),
        node(dir.path(), "cy"),
    );
    let card = b.card();
    assert!(card.starts_with("pollen1"));

    // Scanned from an upper-case QR code first, then pasted in lower case.
    let upper = a.add_contact(&card.to_uppercase(), None).unwrap();
    assert_eq!(upper.alias, "bob");
    let lower = a.add_contact(&card, None).unwrap();
    assert_eq!(lower.identity, upper.identity);
    assert_eq!(a.contacts().unwrap().len(), 1);
    assert!(
        a.key_changes().unwrap().is_empty(),
        "one card, not a key change"
    );

    // And the other way round, with the whitespace a scanner may add.
    c.add_contact(&card, None).unwrap();
    let again = c
        .add_contact(&format!("  {}\n", card.to_uppercase()), None)
        .unwrap();
    assert_eq!(again.identity, lower.identity);
    assert_eq!(c.contacts().unwrap().len(), 1);
}

#[test]
fn a_mixed_case_card_is_refused_as_mixed_case() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path(), "ada"), node(dir.path(), "bob"));
    let card = b.card();
    let mixed = format!("POLLEN1{}", &card["pollen1".len()..]);
    match a.add_contact(&mixed, None) {
        Err(NodeError::Card(CardError::MixedCase)) => {}
        other => panic!("expected a mixed-case refusal, got {other:?}"),
    }
    assert!(a.contacts().unwrap().is_empty());
}
