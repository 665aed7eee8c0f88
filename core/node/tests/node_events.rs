//! Events at the point of knowledge: each thing a node learns raises one
//! typed event, released only when the transaction that learned it commits.

mod common;

use common::{T0, TestClock};
use pollen_node::node::{IngestOutcome, MessageChange, Node, NodeError, NodeEvent};
use pollen_node::store::StoreLimits;
use pollen_proto::envelope::EnvelopeId;

/// A node whose events are kept.
fn node(root: &std::path::Path, name: &str, clock: &TestClock) -> Node {
    let n = common::node(root, name, clock);
    n.watch_events(true);
    n
}

/// The envelope `from` sealed for `sent`, ready to ingest.
fn envelope(from: &Node, id: EnvelopeId) -> Vec<(Vec<u8>, Option<EnvelopeId>)> {
    let rec = from
        .store()
        .envelopes(from.now())
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("own envelope held");
    vec![(rec.bytes, Some(rec.id))]
}

fn pair() -> (tempfile::TempDir, TestClock, Node, Node) {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let a = node(root.path(), "Ana", &clock);
    let c = node(root.path(), "Chen", &clock);
    a.add_contact(&c.card(), None).unwrap();
    c.add_contact(&a.card(), None).unwrap();
    // Proofs straight back, so one ingest shows the delivery.
    c.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    a.take_events();
    c.take_events();
    (root, clock, a, c)
}

#[test]
fn a_message_its_edit_reaction_deletion_and_delivery_each_raise_one_event() {
    let (_root, clock, a, c) = pair();
    let sent = a.send_direct("Chen", "hello").unwrap();
    let conv = match a.take_events().as_slice() {
        [
            NodeEvent::MessageAdded {
                conversation,
                message,
                own: true,
            },
        ] if *message == sent.message => *conversation,
        other => panic!("own send: {other:?}"),
    };

    let outcome = c
        .ingest_envelopes(&envelope(&a, sent.envelope), "test")
        .unwrap();
    let Ok(IngestOutcome::Opened {
        proof: Some(proof), ..
    }) = outcome[0]
    else {
        panic!("not opened: {outcome:?}")
    };
    assert_eq!(
        c.take_events(),
        vec![NodeEvent::MessageAdded {
            conversation: conv,
            message: sent.message,
            own: false
        }],
        "both sides compute the same conversation id"
    );
    // A replay teaches nothing: no event.
    c.ingest_envelopes(&envelope(&a, sent.envelope), "test")
        .unwrap();
    assert_eq!(c.take_events(), vec![]);

    a.ingest_proofs(&[proof]).unwrap();
    assert_eq!(
        a.take_events(),
        vec![NodeEvent::Delivered {
            conversation: conv,
            message: sent.message
        }]
    );
    a.ingest_proofs(&[proof]).unwrap();
    assert_eq!(a.take_events(), vec![], "a known proof is not news");

    let hex = sent.message.to_hex();
    for (change, op) in [
        (MessageChange::Edited, 0),
        (MessageChange::Reacted, 1),
        (MessageChange::Deleted, 2),
    ] {
        clock.tick();
        let (writer, reader) = if op == 1 { (&c, &a) } else { (&a, &c) };
        let s = match op {
            0 => writer.edit(&hex, "hello, edited").unwrap(),
            1 => writer.react(&hex, "👍").unwrap(),
            _ => writer.delete(&hex).unwrap(),
        };
        let expected = vec![NodeEvent::MessageChanged {
            conversation: conv,
            message: sent.message,
            change,
        }];
        assert_eq!(writer.take_events(), expected, "{change:?} at the writer");
        reader
            .ingest_envelopes(&envelope(writer, s.envelope), "test")
            .unwrap();
        assert_eq!(reader.take_events(), expected, "{change:?} at the reader");
    }

    let read = c.mark_read("Ana").unwrap().expect("something to mark");
    assert_eq!(
        c.take_events(),
        vec![NodeEvent::ConversationChanged { conversation: conv }]
    );
    a.ingest_envelopes(&envelope(&c, read.envelope), "test")
        .unwrap();
    match a.take_events().as_slice() {
        [
            NodeEvent::Read {
                conversation,
                after: 0,
                up_to,
            },
        ] if *conversation == conv => {
            let row = a.message(&conv, &sent.message).unwrap().unwrap();
            assert_eq!(*up_to, row.sent_at, "read up to Ana's message");
        }
        other => panic!("read marker: {other:?}"),
    }
    assert_eq!(c.mark_read("Ana").unwrap(), None, "nothing new to mark");
    assert_eq!(c.take_events(), vec![], "and nothing changed");
}

#[test]
fn a_refused_key_change_raises_one_event() {
    let (root, clock, a, _c) = pair();
    let impostor = node(root.path(), "impostor", &clock);
    let err = a.add_contact(&impostor.card(), Some("Chen")).unwrap_err();
    assert!(matches!(err, NodeError::KeyChanged { .. }), "{err}");
    assert_eq!(
        a.take_events(),
        vec![NodeEvent::KeyChanged {
            alias: "Chen".into()
        }]
    );
}

#[test]
fn groups_and_channels_raise_conversation_changes() {
    let (_root, _clock, a, _c) = pair();
    let g = a.create_group("Family", &["Chen".to_owned()]).unwrap();
    let ch = a.join_channel("#market").unwrap();
    assert_eq!(
        a.take_events(),
        vec![
            NodeEvent::ConversationChanged { conversation: g.id },
            NodeEvent::ConversationChanged {
                conversation: ch.id
            },
        ]
    );
}

#[test]
fn a_store_filling_up_says_so_once_and_a_refusal_says_so_again() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let carrier = node(root.path(), "carrier", &clock);
    let mut sent = Vec::new();
    for i in 0..12 {
        let from = node(root.path(), &format!("s{i}"), &clock);
        let to = node(root.path(), &format!("r{i}"), &clock);
        from.add_contact(&to.card(), Some("to")).unwrap();
        let s = from.send_direct("to", "x".repeat(200).as_str()).unwrap();
        sent.push(envelope(&from, s.envelope).remove(0));
    }
    let one = sent[0].0.len() as u64;
    let mut carrier = carrier;
    carrier.set_limits(StoreLimits {
        global_bytes: one * 10,
        ..StoreLimits::default()
    });
    carrier.ingest_envelopes(&sent[..5], "a").unwrap();
    assert_eq!(carrier.take_events(), vec![], "half full is no news");
    carrier.ingest_envelopes(&sent[5..9], "b").unwrap();
    let events = carrier.take_events();
    assert!(
        matches!(events.as_slice(), [NodeEvent::StoragePressure { cap_bytes, .. }] if *cap_bytes == one * 10),
        "crossing 90 %: {events:?}"
    );
    carrier.ingest_envelopes(&sent[9..10], "c").unwrap();
    assert_eq!(carrier.take_events(), vec![], "still above: said already");
    // The carrier's own messages (never evicted) take the whole cap; a
    // stranger's envelope then finds no room, and that is said again.
    let friend = node(root.path(), "friend", &clock);
    carrier.add_contact(&friend.card(), Some("friend")).unwrap();
    for _ in 0..10 {
        carrier
            .send_direct("friend", "x".repeat(200).as_str())
            .unwrap();
    }
    carrier.take_events();
    let out = carrier.ingest_envelopes(&sent[10..11], "d").unwrap();
    assert!(out[0].is_err(), "no room: {out:?}");
    assert!(
        matches!(
            carrier.take_events().as_slice(),
            [NodeEvent::StoragePressure { .. }]
        ),
        "a refusal for want of room is said again"
    );
}
