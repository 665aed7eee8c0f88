use super::*;
use crate::board;
use crate::test_support::phone;
use pollen_node::node::SystemClock;
use serde_json::json;
use std::path::Path;

const NOTES: &str = "com.example.notes";

fn water(edit_text: &str) -> Vec<DocEdit> {
    vec![DocEdit::Set {
        path: vec!["note".into()],
        value: json!(edit_text),
    }]
}

#[test]
fn an_app_without_a_grant_is_denied_and_learns_nothing() {
    let p = phone();
    assert!(docs_for_app(&p.ana, NOTES).unwrap().is_empty());
    assert_eq!(docs_json_for_app(&p.ana, NOTES).unwrap(), "[]");
    let read = read_for_app(&p.ana, NOTES, &p.board);
    assert!(matches!(read, Err(AccessError::Denied { .. })), "{read:?}");
    let change = change_for_app(&p.ana, NOTES, &p.board, &water("x"));
    assert!(
        matches!(change, Err(AccessError::Denied { .. })),
        "{change:?}"
    );
    // A document that does not exist is refused the same way.
    let missing = read_for_app(&p.ana, NOTES, &"ab".repeat(32));
    assert!(
        matches!(missing, Err(AccessError::Denied { .. })),
        "{missing:?}"
    );
    assert!(grants(&p.ana).unwrap().is_empty());
}

#[test]
fn a_read_grant_lists_and_reads_but_does_not_change() {
    let p = phone();
    let g = grant(&p.ana, NOTES, &p.board[..8], false).unwrap();
    assert_eq!(
        g.doc_id, p.board,
        "a prefix from the user is stored as the full id"
    );
    assert_eq!(g.title, "Street");
    assert!(!g.write);
    let listed = docs_for_app(&p.ana, NOTES).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, p.board);
    assert_eq!(listed[0].app, "board");
    assert!(!listed[0].writable);
    let content = read_for_app(&p.ana, NOTES, &p.board.to_ascii_uppercase()).unwrap();
    let items = content["items"].as_object().unwrap();
    assert_eq!(items.values().next().unwrap()["text"], "water, 20 l");
    // An outside app names documents by their full id, never a prefix.
    assert!(matches!(
        read_for_app(&p.ana, NOTES, &p.board[..8]),
        Err(AccessError::Denied { .. })
    ));
    let change = change_for_app(&p.ana, NOTES, &p.board, &water("x"));
    assert!(
        matches!(change, Err(AccessError::ReadOnly { .. })),
        "{change:?}"
    );
    assert!(p.ana.doc(&p.board).unwrap().content.get("note").is_none());
}

#[test]
fn a_write_grant_changes_and_a_revoke_takes_it_back() {
    let p = phone();
    grant(&p.ana, NOTES, &p.board, true).unwrap();
    assert!(docs_for_app(&p.ana, NOTES).unwrap()[0].writable);
    change_for_app(&p.ana, NOTES, &p.board, &water("from the notes app")).unwrap();
    assert_eq!(
        read_for_app(&p.ana, NOTES, &p.board).unwrap()["note"],
        "from the notes app"
    );
    assert!(matches!(
        change_for_app(&p.ana, NOTES, &p.board, &[]),
        Err(AccessError::BadEdits(_))
    ));
    // Granting again with read only lowers it.
    grant(&p.ana, NOTES, &p.board, false).unwrap();
    assert!(matches!(
        change_for_app(&p.ana, NOTES, &p.board, &water("y")),
        Err(AccessError::ReadOnly { .. })
    ));
    assert!(revoke(&p.ana, NOTES, &p.board).unwrap());
    assert!(
        !revoke(&p.ana, NOTES, &p.board).unwrap(),
        "nothing left to revoke"
    );
    assert!(matches!(
        read_for_app(&p.ana, NOTES, &p.board),
        Err(AccessError::Denied { .. })
    ));
    assert!(docs_for_app(&p.ana, NOTES).unwrap().is_empty());
    assert!(grants(&p.ana).unwrap().is_empty());
}

#[test]
fn a_write_grant_cannot_write_where_the_user_may_not() {
    let root = tempfile::tempdir().unwrap();
    let ana = Node::init(&root.path().join("a"), "Ana", Box::new(SystemClock)).unwrap();
    let chen = Node::init(&root.path().join("c"), "Chen", Box::new(SystemClock)).unwrap();
    ana.add_contact(&chen.card(), None).unwrap();
    chen.add_contact(&ana.card(), None).unwrap();
    // Chen's board, only Chen writes: it reaches Ana by a bundle.
    let theirs = board::create(&chen, "Ana", "Chen's", &[]).unwrap().to_hex();
    carry(&chen, &ana, root.path());
    assert!(!ana.doc(&theirs).unwrap().writable);
    grant(&ana, NOTES, &theirs, true).unwrap();
    assert!(!docs_for_app(&ana, NOTES).unwrap()[0].writable);
    let change = change_for_app(&ana, NOTES, &theirs, &water("x"));
    assert!(
        matches!(change, Err(AccessError::NotWriter { .. })),
        "{change:?}"
    );
    assert!(read_for_app(&ana, NOTES, &theirs).is_ok());
}

fn carry(from: &Node, to: &Node, dir: &Path) {
    let file = dir.join("bundle");
    from.export_bundle(&file).unwrap();
    to.import_bundle(&file, &mut |_| {}).unwrap();
}

