//! The app model over real nodes: chat list order and unread counts kept by
//! events, timelines folded, delivery states, notification decisions, cards.

use pollen_app::AppError;
use pollen_app::cards::{
    add_contact_from_input, card_from_input, join_channel, open_chat_with_contact,
};
use pollen_app::chats::ChatList;
use pollen_app::nearby::{NeighbourSeen, Neighbourhood, summarise};
use pollen_app::notify::{notification_for, notifications_for, set_muted};
use pollen_app::timeline::{Delivery, TimelineItem, TimelineMessage, TimelineQuery, timeline};
use pollen_node::node::{ConversationId, Node, NodeEvent};

mod common;

use common::{DAY, T0, TestClock, carry, node, people};

fn query(clock: &TestClock) -> TimelineQuery {
    TimelineQuery {
        limit: 50,
        before: None,
        now_secs: clock.now(),
        utc_offset_secs: 0,
    }
}

fn messages(items: &[TimelineItem]) -> Vec<&TimelineMessage> {
    items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Message(m) => Some(m),
            TimelineItem::Day { .. } => None,
        })
        .collect()
}

#[test]
fn chat_list_is_newest_first_and_events_keep_unread_counts() {
    let (clock, n) = people(&["Ana", "Chen", "Dee"]);
    let (ana, chen, dee) = (&n[0], &n[1], &n[2]);
    let s = chen.send_direct("Ana", "hi from Chen").unwrap();
    carry(chen, ana, s.envelope);
    clock.advance(5);
    let s = dee.send_direct("Ana", "hi from Dee").unwrap();
    carry(dee, ana, s.envelope);
    ana.take_events();

    let mut list = ChatList::load(ana, 100).unwrap();
    let titles: Vec<_> = list.chats().iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Dee", "Chen"]);
    assert_eq!(list.chats()[0].preview, "hi from Dee");
    assert_eq!(list.chats()[0].preview_author.as_deref(), Some("Dee"));
    assert_eq!(list.chats()[0].last_at_ms, Some((T0 + 5) * 1000));
    assert_eq!(list.unread_total(), 2);

    clock.advance(5);
    let s = chen.send_direct("Ana", "again\n  from   Chen").unwrap();
    carry(chen, ana, s.envelope);
    let changed = list.apply(ana, &ana.take_events()).unwrap();
    assert_eq!(changed.len(), 1, "only Chen's chat changed");
    let chen_chat = &list.chats()[0];
    assert_eq!(chen_chat.title, "Chen");
    assert_eq!(
        (chen_chat.unread, chen_chat.preview.as_str()),
        (2, "again from Chen")
    );

    ana.mark_read("Chen").unwrap();
    list.apply(ana, &ana.take_events()).unwrap();
    assert_eq!(list.chats()[0].unread, 0);
    assert_eq!(list.unread_total(), 1);

    clock.advance(5);
    ana.send_direct("Dee", "my reply").unwrap();
    list.apply(ana, &ana.take_events()).unwrap();
    assert_eq!(list.chats()[0].title, "Dee");
    assert!(list.chats()[0].preview_own);
    assert_eq!(list.chats()[0].preview_author, None);
    assert_eq!(
        list,
        ChatList::load(ana, 100).unwrap(),
        "events and a reload agree"
    );
}

#[test]
fn a_chat_with_a_pasted_contact_opens_before_any_message() {
    let (clock, n) = people(&["Ana"]);
    let chen = node("Chen", &clock);
    let pasted = format!("  pollen:{}\n", chen.card());
    let contact = add_contact_from_input(&n[0], &pasted, Some(" Chen ")).unwrap();
    assert_eq!(contact.alias, "Chen");
    let chat = open_chat_with_contact(&n[0], "Chen").unwrap();
    assert_eq!((chat.title.as_str(), chat.preview.as_str()), ("Chen", ""));
    assert_eq!((chat.last_at_ms, chat.unread), (None, 0));
    let list = ChatList::load(&n[0], 10).unwrap();
    assert_eq!(list.chats().len(), 1);
    assert!(
        timeline(&n[0], &chat.id, &query(&clock))
            .unwrap()
            .is_empty()
    );

    n[0].send(&chat.title, "first words").unwrap();
    let again = open_chat_with_contact(&n[0], "Chen").unwrap();
    assert_eq!((again.id, again.preview.as_str()), (chat.id, "first words"));
    assert!(matches!(
        open_chat_with_contact(&n[0], "Nobody"),
        Err(AppError::Node(_))
    ));
}

