//! A group's members screen, the transports switch, screen privacy and blocking, over real nodes.

mod common;

use common::{carry_all, node, people};
use pollen_app::AppError;
use pollen_app::cards::start_group;
use pollen_app::members::{add_member, group_members, remove_member};
use pollen_app::transports::{Transports, set_transports, transports};
use pollen_node::NodeError;
use pollen_node::node::Node;
use pollen_proto::payload::MAX_GROUP_MEMBERS;

fn names(n: &Node, group: &pollen_node::node::ConversationId) -> Vec<String> {
    group_members(n, group)
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.name)
        .collect()
}

#[test]
fn the_admin_sees_whom_to_add_and_members_see_the_group_change() {
    let (_clock, p) = people(&["Ana", "Bo", "Chen"]);
    let (ana, bo, chen) = (&p[0], &p[1], &p[2]);
    let crew = start_group(ana, "crew", &["Bo".into()]).unwrap().id;
    carry_all(ana, bo);

    let mine = group_members(ana, &crew).unwrap();
    assert!(mine.admin_is_me);
    assert_eq!(names(ana, &crew), ["You", "Bo"]);
    assert!(mine.members[0].is_me && mine.members[0].is_admin);
    assert_eq!(mine.members[1].alias.as_deref(), Some("Bo"));
    assert_eq!(mine.addable, ["Chen"]);

    // Bo sees the same group, with Ana as admin, and may change nothing.
    let bos = group_members(bo, &crew).unwrap();
    assert!(!bos.admin_is_me);
    assert_eq!(names(bo, &crew), ["You", "Ana"]);
    assert!(bos.members[1].is_admin);
    assert!(bos.addable.is_empty());
    assert!(matches!(
        add_member(bo, &crew, "Chen"),
        Err(AppError::Node(NodeError::NotAdmin(_)))
    ));

    // Ana adds Chen: Bo's list follows, and Chen sees the group at once.
    assert_eq!(add_member(ana, &crew, "Chen").unwrap(), 2);
    assert!(matches!(
        add_member(ana, &crew, "Chen"),
        Err(AppError::Node(NodeError::AlreadyMember(..)))
    ));
    carry_all(ana, bo);
    carry_all(ana, chen);
    assert_eq!(names(bo, &crew), ["You", "Ana", "Chen"]);
    assert_eq!(names(chen, &crew), ["You", "Ana", "Bo"]);
    assert!(group_members(ana, &crew).unwrap().addable.is_empty());

    // Removed again: the others' lists lose Chen.
    assert_eq!(remove_member(ana, &crew, "Chen").unwrap(), 3);
    carry_all(ana, bo);
    assert_eq!(names(bo, &crew), ["You", "Ana"]);
    assert_eq!(group_members(ana, &crew).unwrap().addable, ["Chen"]);
}

#[test]
fn a_member_who_is_not_a_contact_shows_the_name_the_admin_gave() {
    let (clock, p) = people(&["Ana", "Bo"]);
    let (ana, bo) = (&p[0], &p[1]);
    let dee = node("Dee", &clock);
    ana.add_contact(&dee.card(), Some("Dee from the stall"))
        .unwrap();
    let stall = start_group(ana, "stall", &["Bo".into(), "Dee from the stall".into()])
        .unwrap()
        .id;
    carry_all(ana, bo);
    let seen = group_members(bo, &stall).unwrap();
    let dee_line = seen
        .members
        .iter()
        .find(|m| !m.is_me && !m.is_admin)
        .unwrap();
    assert_eq!(dee_line.name, "Dee from the stall");
    assert_eq!(
        dee_line.alias, None,
        "not a contact of Bo's: nothing to act on"
    );
}