#[test]
fn a_grant_for_one_document_does_not_show_another() {
    let p = phone();
    grant(&p.ana, NOTES, &p.board, true).unwrap();
    let listed = docs_for_app(&p.ana, NOTES).unwrap();
    assert_eq!(
        listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [p.board.as_str()]
    );
    assert!(matches!(
        read_for_app(&p.ana, NOTES, &p.plan),
        Err(AccessError::Denied { .. })
    ));
    assert!(matches!(
        change_for_app(&p.ana, NOTES, &p.plan, &water("x")),
        Err(AccessError::Denied { .. })
    ));
    // Nor does one app's grant reach another app.
    assert!(matches!(
        read_for_app(&p.ana, "com.example.other", &p.board),
        Err(AccessError::Denied { .. })
    ));
    // The user's list shows both apps' grants, by app.
    grant(&p.ana, "com.example.other", &p.plan, false).unwrap();
    let all = grants(&p.ana).unwrap();
    let apps: Vec<(&str, &str, bool)> = all
        .iter()
        .map(|g| (g.app.as_str(), g.title.as_str(), g.write))
        .collect();
    assert_eq!(
        apps,
        [
            ("com.example.notes", "Street", true),
            ("com.example.other", "Plan", false)
        ]
    );
    assert_eq!(revoke_app(&p.ana, "com.example.other").unwrap(), 1);
    assert_eq!(grants(&p.ana).unwrap().len(), 1);
}

#[test]
fn grants_survive_reopening_the_node() {
    let p = phone();
    grant(&p.ana, NOTES, &p.board, false).unwrap();
    grant(&p.ana, NOTES, &p.plan, true).unwrap();
    drop(p.ana);
    let ana = Node::open(&p.dir, Box::new(SystemClock)).unwrap();
    let held: Vec<(String, bool)> = grants(&ana)
        .unwrap()
        .into_iter()
        .map(|g| (g.title, g.write))
        .collect();
    assert_eq!(held, [("Plan".into(), true), ("Street".into(), false)]);
    assert!(read_for_app(&ana, NOTES, &p.board).is_ok());
    assert!(matches!(
        change_for_app(&ana, NOTES, &p.board, &water("x")),
        Err(AccessError::ReadOnly { .. })
    ));
    change_for_app(&ana, NOTES, &p.plan, &water("kept")).unwrap();
}

#[test]
fn a_malformed_app_id_is_refused() {
    let p = phone();
    let long = "a".repeat(MAX_APP_ID_BYTES + 1);
    for app in [
        "",
        " ",
        "com.example\n",
        "com.\u{7}bell",
        "tab\there",
        long.as_str(),
    ] {
        let g = grant(&p.ana, app, &p.board, true);
        assert!(
            matches!(g, Err(AccessError::BadAppId { .. })),
            "{app:?}: {g:?}"
        );
        assert!(matches!(
            read_for_app(&p.ana, app, &p.board),
            Err(AccessError::BadAppId { .. })
        ));
        assert!(matches!(
            docs_for_app(&p.ana, app),
            Err(AccessError::BadAppId { .. })
        ));
        assert!(matches!(
            revoke(&p.ana, app, &p.board),
            Err(AccessError::BadAppId { .. })
        ));
    }
    assert!(check_app_id(&"a".repeat(MAX_APP_ID_BYTES)).is_ok());
    assert!(grants(&p.ana).unwrap().is_empty());
    // A grant for a document that is not held is refused too.
    assert!(grant(&p.ana, NOTES, "ffff", false).is_err());
}

#[test]
fn change_requests_parse_from_json_and_bad_ones_are_refused() {
    let edits = parse_edits(
        r#"[{"op":"set","path":"items/x","value":{"text":"bread"}},
            {"op":"push","path":"log","value":1},
            {"op":"delete","path":"old"}]"#,
    )
    .unwrap();
    assert_eq!(
        edits,
        [
            DocEdit::Set {
                path: vec!["items".into(), "x".into()],
                value: json!({"text": "bread"})
            },
            DocEdit::Push {
                path: vec!["log".into()],
                value: json!(1)
            },
            DocEdit::Delete {
                path: vec!["old".into()]
            },
        ]
    );
    for bad in [
        "{",
        "{}",
        r#"[{"op":"set","path":"a"}]"#,
        r#"[{"op":"move","path":"a","value":1}]"#,
        r#"[{"op":"set","path":"a//b","value":1}]"#,
        r#"[{"op":"delete"}]"#,
    ] {
        assert!(
            matches!(parse_edits(bad), Err(AccessError::BadEdits(_))),
            "{bad}"
        );
    }
    let huge = format!(
        r#"[{{"op":"set","path":"a","value":"{}"}}]"#,
        "x".repeat(MAX_EDITS_JSON_BYTES)
    );
    assert!(matches!(parse_edits(&huge), Err(AccessError::BadEdits(_))));
}

#[test]
fn unreadable_stored_grants_deny_rather_than_panic() {
    let p = phone();
    p.ana.store().set_meta(KEY, b"not json").unwrap();
    assert!(matches!(
        read_for_app(&p.ana, NOTES, &p.board),
        Err(AccessError::Stored(_))
    ));
    assert!(matches!(grants(&p.ana), Err(AccessError::Stored(_))));
}
