use super::*;
use crate::app_access::{grant, revoke};
use crate::test_support::phone;

const MAP: &str = "org.example.map";
const NOTES: &str = "org.example.notes";

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ask(root: &Path, app: &str, name: &str, body: &str) {
    let dir = root.join(app).join("requests");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), body).unwrap();
}

fn answer(root: &Path, app: &str, name: &str) -> Value {
    read(&root.join(app).join("results").join(name))
}

#[test]
fn each_app_finds_only_what_it_was_granted_and_loses_it_when_revoked() {
    let p = phone();
    let group = tempfile::tempdir().unwrap();
    let root = group.path();
    grant(&p.ana, MAP, &p.board, false).unwrap();
    grant(&p.ana, NOTES, &p.plan, true).unwrap();
    // An app that was never granted anything has only its own folder.
    std::fs::create_dir_all(root.join("org.example.nosy")).unwrap();

    std::fs::create_dir_all(root.join("has space")).unwrap();
    assert_eq!(
        apps(root).unwrap(),
        ["org.example.nosy"],
        "folders named by app ids"
    );
    let r = sync(&p.ana, root).unwrap();
    assert_eq!((r.apps, r.docs_written, r.docs_removed), (2, 2, 0));
    assert_eq!(apps(root).unwrap(), [MAP, "org.example.nosy", NOTES]);
    let listed = read(&root.join(MAP).join("docs.json"));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], p.board.as_str());
    assert_eq!(listed[0]["writable"], false);
    let board = read(
        &root
            .join(MAP)
            .join("docs")
            .join(format!("{}.json", p.board)),
    );
    assert!(board.to_string().contains("water, 20 l"), "{board}");
    assert!(
        !root
            .join(MAP)
            .join("docs")
            .join(format!("{}.json", p.plan))
            .exists()
    );
    assert_eq!(
        read(&root.join(NOTES).join("docs.json"))[0]["id"],
        p.plan.as_str()
    );
    let nosy: Vec<_> = std::fs::read_dir(root.join("org.example.nosy"))
        .unwrap()
        .collect();
    assert!(
        nosy.is_empty(),
        "nothing is written for an app without a grant"
    );

    // Synced on every refresh: only what changed is written again.
    assert_eq!(sync(&p.ana, root).unwrap().docs_written, 0);
    crate::board::post(&p.ana, &p.board, crate::board::ItemKind::Offer, "bread").unwrap();
    assert_eq!(sync(&p.ana, root).unwrap().docs_written, 1);
    let board = read(
        &root
            .join(MAP)
            .join("docs")
            .join(format!("{}.json", p.board)),
    );
    assert!(board.to_string().contains("bread"), "{board}");

    revoke(&p.ana, MAP, &p.board).unwrap();
    let r = sync(&p.ana, root).unwrap();
    assert_eq!((r.apps, r.docs_removed), (1, 1));
    assert!(!root.join(MAP).join("docs.json").exists());
    assert_eq!(
        std::fs::read_dir(root.join(MAP).join("docs"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn requests_are_made_or_refused_through_the_grants_and_always_answered() {
    let p = phone();
    let group = tempfile::tempdir().unwrap();
    let root = group.path();
    grant(&p.ana, MAP, &p.board, false).unwrap();
    grant(&p.ana, NOTES, &p.plan, true).unwrap();
    let edit = |doc: &str, note: &str| {
        json!({"doc": doc, "edits": [{"op": "set", "path": "note", "value": note}]}).to_string()
    };
    ask(root, NOTES, "1.json", &edit(&p.plan, "meet at the well"));
    ask(root, MAP, "1.json", &edit(&p.board, "defaced"));
    ask(root, MAP, "2.json", &edit(&p.plan, "not mine"));
    ask(root, NOTES, "bad.json", "{\"doc\": 7");
    ask(
        root,
        NOTES,
        "big.json",
        &"x".repeat(MAX_EDITS_JSON_BYTES + 2048),
    );
    ask(root, "org.example.nosy", "1.json", &edit(&p.plan, "hello"));
    ask(root, "has space", "1.json", &edit(&p.plan, "hello"));
    // Not requests (yet): left alone.
    ask(root, NOTES, "notes.txt", "keep me");
    ask(root, NOTES, ".2.json", "{\"doc\": \"half-writ");

    let r = sync(&p.ana, root).unwrap();
    assert_eq!((r.applied, r.refused), (1, 6));
    assert_eq!(answer(root, NOTES, "1.json"), json!({"ok": true}));
    let plan = read(
        &root
            .join(NOTES)
            .join("docs")
            .join(format!("{}.json", p.plan)),
    );
    assert_eq!(
        plan["note"], "meet at the well",
        "the change is in the document it reads back"
    );
    let why = |app: &str, name: &str| {
        answer(root, app, name)["error"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        why(MAP, "1.json").contains("may read"),
        "{}",
        why(MAP, "1.json")
    );
    assert!(
        why(MAP, "2.json").contains("no access"),
        "{}",
        why(MAP, "2.json")
    );
    assert!(
        why(NOTES, "bad.json").contains("bad edits"),
        "{}",
        why(NOTES, "bad.json")
    );
    assert!(
        why(NOTES, "big.json").contains("more than"),
        "{}",
        why(NOTES, "big.json")
    );
    assert!(why("org.example.nosy", "1.json").contains("no access"));
    assert!(why("has space", "1.json").contains("app id"));
    // Every request was answered once and removed; the board is unchanged.
    for app in [NOTES, MAP, "org.example.nosy", "has space"] {
        let mut left: Vec<_> = std::fs::read_dir(root.join(app).join("requests"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let expect: Vec<String> = if app == NOTES {
            vec![".2.json".into(), "notes.txt".into()]
        } else {
            vec![]
        };
        assert_eq!(left, expect, "{app}");
    }
    let board = crate::app_access::read_for_app(&p.ana, MAP, &p.board).unwrap();
    assert!(!board.to_string().contains("defaced"));
    // Answered once: a second sync finds nothing to do.
    let again = sync(&p.ana, root).unwrap();
    assert_eq!((again.applied, again.refused), (0, 0));
}

#[cfg(unix)]
#[test]
fn links_planted_by_another_app_are_replaced_not_followed() {
    use std::os::unix::fs::symlink;
    let p = phone();
    let group = tempfile::tempdir().unwrap();
    let root = group.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("pollen.db");
    std::fs::write(&victim, "precious").unwrap();
    grant(&p.ana, MAP, &p.board, false).unwrap();
    grant(&p.ana, NOTES, &p.plan, true).unwrap();
    // The map app's folder is a link to a folder the notes app reads, and
    // the notes app's files are links to a file outside the group.
    std::fs::create_dir_all(root.join("org.example.thief")).unwrap();
    symlink(root.join("org.example.thief"), root.join(MAP)).unwrap();
    let docs = root.join(NOTES).join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    symlink(&victim, docs.join(format!("{}.json", p.plan))).unwrap();
    symlink(&victim, docs.join(format!("{}.json.partial", p.plan))).unwrap();
    symlink(&victim, root.join(NOTES).join("docs.json.partial")).unwrap();

    sync(&p.ana, root).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        std::fs::read_dir(root.join("org.example.thief"))
            .unwrap()
            .count(),
        0
    );
    assert!(std::fs::symlink_metadata(root.join(MAP)).unwrap().is_dir());
    let plan = docs.join(format!("{}.json", p.plan));
    assert!(std::fs::symlink_metadata(&plan).unwrap().is_file());
    assert!(read(&plan).is_object());
}
