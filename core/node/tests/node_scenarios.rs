//! Node-level scenarios on virtual time: out-of-order arrival and convergence
//! of edits, reactions and deletions across replicas in every import order.

use pollen_node::conversation::ConversationError;
use pollen_proto::envelope::EnvelopeId;
mod common;

use common::{T0, TestClock, ana_and_chen, carry_all, node};
use pollen_node::node::{Node, NodeError};
use pollen_node::store::MessageRow;
use proptest::prelude::*;

/// Everything `n` holds, as (bytes, id) ready to ingest.
fn held(n: &Node) -> Vec<(Vec<u8>, Option<EnvelopeId>)> {
    n.store()
        .envelopes(n.now())
        .unwrap()
        .into_iter()
        .map(|r| (r.bytes, Some(r.id)))
        .collect()
}

fn envelope_of(n: &Node, id: EnvelopeId) -> (Vec<u8>, Option<EnvelopeId>) {
    held(n)
        .into_iter()
        .find(|(_, i)| *i == Some(id))
        .expect("own envelope held")
}

fn texts(n: &Node) -> Vec<String> {
    let mut rows = n.messages(None, 1000, None).unwrap();
    rows.reverse();
    rows.into_iter().map(|m| m.text).collect()
}

#[test]
fn the_third_message_shows_at_once_and_the_thread_completes_later() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (a, c) = ana_and_chen(root.path(), &clock);
    let mut sent = Vec::new();
    for text in ["first", "second", "third"] {
        sent.push(a.send_direct("Chen", text).unwrap());
        clock.tick();
    }
    let env: Vec<_> = sent.iter().map(|s| envelope_of(&a, s.envelope)).collect();

    c.ingest_envelopes(&env[2..3], "test").unwrap();
    assert_eq!(
        texts(&c),
        ["third"],
        "shown the moment its own envelope is opened"
    );

    // An edit of the first message arrives before the message itself: queued, invisible.
    let edit = a.edit(&sent[0].message.to_hex(), "first (edited)").unwrap();
    let edit_env = envelope_of(&a, edit.envelope);
    c.ingest_envelopes(&[edit_env], "test").unwrap();
    assert_eq!(texts(&c), ["third"]);

    c.ingest_envelopes(&[env[1].clone(), env[0].clone()], "test")
        .unwrap();
    assert_eq!(texts(&c), ["first (edited)", "second", "third"]);
    assert_eq!(texts(&c), texts(&a));
}

/// What every replica must agree on.
/// (id, text, deleted, edited_at, reactions) of one message.
type Seen = (String, String, bool, Option<u64>, Vec<(String, String)>);

fn view(n: &Node) -> Vec<Seen> {
    let mut rows: Vec<MessageRow> = n.messages(None, 10_000, None).unwrap();
    rows.sort_by_key(|m| m.id);
    rows.into_iter()
        .map(|m| {
            (
                hex::encode(m.id),
                m.text,
                m.deleted,
                m.edited_at,
                m.reactions,
            )
        })
        .collect()
}

/// Repeating an edit or reaction changes nothing and says so; anything else is a failure.
fn unchanged_is_fine<T: std::fmt::Debug>(r: Result<T, NodeError>) {
    match r {
        Ok(_) | Err(NodeError::Conversation(ConversationError::NoChange)) => {}
        Err(e) => panic!("{e}"),
    }
}

#[derive(Clone, Debug)]
enum Action {
    Post(usize),
    Edit(usize, usize),
    Delete(usize, usize),
    React(usize, usize, usize),
    Sync(usize, usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..3usize).prop_map(Action::Post),
        2 => (0..3usize, any::<prop::sample::Index>().prop_map(|i| i.index(64))).prop_map(|(a, m)| Action::Edit(a, m)),
        1 => (0..3usize, any::<prop::sample::Index>().prop_map(|i| i.index(64))).prop_map(|(a, m)| Action::Delete(a, m)),
        2 => (0..3usize, any::<prop::sample::Index>().prop_map(|i| i.index(64)), 0..3usize).prop_map(|(a, m, e)| Action::React(a, m, e)),
        2 => (0..3usize, 0..3usize).prop_map(|(a, b)| Action::Sync(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn replicas_converge_in_every_import_order(
        actions in prop::collection::vec(action(), 1..24),
        orders in prop::collection::vec(any::<u64>(), 3),
    ) {
        let root = tempfile::tempdir().unwrap();
        let clock = TestClock::at(T0);
        let names = ["Xia", "Yusuf", "Zoe"];
        let nodes: Vec<Node> = names.iter().map(|n| node(root.path(), n, &clock)).collect();
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    nodes[i].add_contact(&nodes[j].card(), None).unwrap();
                }
            }
        }
        nodes[0].create_group("trio", &["Yusuf".into(), "Zoe".into()]).unwrap();
        for j in 1..3 {
            nodes[j].ingest_envelopes(&held(&nodes[0]), "setup").unwrap();
        }
        let emojis = ["👍", "❤", ""];
        for a in &actions {
            clock.tick();
            match *a {
                Action::Post(i) => {
                    nodes[i].send_group("trio", &format!("post by {}", names[i])).unwrap();
                }
                Action::Edit(i, m) | Action::Delete(i, m) => {
                    let own: Vec<_> = nodes[i]
                        .messages(None, 1000, None)
                        .unwrap()
                        .into_iter()
                        .filter(|r| r.author == nodes[i].public().signing && !r.deleted)
                        .collect();
                    if own.is_empty() { continue; }
                    let target = hex::encode(own[m % own.len()].id);
                    if matches!(a, Action::Edit(..)) {
                        unchanged_is_fine(nodes[i].edit(&target, &format!("edit {m} by {}", names[i])));
                    } else {
                        unchanged_is_fine(nodes[i].delete(&target));
                    }
                }
                Action::React(i, m, e) => {
                    let all = nodes[i].messages(None, 1000, None).unwrap();
                    if all.is_empty() { continue; }
                    let target = hex::encode(all[m % all.len()].id);
                    unchanged_is_fine(nodes[i].react(&target, emojis[e]));
                }
                Action::Sync(i, j) if i != j => {
                    nodes[j].ingest_envelopes(&held(&nodes[i]), "sync").unwrap();
                }
                Action::Sync(..) => {}
            }
        }
        // Everyone gets everything, each in its own order, with duplicates.
        let mut all: Vec<_> = nodes.iter().flat_map(held).collect();
        all.extend(all.clone());
        for (k, n) in nodes.iter().enumerate() {
            let mut mine = all.clone();
            let mut seed = orders[k] | 1;
            for i in (1..mine.len()).rev() {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                mine.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            for chunk in mine.chunks(5) {
                n.ingest_envelopes(chunk, "final").unwrap();
            }
        }
        let v0 = view(&nodes[0]);
        prop_assert_eq!(&v0, &view(&nodes[1]));
        prop_assert_eq!(&v0, &view(&nodes[2]));
    }
}