#[test]
fn a_group_stops_at_the_most_members_a_group_key_can_list() {
    let (clock, p) = people(&["Ana"]);
    let ana = &p[0];
    let others: Vec<Node> = (0..MAX_GROUP_MEMBERS)
        .map(|i| node(&format!("P{i}"), &clock))
        .collect();
    for o in &others {
        ana.add_contact(&o.card(), None).unwrap();
    }
    let aliases: Vec<String> = (0..MAX_GROUP_MEMBERS - 1)
        .map(|i| format!("P{i}"))
        .collect();
    let big = start_group(ana, "big", &aliases).unwrap().id;
    let view = group_members(ana, &big).unwrap();
    assert_eq!(view.members.len(), MAX_GROUP_MEMBERS);
    assert!(view.addable.is_empty(), "a full group offers nobody to add");
    let last = format!("P{}", MAX_GROUP_MEMBERS - 1);
    assert!(matches!(
        add_member(ana, &big, &last),
        Err(AppError::Node(NodeError::GroupFull(_, MAX_GROUP_MEMBERS)))
    ));
    // Creating one too big is refused the same way, before any key is sealed.
    let all: Vec<String> = (0..MAX_GROUP_MEMBERS).map(|i| format!("P{i}")).collect();
    assert!(matches!(
        start_group(ana, "bigger", &all),
        Err(AppError::Node(NodeError::GroupFull(..)))
    ));
}

#[test]
fn transports_are_all_on_at_first_and_a_choice_survives_a_reopen() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ana");
    {
        let n = Node::init(&dir, "Ana", Box::new(pollen_node::node::SystemClock)).unwrap();
        assert_eq!(
            transports(&n).unwrap(),
            Transports {
                bluetooth: true,
                wifi: true
            }
        );
        set_transports(
            &n,
            Transports {
                bluetooth: false,
                wifi: true,
            },
        )
        .unwrap();
    }
    let n = Node::open(&dir, Box::new(pollen_node::node::SystemClock)).unwrap();
    assert_eq!(
        transports(&n).unwrap(),
        Transports {
            bluetooth: false,
            wifi: true
        }
    );
    set_transports(
        &n,
        Transports {
            bluetooth: true,
            wifi: false,
        },
    )
    .unwrap();
    assert!(!transports(&n).unwrap().wifi);
    assert!(transports(&n).unwrap().bluetooth);
}

#[test]
fn screens_are_private_until_switched_off_and_the_choice_survives_a_reopen() {
    use pollen_app::privacy::{screen_private, set_screen_private};
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ana");
    {
        let n = Node::init(&dir, "Ana", Box::new(pollen_node::node::SystemClock)).unwrap();
        assert!(screen_private(&n).unwrap(), "private by default");
        set_screen_private(&n, false).unwrap();
        assert!(!screen_private(&n).unwrap());
    }
    let n = Node::open(&dir, Box::new(pollen_node::node::SystemClock)).unwrap();
    assert!(!screen_private(&n).unwrap(), "kept");
    set_screen_private(&n, true).unwrap();
    assert!(screen_private(&n).unwrap());
}

#[test]
fn a_blocked_persons_earlier_messages_leave_the_timeline_and_come_back_when_unblocked() {
    use pollen_app::timeline::{TimelineItem, TimelineQuery, timeline};
    let (clock, p) = people(&["Ana", "Bo", "Chen"]);
    let (ana, bo) = (&p[0], &p[1]);
    let crew = start_group(ana, "crew", &["Bo".into(), "Chen".into()])
        .unwrap()
        .id;
    carry_all(ana, bo);
    bo.send_in(&crew, "from Bo").unwrap();
    ana.send_in(&crew, "from Ana").unwrap();
    carry_all(bo, ana);
    let shown = |n: &Node| -> Vec<String> {
        let q = TimelineQuery {
            limit: 50,
            before: None,
            now_secs: clock.now(),
            utc_offset_secs: 0,
        };
        timeline(n, &crew, &q)
            .unwrap()
            .into_iter()
            .filter_map(|i| match i {
                TimelineItem::Message(m) => Some(m.text),
                TimelineItem::Day { .. } => None,
            })
            .collect()
    };
    assert_eq!(shown(ana).len(), 2);
    ana.block("Bo").unwrap();
    assert_eq!(shown(ana), ["from Ana"]);
    ana.unblock("Bo").unwrap();
    assert_eq!(shown(ana).len(), 2);
}
