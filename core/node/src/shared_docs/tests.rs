use super::*;
use pollen_proto::identity::Identity;
use proptest::prelude::*;
use serde_json::json;

fn set(path: &str, value: serde_json::Value) -> DocEdit {
    DocEdit::Set {
        path: parse_path(path).unwrap(),
        value,
    }
}

#[test]
fn edits_build_changes_that_read_back_as_json() {
    let ana = Identity::generate("Ana").unwrap();
    let me = ana.public().signing;
    let (_, c1) = build_change(
        &me,
        &[],
        &[set("items/a", json!({"text": "water", "n": 3}))],
        1,
    )
    .unwrap();
    let (_, c2) = build_change(
        &me,
        std::slice::from_ref(&c1),
        &[
            set("items/a/n", json!(4)),
            DocEdit::Push {
                path: parse_path("log").unwrap(),
                value: json!("first"),
            },
        ],
        2,
    )
    .unwrap();
    let doc = load(&[c2.clone(), c1.clone()]).unwrap();
    assert_eq!(
        to_json(&doc),
        json!({"items": {"a": {"text": "water", "n": 4}}, "log": ["first"]})
    );
    let (_, c3) = build_change(
        &me,
        &[c1.clone(), c2.clone()],
        &[DocEdit::Delete {
            path: parse_path("items/a").unwrap(),
        }],
        3,
    )
    .unwrap();
    assert_eq!(
        to_json(&load(&[c1, c2, c3]).unwrap()),
        json!({"items": {}, "log": ["first"]})
    );
}

#[test]
fn bad_paths_and_empty_edits_are_clear_errors() {
    let me = Identity::generate("Ana").unwrap().public().signing;
    assert!(matches!(parse_path("a//b"), Err(DocError::BadPath(..))));
    let (_, c1) = build_change(&me, &[], &[set("t", json!("x"))], 1).unwrap();
    let base = [c1];
    assert!(matches!(
        build_change(&me, &base, &[set("t/inner", json!(1))], 2),
        Err(DocError::BadPath(..))
    ));
    assert!(matches!(
        build_change(
            &me,
            &base,
            &[DocEdit::Delete {
                path: parse_path("nope").unwrap()
            }],
            2
        ),
        Err(DocError::BadPath(..))
    ));
    assert_eq!(
        build_change(&me, &base, &[set("t", json!("x"))], 2),
        Err(DocError::NoChange)
    );
}

#[test]
fn only_the_header_s_writers_pass_the_check() {
    let ana = Identity::generate("Ana").unwrap();
    let chen = Identity::generate("Chen").unwrap();
    let dee = Identity::generate("Dee").unwrap();
    let header = DocHeader::new(&ana, [1; 16], "board", "Needs", &[chen.public().signing]).unwrap();
    for who in [&ana, &chen] {
        let key = who.public().signing;
        let (hash, bytes) = build_change(&key, &[], &[set("k", json!(1))], 1).unwrap();
        assert_eq!(check_change(&header, &key, &bytes), Ok(hash));
    }
    let dee_key = dee.public().signing;
    let (_, by_dee) = build_change(&dee_key, &[], &[set("k", json!(2))], 1).unwrap();
    assert!(matches!(
        check_change(&header, &dee_key, &by_dee),
        Err(DocError::NotWriter(_))
    ));
    // Dee's change in an envelope Chen signed: the actor gives it away.
    assert_eq!(
        check_change(&header, &chen.public().signing, &by_dee),
        Err(DocError::BadActor)
    );
}

/// Found by the `doc_change` fuzz target: a change from a writer that
/// passes the checks but makes Automerge 0.12 panic when applied ("object
/// missing from index"). Ingest refuses it; a document holding it anyway
/// stays readable without it.
#[test]
fn a_change_that_makes_automerge_panic_is_refused_and_the_document_stays_readable() {
    let data = include_bytes!("../../../../fuzz/corpus/doc_change/automerge_missing_object");
    let (key, bad) = data.split_at(32);
    let author = pollen_proto::identity::ContactKey(key.try_into().unwrap());
    let creator = Identity::generate("Ana").unwrap();
    let header = DocHeader::new(&creator, [0; 16], "doc", "x", &[author]).unwrap();
    assert!(
        check_change(&header, &author, bad).is_ok(),
        "it passes the checks"
    );
    assert!(matches!(applies(&[], bad), Err(DocError::Automerge(_))));

    let me = creator.public().signing;
    let (_, good) = build_change(&me, &[], &[set("k", json!("kept"))], 1).unwrap();
    assert_eq!(applies(std::slice::from_ref(&good), &good), Ok(()));
    assert!(applies(std::slice::from_ref(&good), bad).is_err());
    let doc = load(&[good.clone(), bad.to_vec()]).unwrap();
    assert_eq!(to_json(&doc), json!({"k": "kept"}));
}

/// Found by the `doc_change` fuzz target: change bytes that pass the bounds
/// check but make Automerge 0.12's parser panic (a counter that does not
/// fit 32 bits). Refused as unparsable, both as a document change and as a
/// conversation change; a document holding it still loads.
#[test]
fn a_change_that_makes_automerge_s_parser_panic_is_refused() {
    let data = include_bytes!("../../../../fuzz/corpus/doc_change/automerge_parser_counter");
    let (key, bad) = data.split_at(32);
    let author = pollen_proto::identity::ContactKey(key.try_into().unwrap());
    let creator = Identity::generate("Ana").unwrap();
    let header = DocHeader::new(&creator, [0; 16], "doc", "x", &[author]).unwrap();
    assert!(matches!(
        check_change(&header, &author, bad),
        Err(DocError::Automerge(_))
    ));
    assert!(crate::conversation::check_change(&author, bad).is_err());
    assert!(applies(&[], bad).is_err());
    assert_eq!(to_json(&load(&[bad.to_vec()]).unwrap()), json!({}));
}

proptest! {
    /// Two writers' concurrent edits converge whatever order a replica gets them in.
    #[test]
    fn concurrent_edits_converge_in_any_order(
        a in proptest::collection::vec(("[a-c]", 0i64..5), 1..5),
        b in proptest::collection::vec(("[a-c]", 0i64..5), 1..5),
    ) {
        let ana = Identity::generate("Ana").unwrap().public().signing;
        let chen = Identity::generate("Chen").unwrap().public().signing;
        let (_, base) = build_change(&ana, &[], &[set("items/x", json!(0))], 1).unwrap();
        let mut from_a = Vec::new();
        let mut held = vec![base.clone()];
        for (k, v) in &a {
            if let Ok((_, c)) = build_change(&ana, &held, &[set(&format!("items/{k}"), json!(v))], 2) {
                held.push(c.clone());
                from_a.push(c);
            }
        }
        let mut from_b = Vec::new();
        let mut held = vec![base.clone()];
        for (k, v) in &b {
            if let Ok((_, c)) = build_change(&chen, &held, &[set(&format!("items/{k}"), json!(v + 10))], 2) {
                held.push(c.clone());
                from_b.push(c);
            }
        }
        let mut one = vec![base.clone()];
        one.extend(from_a.iter().cloned());
        one.extend(from_b.iter().cloned());
        let mut other: Vec<Vec<u8>> = one.iter().rev().cloned().collect();
        other.rotate_left(1);
        prop_assert_eq!(to_json(&load(&one).unwrap()), to_json(&load(&other).unwrap()));
    }
}
