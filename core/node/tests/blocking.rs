//! Blocking a person: their direct messages are dropped without a delivery
//! proof, their group posts are hidden but still carried on to the others,
//! writing to them is refused, and unblocking lets new messages in.

mod common;

use common::{T0, TestClock, carry_all, node};
use pollen_node::node::{IngestOutcome, Node, NodeError};

fn texts(n: &Node) -> Vec<String> {
    let mut t: Vec<String> = n
        .messages(None, 50, None)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    t.sort();
    t
}

#[test]
fn a_blocked_persons_messages_are_dropped_without_a_trace_until_unblocked() {
    let root = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let [ana, bo, chen] = ["Ana", "Bo", "Chen"].map(|n| node(root.path(), n, &clock));
    for (x, y) in [
        (&ana, &bo),
        (&ana, &chen),
        (&bo, &ana),
        (&bo, &chen),
        (&chen, &ana),
        (&chen, &bo),
    ] {
        x.add_contact(&y.card(), None).unwrap();
    }
    let crew = bo
        .create_group("crew", &["Ana".into(), "Chen".into()])
        .unwrap();
    carry_all(&bo, &ana);
    carry_all(&bo, &chen);

    let key = ana.block("Bo").unwrap();
    assert_eq!(key, bo.public().signing);
    assert_eq!(ana.blocked().unwrap()[0].alias.as_deref(), Some("Bo"));
    assert!(matches!(
        ana.send_direct("Bo", "hello?"),
        Err(NodeError::Blocked(_))
    ));

    bo.send_direct("Ana", "let me in").unwrap();
    bo.send_in(&crew.id, "group news from Bo").unwrap();
    let held: Vec<_> = bo
        .store()
        .envelopes(bo.now())
        .unwrap()
        .into_iter()
        .map(|r| (r.bytes, Some(r.id)))
        .collect();
    let outcomes = ana.ingest_envelopes(&held, "test").unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| !matches!(o, Ok(IngestOutcome::Opened { proof: Some(_), .. }))),
        "no delivery proof goes back to a blocked author: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(r) if r.reason() == "blocked")),
        "the direct message is dropped as blocked: {outcomes:?}"
    );
    assert!(
        !texts(&ana).iter().any(|t| t.contains("Bo")),
        "{:?}",
        texts(&ana)
    );
    assert!(!texts(&ana).iter().any(|t| t == "let me in"));

    // The group post still reaches Chen through Ana, who carries it on.
    carry_all(&ana, &chen);
    assert!(texts(&chen).contains(&"group news from Bo".to_owned()));

    // Unblocked, Bo's next message is shown (the dropped one stays dropped).
    assert!(ana.unblock("Bo").unwrap());
    assert!(!ana.unblock("Bo").unwrap(), "not blocked any more");
    bo.send_direct("Ana", "sorry about that").unwrap();
    carry_all(&bo, &ana);
    assert!(texts(&ana).contains(&"sorry about that".to_owned()));
    assert!(!texts(&ana).contains(&"let me in".to_owned()));

    // A stranger is blocked by key; a wrong name is a clear error.
    let stranger = node(root.path(), "Dee", &clock);
    ana.block(&stranger.public().signing.to_hex()).unwrap();
    assert_eq!(ana.blocked().unwrap()[0].alias, None);
    assert!(matches!(
        ana.block("nobody"),
        Err(NodeError::UnknownContact(_))
    ));
}
