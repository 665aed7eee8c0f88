//! Sync sessions between real nodes (SQLite stores, sealed envelopes) over an
//! in-memory link on virtual time: a BLE-sized link with a throughput cap.

mod common;

use common::{T0, TestClock, ana_and_chen, node};
use pollen_node::node::Node;
use pollen_proto::sync::pump::{LinkModel, PumpReport, pump};
use pollen_proto::sync::{Session, SessionConfig};

/// One encounter over a 180-byte, 10 kB/s link with 30 ms latency.
fn ble(initiator: &mut Node, responder: &mut Node) -> PumpReport {
    let mut a = Session::new(SessionConfig::small(true, "ble-a", 180), T0 * 1000);
    let mut b = Session::new(SessionConfig::small(false, "ble-b", 180), T0 * 1000);
    let model = LinkModel {
        bytes_per_ms: 10,
        latency_ms: 30,
        ..LinkModel::default()
    };
    let r = pump(&mut a, initiator, &mut b, responder, model, T0 * 1000);
    assert!(r.finished, "{:?}", r.events);
    r
}

#[test]
fn p6_a_to_b_to_c_over_a_180_byte_link_and_the_proof_comes_back_with_its_batch() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let mut a = node(root.path(), "Anastasia", &clock);
    let mut b = node(root.path(), "Bo", &clock);
    let mut c = node(root.path(), "Chen", &clock);
    a.add_contact(&c.card(), None).unwrap();
    c.add_contact(&a.card(), None).unwrap();
    let secret = "the ferry leaves at six 9d2e";
    a.send_direct("Chen", secret).unwrap();
    // Some unrelated carried traffic at B, so priorities matter.
    b.send_channel("market", "fresh bread at the square")
        .or_else(|_| {
            b.join_channel("market").unwrap();
            b.send_channel("market", "fresh bread at the square")
        })
        .unwrap();

    let r = ble(&mut a, &mut b);
    assert_eq!(b.status().unwrap().carried_for_others, 1);
    // A BLE-sized link: at 10 bytes/ms, a few seconds of virtual time.
    assert!(r.elapsed_ms > 100, "{}", r.elapsed_ms);

    let r = ble(&mut b, &mut c);
    let texts: Vec<String> = c
        .messages(None, 10, None)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(texts.contains(&secret.to_owned()), "{texts:?}");
    assert!(
        b.messages(None, 10, None)
            .unwrap()
            .iter()
            .all(|m| m.text != secret)
    );
    // P6: the proof is held back, so B, which handed the envelope over,
    // does not learn in that session that C was its recipient.
    assert_eq!(b.status().unwrap().carried_for_others, 1, "{r:?}");
    let release = c.next_proof_release().unwrap().expect("a proof waits");
    assert_eq!(release % pollen_node::receipts::PROOF_BATCH_SECS, 0);
    assert!(release > T0 && release <= T0 + 2 * pollen_node::receipts::PROOF_BATCH_SECS);
    clock.set(release - 1);
    ble(&mut b, &mut c);
    assert_eq!(
        b.status().unwrap().carried_for_others,
        1,
        "not a second early"
    );
    // Released with its batch: the next session carries it and B drops its copy.
    clock.set(release);
    ble(&mut b, &mut c);
    assert_eq!(c.next_proof_release().unwrap(), None);
    assert_eq!(b.status().unwrap().carried_for_others, 0);

    ble(&mut a, &mut b);
    let status = a.status().unwrap();
    assert_eq!(status.own_undelivered, 0);
    assert_eq!(status.own_delivered, 1);
}

/// One routed encounter (what phones run): the routing policy picks what
/// crosses and copy budgets travel with envelopes. `b_version` is the
/// responder's highest session version.
fn routed(initiator: &mut Node, responder: &mut Node, b_version: u8) -> PumpReport {
    let mut a = Session::new(SessionConfig::small(true, "a", 180).routed(), T0 * 1000);
    let mut cb = SessionConfig::small(false, "b", 180).routed();
    cb.max_version = b_version;
    let mut b = Session::new(cb, T0 * 1000);
    let r = pump(
        &mut a,
        initiator,
        &mut b,
        responder,
        LinkModel::default(),
        T0 * 1000,
    );
    assert!(r.finished, "{:?}", r.events);
    r
}

