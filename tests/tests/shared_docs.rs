//! A shared needs-and-offers board between real `pollen` processes: Ana and
//! Chen post to it offline at the same time, Bo carries their changes (and
//! learns no document), and both end with the same board; Dee, in the group
//! but not a writer, reads it and cannot post; `pollen doc watch` prints a
//! change that a sync brings in.

use pollen_tests::{Phone, Server, pollen_bin};
use serde_json::Value;
use std::process::{Command, Stdio};

/// `a` syncs with `b` over loopback TCP.
fn meet(a: &Phone, b: &Phone) {
    let server = Server::start(b);
    let out = a.json(&["sync", &server.addr]);
    assert_eq!(out["finished"], true, "{out}");
    server.next_session();
    assert!(server.stop().success());
}

fn board(p: &Phone, id: &str) -> Value {
    p.json(&["board", "show", id])
}

#[test]
fn two_posters_merge_through_a_carrier_and_a_reader_cannot_post() {
    let root = tempfile::tempdir().unwrap();
    let ana = Phone::new(root.path(), "Ana");
    let bo = Phone::new(root.path(), "Bo");
    let chen = Phone::new(root.path(), "Chen");
    let dee = Phone::new(root.path(), "Dee");
    for (a, b) in [(&ana, &chen), (&ana, &dee), (&chen, &dee)] {
        a.add(b);
        b.add(a);
    }
    ana.ok(&[
        "group", "create", "street", "--member", "Chen", "--member", "Dee",
    ]);
    let out = ana.ok(&[
        "board",
        "create",
        "Street board",
        "--to",
        "street",
        "--writer",
        "Chen",
    ]);
    let id = out
        .split_whitespace()
        .nth(2)
        .expect("created board ID")
        .to_owned();
    ana.ok(&["board", "post", &id, "offer", "bread for 10"]);
    meet(&ana, &chen);
    meet(&ana, &dee);
    assert_eq!(board(&chen, &id).as_array().unwrap().len(), 1);

    // Offline, at the same time.
    ana.ok(&["board", "post", &id[..8], "need", "water, 20 l"]);
    chen.ok(&["board", "post", &id[..8], "offer", "a tent for two"]);
    // Found by text: two items posted within one second list in id order.
    let listed = board(&chen, &id);
    let bread = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"] == "bread for 10")
        .expect("the bread offer")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    chen.ok(&["board", "done", &id, &bread[..6]]);

    // Dee reads it but may not post.
    let err = dee.fails(&["board", "post", &id, "need", "a charger"]);
    assert!(err.contains("may not write"), "{err}");

    // Chen watches for what a sync brings in.
    let watch = Command::new(pollen_bin())
        .arg("--data")
        .arg(&chen.dir)
        .args(["doc", "watch", &id, "--count", "1", "--interval-ms", "100"])
        .env_remove("POLLEN_DATA")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // Bo meets each, then each again: Bo carries what Bo cannot read.
    meet(&ana, &bo);
    meet(&chen, &bo);
    let listed = bo.json(&["doc", "list"]);
    assert_eq!(
        listed,
        serde_json::json!([]),
        "a carrier learns no document"
    );
    meet(&bo, &ana);
    meet(&bo, &chen);
    meet(&bo, &dee);

    let at_ana = board(&ana, &id);
    assert_eq!(at_ana, board(&chen, &id));
    assert_eq!(at_ana, board(&dee, &id));
    let texts: Vec<(&str, bool)> = at_ana
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["text"].as_str().unwrap(), i["done"].as_bool().unwrap()))
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts.contains(&("water, 20 l", false)));
    assert!(texts.contains(&("a tent for two", false)));
    assert_eq!(
        texts.last(),
        Some(&("bread for 10", true)),
        "done items last"
    );

    let watched = watch.wait_with_output().unwrap();
    assert!(watched.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&watched.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "the board as it was, then as the sync left it"
    );
    assert_eq!(lines[1]["content"]["items"].as_object().unwrap().len(), 3);

    // The generic document commands see the same document.
    let shown = dee.json(&["doc", "show", &id]);
    assert_eq!(shown["app"], "board");
    assert_eq!(shown["writable"], false);
    assert_eq!(shown["writers"], serde_json::json!(["Chen"]));
    let err = dee.fails(&["doc", "edit", &id, "--set", "items/x=1"]);
    assert!(err.contains("may not write"), "{err}");
    let err = ana.fails(&["doc", "edit", &id, "--set", "items//x=1"]);
    assert!(err.contains("bad path"), "{err}");
    let err = ana.fails(&["doc", "show", "0000"]);
    assert!(err.contains("no shared document"), "{err}");
}

#[test]
fn a_document_edited_and_shared_from_the_command_line() {
    let root = tempfile::tempdir().unwrap();
    let ana = Phone::new(root.path(), "Ana");
    let chen = Phone::new(root.path(), "Chen");
    ana.add(&chen);
    chen.add(&ana);
    let out = ana.ok(&["doc", "create", "Water points", "--to", "Chen"]);
    let id = out.split_whitespace().nth(2).unwrap().to_owned();
    ana.ok(&[
        "doc",
        "edit",
        &id,
        "--set",
        r#"open={"gate 3": true}"#,
        "--push",
        "log=opened gate 3",
    ]);
    ana.ok(&[
        "doc",
        "edit",
        &id,
        "--delete",
        "open/gate 3",
        "--push",
        "log=closed",
    ]);
    meet(&ana, &chen);
    let shown = chen.json(&["doc", "show", &id[..6]]);
    assert_eq!(
        shown["content"],
        serde_json::json!({"title": "Water points", "open": {}, "log": ["opened gate 3", "closed"]})
    );
    assert_eq!(shown["creator"], "Ana");
    let text = chen.ok(&["doc", "show", &id]);
    assert!(text.contains("written by only its creator"), "{text}");
    let list = chen.ok(&["doc", "list"]);
    assert!(list.contains("(read only)"), "{list}");
}