#[test]
fn conversation_pages_walk_the_whole_list_once_in_order_even_with_ties() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let n = node(root.path(), "ann", &clock);
    // Channels joined at the same second tie on last_activity; a post moves one ahead.
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        n.join_channel(name).unwrap();
    }
    clock.tick();
    n.send("#d", "news").unwrap();
    let all = n.conversations(u32::MAX).unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[0].name, "#d");
    let mut walked = Vec::new();
    let mut before = None;
    loop {
        let page = n.conversations_page(3, before).unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some((last.last_activity, last.id));
        walked.extend(page);
    }
    assert_eq!(walked, all);
}

/// Each message's document is built from its stored changes (schema V13
/// dropped the saved whole-conversation documents): an edit queued before a
/// restart, in a store upgraded from V12, applies when its message arrives,
/// and an edit of a message written before the upgrade builds on it.
#[test]
fn a_queued_edit_survives_a_restart_and_the_upgrade_that_dropped_saved_documents() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let (a, c) = ana_and_chen(root.path(), &clock);
    let first = a.send_direct("Chen", "first").unwrap();
    clock.tick();
    let second = a.send_direct("Chen", "second").unwrap();
    let edit = a.edit(&first.message.to_hex(), "first (edited)").unwrap();
    let early = [
        envelope_of(&a, second.envelope),
        envelope_of(&a, edit.envelope),
    ];
    c.ingest_envelopes(&early, "test").unwrap();
    assert_eq!(texts(&c), ["second"], "the edit waits for its message");
    clock.tick();
    let reply = c.send_direct("Ana", "reply").unwrap();
    drop(c);

    // Chen's store as a V12 build left it: a saved document per conversation
    // (V13 dropped them), insert triggers and the expiry index (V14), no
    // shared-document tables (V15), no chunk spread counts (V16) or budgets (V17), no projected attachments (V18).
    let dir = root.path().join("Chen");
    {
        let db = rusqlite::Connection::open(dir.join("pollen.db")).unwrap();
        db.execute_batch(
            "ALTER TABLE messages DROP COLUMN attachment; ALTER TABLE chunks DROP COLUMN given; ALTER TABLE chunks DROP COLUMN copies; ALTER TABLE wanted_blobs DROP COLUMN seq; ALTER TABLE wanted_blobs DROP COLUMN slow_ok;
             DROP TABLE doc_audiences; DROP TABLE doc_changes; DROP TABLE docs;
             ALTER TABLE conversations ADD COLUMN doc BLOB;
             UPDATE conversations SET doc = x'00112233';
             CREATE INDEX envelopes_expiry ON envelopes(expires_at);
             CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
                 INSERT INTO usage (origin, class, bytes, count) VALUES (NEW.origin, NEW.class, NEW.size, 1)
                 ON CONFLICT (origin, class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
             END;
             CREATE TRIGGER envelopes_total_insert AFTER INSERT ON envelopes BEGIN
                 INSERT INTO usage_total (class, bytes, count) VALUES (NEW.class, NEW.size, 1)
                 ON CONFLICT (class) DO UPDATE SET bytes = bytes + NEW.size, count = count + 1;
             END;
             PRAGMA user_version = 12;",
        )
        .unwrap();
    }
    let c = Node::open(&dir, Box::new(clock.clone())).unwrap();
    let columns: Vec<String> = {
        let db = rusqlite::Connection::open(dir.join("pollen.db")).unwrap();
        let mut st = db
            .prepare("SELECT name FROM pragma_table_info('conversations')")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!columns.iter().any(|c| c == "doc"), "{columns:?}");

    c.ingest_envelopes(&[envelope_of(&a, first.envelope)], "test")
        .unwrap();
    assert_eq!(texts(&c), ["first (edited)", "second", "reply"]);
    c.edit(&reply.message.to_hex(), "reply (edited)").unwrap();
    assert_eq!(texts(&c), ["first (edited)", "second", "reply (edited)"]);
    carry_all(&c, &a);
    assert_eq!(texts(&a), texts(&c));
}