#[test]
fn phones_spray_a_copy_budget_and_a_last_copy_waits_for_the_recipient() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let mut a = node(root.path(), "Ada", &clock);
    let mut zed = node(root.path(), "Zed", &clock);
    let mut carriers: Vec<Node> = (0..6)
        .map(|i| node(root.path(), &format!("carrier{i}"), &clock))
        .collect();
    a.add_contact(&zed.card(), None).unwrap();
    zed.add_contact(&a.card(), None).unwrap();
    let id = a.send_direct("Zed", "meet at the well").unwrap().envelope;
    let copies = |n: &Node| n.store().envelope_copies(&id).unwrap();
    assert_eq!(copies(&a), Some(pollen_node::routing::COPIES));

    // Each handover gives away half: 16 → 8 → 4 → 2 → 1 along a chain.
    routed(&mut a, &mut carriers[0], 2);
    assert_eq!((copies(&a), copies(&carriers[0])), (Some(8), Some(8)));
    for i in 0..3 {
        let (left, right) = carriers.split_at_mut(i + 1);
        routed(&mut left[i], &mut right[0], 2);
    }
    let held: Vec<Option<u32>> = carriers.iter().map(copies).collect();
    assert_eq!(held[..4], [Some(4), Some(2), Some(1), Some(1)]);

    // A carrier down to one copy keeps it from other carriers ...
    let (left, right) = carriers.split_at_mut(4);
    routed(&mut left[3], &mut right[0], 2);
    assert_eq!(copies(&right[0]), None);
    // ... and hands it to the recipient, whose proof comes straight back
    // (Zed chose immediate receipts).
    zed.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    routed(&mut left[3], &mut zed, 2);
    assert!(
        zed.messages(None, 10, None)
            .unwrap()
            .iter()
            .any(|m| m.text == "meet at the well")
    );
    assert_eq!(copies(&left[3]), None, "the proof purged the last copy");

    // A build that speaks only session version 1 gets the envelope without
    // a budget, so it holds a single copy and waits.
    let b = a.send_direct("Zed", "second").unwrap().envelope;
    routed(&mut a, &mut carriers[5], 1);
    assert_eq!(carriers[5].store().envelope_copies(&b).unwrap(), Some(1));
    assert_eq!(a.store().envelope_copies(&b).unwrap(), Some(16));
}

#[test]
fn the_author_sees_how_many_carriers_took_a_message_until_it_is_delivered() {
    use pollen_node::node::NodeEvent;
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let mut a = node(root.path(), "Ada", &clock);
    let mut c = node(root.path(), "Chen", &clock);
    let mut b1 = node(root.path(), "Bo", &clock);
    let mut b2 = node(root.path(), "Bea", &clock);
    a.add_contact(&c.card(), None).unwrap();
    c.add_contact(&a.card(), None).unwrap();
    c.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    let sent = a.send_direct("Chen", "meet at the well").unwrap();
    let carriers = |a: &Node| {
        let rows = a.messages(None, 10, None).unwrap();
        let row = rows.iter().find(|m| m.id == sent.message).unwrap();
        (row.status.clone(), row.carriers)
    };
    assert_eq!(carriers(&a), ("pending".to_owned(), 0));
    a.watch_events(true);

    routed(&mut a, &mut b1, 3);
    assert_eq!(carriers(&a), ("pending".to_owned(), 1));
    let events = a.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, NodeEvent::Carried { message, .. } if *message == sent.message)),
        "{events:?}"
    );
    // Meeting the same carrier again hands nothing over and counts nothing.
    routed(&mut a, &mut b1, 3);
    assert_eq!(carriers(&a), ("pending".to_owned(), 1));
    routed(&mut a, &mut b2, 3);
    assert_eq!(carriers(&a), ("pending".to_owned(), 2));

    // Carried envelopes of others change no count at the carrier.
    routed(&mut b1, &mut c, 3);
    routed(&mut a, &mut b1, 3);
    let (status, _) = carriers(&a);
    assert_eq!(status, "delivered");
    a.take_events();
    routed(&mut a, &mut b2, 3);
    assert!(
        !a.take_events()
            .iter()
            .any(|e| matches!(e, NodeEvent::Carried { .. })),
        "a delivered message is no longer counted"
    );
}

