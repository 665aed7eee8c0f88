//! Shared documents between nodes: two writers edit one board offline and
//! concurrently, a carrier that cannot read it brings their changes across,
//! and both see the same merged board; a member of the group who is not a
//! writer cannot change it, and a forged change of theirs is refused and
//! reported.

mod common;

use common::{T0, TestClock, carry_all, node};
use pollen_node::node::{Node, NodeEvent};
use pollen_node::shared_docs::{self, DocEdit, parse_path};
use pollen_proto::envelope::{self, Draft, Recipient};
use pollen_proto::payload::Payload;
use pollen_proto::shared_doc::DocHeader;
use serde_json::json;

fn set(path: &str, value: serde_json::Value) -> DocEdit {
    DocEdit::Set {
        path: parse_path(path).unwrap(),
        value,
    }
}

fn knows(a: &Node, b: &Node) {
    a.add_contact(&b.card(), None).unwrap();
    b.add_contact(&a.card(), None).unwrap();
}

#[test]
fn two_writers_merge_through_a_carrier_and_a_reader_cannot_write() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let ana = node(root.path(), "Ana", &clock);
    let chen = node(root.path(), "Chen", &clock);
    let dee = node(root.path(), "Dee", &clock);
    let bo = node(root.path(), "Bo", &clock);
    knows(&ana, &chen);
    knows(&ana, &dee);
    knows(&chen, &dee);
    ana.create_group("crew", &["Chen".into(), "Dee".into()])
        .unwrap();
    carry_all(&ana, &chen);
    carry_all(&ana, &dee);

    let id = ana
        .create_doc(
            "crew",
            "board",
            "Needs and offers",
            &["Chen".into()],
            &[set("items/seed", json!({"kind": "offer", "text": "bread"}))],
        )
        .unwrap();
    carry_all(&ana, &chen);
    carry_all(&ana, &dee);
    let hex = id.to_hex();
    let at_chen = chen.doc(&hex).unwrap();
    assert_eq!(at_chen.title, "Needs and offers");
    assert_eq!(at_chen.creator, "Ana");
    assert!(at_chen.writable);
    assert_eq!(at_chen.writers, ["Chen"]);
    assert!(!dee.doc(&hex).unwrap().writable);

    // Offline, at the same time: both change the board.
    clock.tick();
    ana.edit_doc(
        &hex[..8],
        &[set("items/water", json!({"kind": "need", "text": "20 l"}))],
    )
    .unwrap();
    chen.edit_doc(
        &hex[..8],
        &[set(
            "items/tent",
            json!({"kind": "offer", "text": "2 beds"}),
        )],
    )
    .unwrap();
    chen.edit_doc(&hex, &[set("items/seed/status", json!("taken"))])
        .unwrap();

    // Dee reads but may not write: refused before anything is sealed.
    let before = dee.store().envelopes(dee.now()).unwrap().len();
    let err = dee
        .edit_doc(&hex, &[set("items/dee", json!("x"))])
        .unwrap_err();
    assert!(err.to_string().contains("may not write"), "{err}");
    assert_eq!(dee.store().envelopes(dee.now()).unwrap().len(), before);

    // Bo meets both, then each again: Bo carries what Bo cannot read.
    carry_all(&ana, &bo);
    carry_all(&chen, &bo);
    assert!(
        bo.docs().unwrap().is_empty(),
        "a carrier learns no document"
    );
    carry_all(&bo, &ana);
    carry_all(&bo, &chen);
    carry_all(&bo, &dee);
    let a = ana.doc(&hex).unwrap().content;
    let c = chen.doc(&hex).unwrap().content;
    assert_eq!(a, c);
    assert_eq!(dee.doc(&hex).unwrap().content, a);
    assert_eq!(
        a["items"],
        json!({
            "seed": {"kind": "offer", "text": "bread", "status": "taken"},
            "water": {"kind": "need", "text": "20 l"},
            "tent": {"kind": "offer", "text": "2 beds"},
        })
    );

    // Dee forges a change and seals it into the group herself: every
    // member refuses it, counts it and says so.
    ana.watch_events(true);
    let header =
        DocHeader::decode(&ana.store().doc(&id).unwrap().unwrap().header.encode()).unwrap();
    let base = dee.store().doc_changes(&id).unwrap();
    let (_, forged) = shared_docs::build_change(
        &dee.public().signing,
        &base,
        &[set("items/seed/status", json!("gone"))],
        T0 * 1000,
    )
    .unwrap();
    let crew = dee.resolve_conversation("crew").unwrap();
    let key = dee.store().current_shared_key(&crew.id).unwrap().unwrap();
    let payload = Payload::DocChange {
        header,
        change: forged,
    }
    .encode();
    let sealed = envelope::seal(
        dee.identity(),
        &Draft {
            to: Recipient::Shared(&key),
            payload: &payload,
            sent_at: T0,
            expires_at: T0 + 3600,
            hops: 5,
        },
    )
    .unwrap();
    ana.ingest_envelopes(&[(sealed.envelope.encode(), None)], "test")
        .unwrap();
    let after = ana.doc(&hex).unwrap();
    assert_eq!(after.content, a, "nothing of the forged change shows");
    assert_eq!(after.refused, 1);
    assert!(
        after
            .refused_reason
            .as_deref()
            .unwrap_or("")
            .contains("may not write"),
        "{after:?}"
    );
    assert!(
        ana.take_events()
            .iter()
            .any(|e| matches!(e, NodeEvent::DocRefused { doc, .. } if *doc == id)),
        "the refusal is reported"
    );
}

#[test]
fn sharing_into_a_direct_chat_sends_what_is_there_and_what_follows() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let ana = node(root.path(), "Ana", &clock);
    let chen = node(root.path(), "Chen", &clock);
    let dee = node(root.path(), "Dee", &clock);
    knows(&ana, &chen);
    knows(&ana, &dee);
    let id = ana
        .create_doc(
            "Chen",
            "doc",
            "Water points",
            &[],
            &[set("points", json!(["gate 3"]))],
        )
        .unwrap();
    let hex = id.to_hex();
    ana.edit_doc(
        &hex,
        &[DocEdit::Push {
            path: parse_path("points").unwrap(),
            value: json!("school"),
        }],
    )
    .unwrap();
    carry_all(&ana, &chen);
    assert_eq!(
        chen.doc(&hex).unwrap().content["points"],
        json!(["gate 3", "school"])
    );
    // Chen may read but not write; Dee has nothing yet.
    assert!(chen.edit_doc(&hex, &[set("x", json!(1))]).is_err());
    assert!(dee.doc(&hex).is_err());

    ana.share_doc(&hex, "Dee").unwrap();
    ana.edit_doc(&hex, &[set("points/0", json!("gate 4"))])
        .unwrap();
    carry_all(&ana, &dee);
    carry_all(&ana, &chen);
    let at_dee = dee.doc(&hex).unwrap();
    assert_eq!(at_dee.content["points"], json!(["gate 4", "school"]));
    assert_eq!(at_dee.content, chen.doc(&hex).unwrap().content);
    let shared = ana.doc(&hex).unwrap().shared_with;
    assert_eq!(shared.len(), 2, "{shared:?}");
    // Unknown and ambiguous ids are clear errors.
    assert!(
        ana.doc("ffff")
            .unwrap_err()
            .to_string()
            .contains("no shared document")
    );
    assert!(ana.doc("zz").is_err());
}