#[test]
fn the_timeline_folds_edits_reactions_and_deletes_and_separates_days() {
    let (clock, n) = people(&["Ana", "Chen"]);
    let (ana, chen) = (&n[0], &n[1]);
    let m1 = ana.send_direct("Chen", "helo").unwrap();
    carry(ana, chen, m1.envelope);
    clock.advance(1);
    let m2 = ana.send_direct("Chen", "how are you").unwrap();
    carry(ana, chen, m2.envelope);
    clock.advance(DAY);
    let m3 = ana.send_direct("Chen", "oops").unwrap();
    carry(ana, chen, m3.envelope);
    let hex = |s: &pollen_node::node::send::Sent| s.message.to_hex();
    for action in [
        ana.edit(&hex(&m1), "hello").unwrap(),
        ana.react(&hex(&m2), "👍").unwrap(),
        ana.delete(&hex(&m3)).unwrap(),
    ] {
        carry(ana, chen, action.envelope);
    }
    let r = chen.react(&hex(&m2), "👍").unwrap();
    carry(chen, ana, r.envelope);
    let r = chen.react(&hex(&m1), "❤").unwrap();
    carry(chen, ana, r.envelope);

    let conv = ana.resolve_conversation("Chen").unwrap().id;
    let items = timeline(ana, &conv, &query(&clock)).unwrap();
    let days: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Day { label, .. } => Some(label.as_str()),
            TimelineItem::Message(_) => None,
        })
        .collect();
    assert_eq!(days, ["Yesterday", "Today"]);
    assert!(matches!(items[0], TimelineItem::Day { .. }));
    let ms = messages(&items);
    assert_eq!(ms.len(), 3);
    assert_eq!((ms[0].text.as_str(), ms[0].edited), ("hello", true));
    assert_eq!(ms[0].reactions.len(), 1);
    assert!(!ms[0].reactions[0].mine);
    assert_eq!(ms[1].reactions.len(), 1);
    assert_eq!(
        (
            ms[1].reactions[0].emoji.as_str(),
            ms[1].reactions[0].count,
            ms[1].reactions[0].mine
        ),
        ("👍", 2, true)
    );
    assert!(ms[2].deleted && ms[2].text.is_empty() && !ms[2].edited);
    assert!(ms.iter().all(|m| m.own && m.author == "Ana"));
    // What both apps draw for each message, ready made.
    let shown: Vec<_> = ms
        .iter()
        .map(|m| (m.shown_text(), m.reactions_line()))
        .collect();
    assert_eq!(
        shown,
        [
            ("hello (edited)".to_owned(), "❤".to_owned()),
            ("how are you".to_owned(), "👍2".to_owned()),
            ("(deleted)".to_owned(), String::new()),
        ]
    );
    assert!(
        ms.iter().all(|m| m.byline() == "me · queued"),
        "{:?}",
        ms[0].delivery
    );

    // Seen from Tokyo (UTC+9), 08:00 UTC is 17:00 the same day; from
    // UTC-9 it is 23:00 the day before: both messages of "yesterday" and
    // "today" keep their own days, labelled by date two days later.
    let later = TimelineQuery {
        now_secs: clock.now() + 2 * DAY,
        utc_offset_secs: -9 * 3600,
        ..query(&clock)
    };
    let items = timeline(ana, &conv, &later).unwrap();
    let TimelineItem::Day { label, .. } = &items[0] else {
        panic!("starts with a day")
    };
    assert_eq!(label, "2027-01-14");
    let chen_view = timeline(chen, &conv, &query(&clock)).unwrap();
    assert!(
        messages(&chen_view)
            .iter()
            .all(|m| !m.own && m.delivery == Delivery::Received && m.byline() == "Ana")
    );
    let failed = Delivery::Failed {
        reason: "expired".into(),
    };
    assert_eq!(failed.label(), "failed: expired");
    assert_eq!(Delivery::Read.label(), "read");
}