/// Encounter routing between real nodes (session version 5): a carrier's
/// last copy stays away from strangers and climbs to a phone that met the
/// recipient today; a phone with the switch off tells nothing and moves
/// nothing, and the switch survives a restart.
#[test]
fn a_last_copy_climbs_to_whoever_met_the_recipient() {
    use pollen_proto::sync::SyncStore;
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let mut ada = node(root.path(), "Ada", &clock);
    let mut zed = node(root.path(), "Zed", &clock);
    let mut carrier = node(root.path(), "Cy", &clock);
    let mut stranger = node(root.path(), "Sol", &clock);
    let mut friend = node(root.path(), "Fay", &clock);
    ada.add_contact(&zed.card(), None).unwrap();
    let id = ada
        .send_direct("Zed", "the bridge is out")
        .unwrap()
        .envelope;
    let copies = |n: &Node| n.store().envelope_copies(&id).unwrap();

    // Fay meets Zed today; nobody else has.
    routed(&mut friend, &mut zed, 5);
    routed(&mut ada, &mut carrier, 5);
    carrier.store().set_envelope_copies(&id, 1).unwrap();

    // The last copy is kept from a stranger ...
    routed(&mut carrier, &mut stranger, 5);
    assert_eq!(copies(&stranger), None);
    // ... and moves to Fay, who met Zed: the carrier keeps the bytes for
    // Zed alone (budget 0), Fay holds the one copy.
    routed(&mut carrier, &mut friend, 5);
    assert_eq!((copies(&carrier), copies(&friend)), (Some(0), Some(1)));
    let mut other = node(root.path(), "Oz", &clock);
    routed(&mut carrier, &mut other, 5);
    assert_eq!(copies(&other), None, "a moved copy is not offered again");
    routed(&mut friend, &mut zed, 5);
    assert!(
        zed.messages(None, 10, None)
            .unwrap()
            .iter()
            .any(|m| m.text == "the bridge is out")
    );

    // Switched off: no summary, and a last copy waits as in blind routing.
    let second = ada.send_direct("Zed", "take the ford").unwrap().envelope;
    let mut blind = node(root.path(), "Bly", &clock);
    blind.set_encounter_routing(false).unwrap();
    assert!(blind.encounter_summary().unwrap().is_none());
    routed(&mut ada, &mut blind, 5);
    blind.store().set_envelope_copies(&second, 1).unwrap();
    routed(&mut blind, &mut friend, 5);
    assert_eq!(friend.store().envelope_copies(&second).unwrap(), None);
    drop(blind);
    let reopened = Node::open(&root.path().join("Bly"), Box::new(clock.clone())).unwrap();
    assert!(!reopened.encounter_routing());
}

