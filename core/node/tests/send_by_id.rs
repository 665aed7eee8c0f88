//! Sending by conversation id: a name can stand for several conversations
//! (a contact and a group both called "Chen"), an id for one.

mod common;

use common::{T0, TestClock, node};
use pollen_node::node::{ConversationId, NodeError};

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