#[test]
fn delivery_moves_from_queued_to_carried_to_delivered_to_read_or_fails_when_expired() {
    let (clock, n) = people(&["Ana", "Chen"]);
    let (ana, chen) = (&n[0], &n[1]);
    // The proof straight back (by default it waits for its batch:
    // pollen_node::receipts, tested there).
    chen.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    let conv = ana.resolve_conversation("Chen").unwrap().id;
    let state = |i: usize, now: u64| {
        let q = TimelineQuery {
            now_secs: now,
            ..query(&clock)
        };
        messages(&timeline(ana, &conv, &q).unwrap())[i]
            .delivery
            .clone()
    };
    let m1 = ana.send_direct("Chen", "one").unwrap();
    assert_eq!(state(0, clock.now()), Delivery::Queued);
    // Two neighbours acknowledge holding it (what a session's Ack records).
    ana.store().note_carried(&[m1.envelope]).unwrap();
    ana.store().note_carried(&[m1.envelope]).unwrap();
    assert_eq!(state(0, clock.now()), Delivery::Carried { by: 2 });
    assert_eq!(Delivery::Carried { by: 2 }.label(), "carried by 2");
    let proof = carry(ana, chen, m1.envelope).expect("direct messages prove delivery");
    assert_eq!(
        state(0, clock.now()),
        Delivery::Carried { by: 2 },
        "no proof back yet"
    );
    ana.ingest_proofs(&[proof]).unwrap();
    assert_eq!(state(0, clock.now()), Delivery::Delivered);
    clock.advance(10);
    let read = chen.mark_read("Ana").unwrap().expect("something to mark");
    clock.advance(10);
    let m2 = ana.send_direct("Chen", "two").unwrap();
    carry(chen, ana, read.envelope);
    assert_eq!(state(0, clock.now()), Delivery::Read);
    assert_eq!(
        state(1, clock.now()),
        Delivery::Queued,
        "sent after the read marker"
    );
    let month = clock.now() + 31 * DAY;
    assert!(matches!(state(1, month), Delivery::Failed { reason } if reason.contains("expired")));
    assert_eq!(
        state(0, month),
        Delivery::Read,
        "a read message never fails"
    );
    let _ = m2;

    let town = join_channel(ana, "town").unwrap();
    ana.send(&town.title, "anyone?").unwrap();
    let items = timeline(ana, &town.id, &query(&clock)).unwrap();
    assert_eq!(messages(&items)[0].delivery, Delivery::Sent);
}

#[test]
fn notifications_only_for_others_messages_in_chats_not_open_or_muted() {
    let (_clock, n) = people(&["Ana", "Chen"]);
    let (ana, chen) = (&n[0], &n[1]);
    let s = chen.send_direct("Ana", "are you there?").unwrap();
    carry(chen, ana, s.envelope);
    let events = ana.take_events();
    let added = events
        .iter()
        .find(|e| matches!(e, NodeEvent::MessageAdded { .. }))
        .expect("a message was added")
        .clone();
    let NodeEvent::MessageAdded { conversation, .. } = added else {
        unreachable!()
    };
    let n1 = notification_for(ana, &added, None)
        .unwrap()
        .expect("worth a notification");
    assert_eq!(
        (n1.title.as_str(), n1.body.as_str(), n1.count),
        ("Chen", "are you there?", 1)
    );
    assert_eq!(n1.conversation, conversation);
    assert_eq!(
        notification_for(ana, &added, Some(&conversation)).unwrap(),
        None,
        "chat is open"
    );
    let other = ConversationId([7; 16]);
    assert!(
        notification_for(ana, &added, Some(&other))
            .unwrap()
            .is_some()
    );

    set_muted(ana, &conversation, true).unwrap();
    assert_eq!(notification_for(ana, &added, None).unwrap(), None, "muted");
    assert!(ChatList::load(ana, 10).unwrap().chats()[0].muted);
    set_muted(ana, &conversation, false).unwrap();

    ana.send_direct("Chen", "yes").unwrap();
    let own = ana.take_events();
    assert!(
        notifications_for(ana, &own, None).unwrap().is_empty(),
        "own messages are quiet"
    );

    let s = chen.send_direct("Ana", "great").unwrap();
    carry(chen, ana, s.envelope);
    let all: Vec<NodeEvent> = events.into_iter().chain(ana.take_events()).collect();
    let grouped = notifications_for(ana, &all, None).unwrap();
    assert_eq!(grouped.len(), 1, "one per chat");
    assert_eq!((grouped[0].body.as_str(), grouped[0].count), ("great", 2));
}

#[test]
fn cards_are_found_in_links_and_malformed_ones_are_refused_clearly() {
    let clock = TestClock::at(T0);
    let card = node("Chen", &clock).card();
    let (head, tail) = card.split_at(20);
    for input in [
        card.clone(),
        format!("\n  {card}\t "),
        format!("{head}\n{tail}"),
        format!("pollen:{card}"),
        format!("POLLEN://{card}"),
        format!("https://pollen.example/add#{card}"),
        format!("https://pollen.example/add?card={card}&from=qr"),
    ] {
        assert_eq!(card_from_input(&input).unwrap(), card, "{input:?}");
    }
    let mut flipped = card.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'q' { b'p' } else { b'q' };
    let flipped = String::from_utf8(flipped).unwrap();
    for (input, says) in [
        ("", "nothing was scanned"),
        ("   ", "nothing was scanned"),
        ("hello there", "no card found"),
        ("https://example.com/page", "no card found"),
        (&card[..card.len() - 10], "not a valid contact card"),
        (flipped.as_str(), "not a valid contact card"),
    ] {
        let e = card_from_input(input).expect_err(input);
        assert!(
            matches!(e, AppError::MalformedCard { .. }),
            "{input:?}: {e:?}"
        );
        let text = e.to_string();
        assert!(
            text.starts_with("not a contact card: ") && text.contains(says),
            "{input:?}: {text}"
        );
    }
}