#[test]
fn a_link_cut_before_the_acknowledgement_gives_the_copies_back() {
    let mut cut_before_ack = 0;
    let mut acked = 0;
    // Every cut point across the session: copies handed over are either
    // acknowledged (and then held by the carrier) or back with the sender;
    // none vanish with the link.
    for cut_after in (40..6_000).step_by(60) {
        let root = tempfile::tempdir().unwrap();
        let clock = TestClock::at(T0);
        let mut a = node(root.path(), "Ada", &clock);
        let mut carrier = node(root.path(), "Bo", &clock);
        let zed = node(root.path(), "Zed", &clock);
        a.add_contact(&zed.card(), None).unwrap();
        let id = a.send_direct("Zed", "meet at the well").unwrap().envelope;
        let mut sa = Session::new(SessionConfig::small(true, "a", 180).routed(), T0 * 1000);
        let mut sb = Session::new(SessionConfig::small(false, "b", 180).routed(), T0 * 1000);
        let model = LinkModel {
            cut_after: Some(cut_after),
            bytes_per_ms: 10,
            latency_ms: 30,
            ..LinkModel::default()
        };
        let r = pump(&mut sa, &mut a, &mut sb, &mut carrier, model, T0 * 1000);
        let mine = a.store().envelope_copies(&id).unwrap();
        let theirs = carrier.store().envelope_copies(&id).unwrap();
        let full = pollen_node::routing::COPIES;
        match (mine, theirs) {
            (m, None) => {
                assert_eq!(
                    m,
                    Some(full),
                    "cut at {cut_after}: copies lost with the link"
                );
                if r.cut && sa.stats().envelopes_sent > 0 {
                    cut_before_ack += 1;
                }
            }
            (m, Some(t)) => {
                assert!(
                    m == Some(full) || m.unwrap() + t == full,
                    "cut at {cut_after}: {m:?} + {t}"
                );
                acked += 1;
            }
        }
    }
    assert!(
        cut_before_ack > 0,
        "some cut fell between the copy and its acknowledgement"
    );
    assert!(acked > 0, "some sessions got as far as the acknowledgement");
}

#[test]
fn a_delivery_proof_goes_back_along_the_carriers_and_stops_at_bystanders() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (mut ana, mut chen) = ana_and_chen(root.path(), &clock);
    let [mut bo, mut dee, mut eve, mut fay] =
        ["Bo", "Dee", "Eve", "Fay"].map(|name| node(root.path(), name, &clock));
    chen.set_receipts(pollen_node::receipts::Receipts::Immediate)
        .unwrap();
    ana.send_direct("Chen", "meet at the well").unwrap();
    let proofs = |n: &Node| n.store().proof_count().unwrap();
    let v = pollen_proto::sync::handshake::VERSION;

    // Bo carries it to Chen, whose proof comes straight back and purges Bo's copy.
    routed(&mut ana, &mut bo, v);
    routed(&mut bo, &mut chen, v);
    assert_eq!(bo.status().unwrap().carried_for_others, 0);
    assert_eq!(proofs(&bo), 1);

    // A carrier hands the proof to anyone it meets; Dee never held the
    // envelope, so Dee keeps the proof but gives it to no one.
    routed(&mut bo, &mut dee, v);
    assert_eq!(proofs(&dee), 1);
    routed(&mut dee, &mut eve, v);
    routed(&mut eve, &mut dee, v);
    assert_eq!(proofs(&eve), 0, "a bystander passes no proof on");

    // Ana still sprays the message. Dee refuses the copy as delivered and
    // answers with the proof, so Ana learns of the delivery from Dee.
    assert_eq!(ana.status().unwrap().own_delivered, 0);
    routed(&mut ana, &mut dee, v);
    assert_eq!(ana.status().unwrap().own_delivered, 1);
    assert_eq!(dee.status().unwrap().carried_for_others, 0);

    // The author matched it: Ana hands the proof on, to Fay too.
    routed(&mut ana, &mut fay, v);
    assert_eq!(proofs(&fay), 1);
}

#[test]
fn a_last_copy_finds_its_recipient_by_the_hello_tags_in_versions_6_and_7() {
    // Version 7 blinds the Hello's tags to 4 bytes, version 6 to 8: a
    // carrier holding a last copy must recognise the recipient either way.
    for version in [6, 7] {
        let root = tempfile::tempdir().unwrap();
        let clock = TestClock::at(T0);
        let (mut ana, mut chen) = ana_and_chen(root.path(), &clock);
        let [mut bo, mut dee] = ["Bo", "Dee"].map(|name| node(root.path(), name, &clock));
        let id = ana.send_direct("Chen", "by the well").unwrap().envelope;
        ana.store().spend_envelope_copies(&id, 2).unwrap();
        routed(&mut ana, &mut bo, version);
        assert_eq!(bo.store().envelope_copies(&id).unwrap(), Some(1));
        routed(&mut bo, &mut dee, version);
        assert_eq!(
            dee.store().envelope_copies(&id).unwrap(),
            None,
            "v{version}"
        );
        routed(&mut bo, &mut chen, version);
        assert!(
            chen.messages(None, 5, None)
                .unwrap()
                .iter()
                .any(|m| m.text == "by the well"),
            "v{version}"
        );
    }
}

