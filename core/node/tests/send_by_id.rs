//! Sending by conversation id: a name can stand for several conversations
//! (a contact and a group both called "Chen"), an id for one.

mod common;

use common::{T0, TestClock, ana_and_chen, carry_all, node};
use pollen_node::node::{ConversationId, NodeError};
use pollen_node::store::ConversationKind;

#[test]
fn an_id_picks_one_conversation_where_a_name_is_ambiguous() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let a = node(root.path(), "Ana", &clock);
    let c = node(root.path(), "Chen", &clock);
    a.add_contact(&c.card(), None).unwrap();
    let group = a.create_group("Chen", &["Chen".to_owned()]).unwrap();
    let direct = a.open_direct("Chen").unwrap();
    assert_ne!(group.id, direct.id);
    assert!(
        matches!(
            a.send("Chen", "which one?"),
            Err(NodeError::AmbiguousConversation(_))
        ),
        "by name: ambiguous"
    );
    let sent = a.send_in(&group.id, "to the group").unwrap();
    let rows = a.messages(Some("#nonexistent"), 10, None);
    assert!(rows.is_err(), "an unknown name is an error");
    let in_group = a
        .store()
        .messages(Some(&group.id), &a.public().signing, 10, None)
        .unwrap();
    assert_eq!(in_group.len(), 1);
    assert_eq!(in_group[0].id, sent.message);
    let in_direct = a
        .store()
        .messages(Some(&direct.id), &a.public().signing, 10, None)
        .unwrap();
    assert!(in_direct.is_empty(), "nothing went to the direct chat");
    let unknown = ConversationId([7; 16]);
    assert!(matches!(
        a.send_in(&unknown, "nowhere"),
        Err(NodeError::UnknownConversation(_))
    ));
}

#[test]
fn mark_read_in_clears_the_one_conversation_it_names() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (a, c) = ana_and_chen(root.path(), &clock);
    // Chen writes to Ana directly and in a group he named after himself.
    c.create_group("Chen", &["Ana".to_owned()]).unwrap();
    clock.tick();
    c.send_direct("Ana", "direct").unwrap();
    c.send_group("Chen", "in the group").unwrap();
    carry_all(&c, &a);
    let unread = |kind: ConversationKind| {
        a.conversations(10)
            .unwrap()
            .into_iter()
            .find(|r| r.kind == kind)
            .map(|r| (r.id, r.unread))
            .unwrap()
    };
    let (direct, n_direct) = unread(ConversationKind::Direct);
    let (group, n_group) = unread(ConversationKind::Group);
    assert_eq!((n_direct, n_group), (1, 1), "one unread in each");
    assert!(
        matches!(
            a.mark_read("Chen"),
            Err(NodeError::AmbiguousConversation(_))
        ),
        "by name: ambiguous"
    );
    let read = a.mark_read_in(&direct).unwrap();
    assert!(read.is_some(), "a read marker goes to Chen");
    assert_eq!(unread(ConversationKind::Direct), (direct, 0));
    assert_eq!(
        unread(ConversationKind::Group),
        (group, 1),
        "the group is untouched"
    );
    assert_eq!(a.mark_read_in(&direct).unwrap(), None, "nothing new");
    assert!(matches!(
        a.mark_read_in(&ConversationId([9; 16])),
        Err(NodeError::UnknownConversation(_))
    ));
}