#[test]
fn nearby_counts_neighbours_by_transport_and_storage_use() {
    let clock = TestClock::at(T0);
    let mut status = node("Ana", &clock).status().unwrap();
    status.envelope_bytes = status.storage_cap_bytes / 4;
    status.carried_for_others = 12;
    let seen = |t: &str| NeighbourSeen {
        transport: t.to_owned(),
    };
    let s = summarise(&status, &[seen("lan"), seen("ble"), seen("ble")], Some(T0));
    assert_eq!(s.neighbours, 3);
    let order: Vec<_> = s
        .by_transport
        .iter()
        .map(|t| (t.transport.as_str(), t.count))
        .collect();
    assert_eq!(order, [("ble", 2), ("lan", 1)]);
    assert_eq!(
        (s.carrying_for_others, s.storage_percent, s.last_uplink_secs),
        (12, 25, Some(T0))
    );
}

#[test]
fn the_neighbourhood_follows_appeared_and_left_and_words_the_nearby_screen() {
    let clock = TestClock::at(T0);
    let mut status = node("Ana", &clock).status().unwrap();
    let mut hood = Neighbourhood::default();
    assert_eq!(
        hood.summary(&status).lines(T0),
        [
            "Nobody in reach",
            "Carrying 0 messages for others",
            "None of your messages is waiting",
            "Storage: 0% used",
            "Internet: not reached yet",
        ]
    );
    hood.appeared("ble", "AA:01");
    hood.appeared("ble", "AA:02");
    hood.appeared("ble", "AA:02");
    hood.appeared("lan", "pollen-1f");
    hood.left("ble", "AA:01");
    hood.left("ble", "never-seen");
    hood.appeared("platform", "carrier");
    hood.reached_relay(T0 - 600);
    hood.reached_relay(T0 - 7_200);
    status.carried_for_others = 1;
    status.own_undelivered = 3;
    let s = hood.summary(&status);
    assert_eq!(s.neighbours, 3, "a repeated appearance counts once");
    assert_eq!(
        s.lines(T0),
        [
            "In reach: 1 over Bluetooth, 1 over Wi-Fi, 1 over phone link",
            "Carrying 1 message for others",
            "3 of your messages are waiting for their recipients",
            "Storage: 0% used",
            "Internet: last reached 10 min ago",
        ]
    );
    hood.all_left("ble");
    hood.all_left("lan");
    assert_eq!(
        hood.summary(&status).lines(T0)[0],
        "In reach: 1 over phone link"
    );
}

#[test]
fn relays_are_kept_in_order_without_blanks_or_repeats_and_survive_a_reopen() {
    use pollen_app::relays::{relays, set_relays};
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ana");
    let a = "pollen-relay://relay.example:7000/".to_owned() + &"ab".repeat(32);
    let b = "pollen-relay://10.0.0.2:7000/".to_owned() + &"cd".repeat(32);
    {
        let node = Node::init(&dir, "Ana", Box::new(pollen_node::node::SystemClock)).unwrap();
        assert!(relays(&node).unwrap().is_empty());
        let kept = set_relays(
            &node,
            &[format!("  {a} "), String::new(), b.clone(), a.clone()],
        )
        .unwrap();
        assert_eq!(kept, [a.clone(), b.clone()]);
    }
    let node = Node::open(&dir, Box::new(pollen_node::node::SystemClock)).unwrap();
    assert_eq!(relays(&node).unwrap(), [a, b]);
    set_relays(&node, &[]).unwrap();
    assert!(relays(&node).unwrap().is_empty());
}

#[test]
fn a_relay_is_added_after_the_saved_ones_once() {
    use pollen_app::relays::{add_relay, relays};
    let root = tempfile::tempdir().unwrap();
    let node = Node::init(
        &root.path().join("ana"),
        "Ana",
        Box::new(pollen_node::node::SystemClock),
    )
    .unwrap();
    let a = "pollen-relay://relay.example:7000/".to_owned() + &"ab".repeat(32);
    let b = "pollen-relay://10.0.0.2:7000/".to_owned() + &"cd".repeat(32);
    assert_eq!(add_relay(&node, &a).unwrap(), vec![a.clone()]);
    assert_eq!(
        add_relay(&node, &format!(" {b}\n")).unwrap(),
        [a.clone(), b.clone()]
    );
    assert_eq!(add_relay(&node, &a).unwrap(), [a.clone(), b.clone()]);
    assert_eq!(relays(&node).unwrap(), [a, b]);
}