/// Two routed sessions into one node at once: `dialers[i]` dials `into`,
/// and every round moves what each side wrote since the last round on both
/// links, so the two sessions reach their wants before either's envelopes
/// cross. Returns the answering sessions' (carried, duplicates).
fn two_at_once(dialers: [&mut Node; 2], into: &mut Node) -> [(u64, u64); 2] {
    let t = T0 * 1000;
    let [b, c] = dialers;
    let peers: [&mut Node; 2] = [b, c];
    let mut links: Vec<(Session, Session)> = ["b", "c"]
        .iter()
        .map(|name| {
            let dial = SessionConfig::small(true, *name, 180).routed();
            let answer = SessionConfig::small(false, format!("from-{name}"), 180).routed();
            (Session::new(dial, t), Session::new(answer, t))
        })
        .collect();
    for round in 0..100_000 {
        let now = t + round;
        let mut moved = false;
        for (i, (dial, answer)) in links.iter_mut().enumerate() {
            let peer = &mut *peers[i];
            let (mut up, mut down) = (Vec::new(), Vec::new());
            while let Some(x) = dial.poll_transmit(peer) {
                up.extend(x);
            }
            while let Some(x) = answer.poll_transmit(into) {
                down.extend(x);
            }
            moved |= !up.is_empty() || !down.is_empty();
            if !up.is_empty() {
                answer.handle_input(&up, now, into);
            }
            if !down.is_empty() {
                dial.handle_input(&down, now, peer);
            }
            if dial.poll_timeout().is_some_and(|d| d <= now) {
                dial.handle_timeout(now, peer);
            }
            if answer.poll_timeout().is_some_and(|d| d <= now) {
                answer.handle_timeout(now, into);
            }
        }
        if !moved && links.iter().all(|(d, a)| d.is_closed() && a.is_closed()) {
            break;
        }
    }
    for (dial, answer) in &links {
        assert!(dial.is_finished() && answer.is_finished());
    }
    [0, 1].map(|i| {
        let st = links[i].1.stats();
        (st.carried, st.duplicates)
    })
}

#[test]
fn two_neighbours_offering_one_envelope_at_once_send_it_once() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (mut ana, _chen) = ana_and_chen(root.path(), &clock);
    let mut bo = node(root.path(), "Bo", &clock);
    let mut cy = node(root.path(), "Cy", &clock);
    let mut dee = node(root.path(), "Dee", &clock);
    let id = ana.send_direct("Chen", "the well is dry").unwrap().envelope;
    routed(&mut ana, &mut bo, 7);
    routed(&mut ana, &mut cy, 7);
    let copies = |n: &Node| n.store().envelope_copies(&id).unwrap();
    let before = (copies(&bo), copies(&cy));
    assert_eq!(before, (Some(8), Some(4)), "both carry copies to spare");

    // Bo and Cy both meet Dee at once; each offers the envelope.
    let [from_bo, from_cy] = two_at_once([&mut bo, &mut cy], &mut dee);
    assert_eq!(from_bo.0 + from_cy.0, 1, "Dee took it from one of them");
    assert_eq!(from_bo.1 + from_cy.1, 0, "and nobody sent it twice");
    assert!(dee.store().has_envelope(&id).unwrap());
    // Only the one that sent it gave copies away: none were raced for.
    let spent = [(before.0, copies(&bo)), (before.1, copies(&cy))]
        .iter()
        .filter(|(b, a)| b != a)
        .count();
    assert_eq!(spent, 1);
}
