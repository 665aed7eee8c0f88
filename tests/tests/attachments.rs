//! An attachment between real `pollen` processes: Ana sends a 5 MiB file
//! and then a text to Chen. Her link to Bo breaks partway through the file,
//! then her link to Dee: Ana gives Dee first what she gave nobody, so the
//! two carriers hold the file between them. Chen reads the text from Bo
//! first, then assembles the file from both and saves it with the same
//! BLAKE3 hash; neither carrier can read a byte of it.

use pollen_tests::{CutLink, Phone, Server, contains};
use serde_json::{Value, json};

const MIB: usize = 1024 * 1024;

fn status(phone: &Phone) -> Value {
    phone.json(&["status"])
}

fn chunks_carried(phone: &Phone) -> u64 {
    status(phone)["chunks_carried"][0].as_u64().unwrap()
}

/// Ana syncs with `carrier` over a link that breaks after `cut_after` bytes.
fn meet_briefly(ana: &Phone, carrier: &Phone, cut_after: u64) {
    let server = Server::start(carrier);
    let link = CutLink::start(&server.addr, cut_after);
    let out = ana.run(&["sync", &link.addr, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(report["finished"], false, "the link broke: {report}");
    assert!(
        link.forwarded() >= cut_after,
        "{} bytes crossed",
        link.forwarded()
    );
    server.next_session();
    assert!(server.stop().success());
}

/// `from` syncs with Chen over a link that holds; the session's report.
fn meet(from: &Phone, chen: &Phone) -> Value {
    let server = Server::start(chen);
    let out = from.json(&["sync", &server.addr]);
    assert_eq!(out["finished"], true, "{out}");
    server.next_session();
    assert!(server.stop().success());
    out
}

#[test]
fn a_5_mib_file_reaches_chen_in_halves_through_two_carriers_after_the_later_text() {
    let root = tempfile::tempdir().unwrap();
    let ana = Phone::new(root.path(), "Ana");
    let bo = Phone::new(root.path(), "Bo");
    let dee = Phone::new(root.path(), "Dee");
    let chen = Phone::new(root.path(), "Chen");
    ana.add(&chen);
    chen.add(&ana);

    // 5 MiB, above the automatic fetch size Chen sets: Chen asks for it.
    let set = chen.ok(&["auto-fetch", "--wifi", "1000000"]);
    assert_eq!(
        set.trim(),
        "automatic fetch from contacts: up to 1000000 bytes over Bluetooth, 1000000 over Wi-Fi"
    );
    let file: Vec<u8> = (0..(5 * MIB) as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = root.path().join("map.bin");
    std::fs::write(&path, &file).unwrap();
    let sent = ana.ok(&[
        "send",
        "--to",
        "Chen",
        "--file",
        path.to_str().unwrap(),
        "the map",
    ]);
    assert!(sent.contains("attached map.bin (5242880 bytes"), "{sent}");
    ana.ok(&["send", "--to", "Chen", "sent you the map"]);
    let total = status(&ana)["chunks_mine"][0].as_u64().unwrap();
    assert!(total >= 80, "{total} chunks");

    // Bo walks away after about 45 % of the file, Dee after about 70 %.
    let wire = file.len() as u64 * 105 / 100;
    meet_briefly(&ana, &bo, wire * 45 / 100);
    let at_bo = chunks_carried(&bo);
    assert!(
        (1..total).contains(&at_bo),
        "Bo holds part: {at_bo} of {total}"
    );
    assert_eq!(
        status(&bo)["carried_for_others"],
        2,
        "both messages went first"
    );
    meet_briefly(&ana, &dee, wire * 70 / 100);
    let at_dee = chunks_carried(&dee);
    assert!(
        (1..total).contains(&at_dee),
        "Dee holds part: {at_dee} of {total}"
    );
    assert!(
        at_bo + at_dee >= total,
        "between them, the file: {at_bo} + {at_dee}"
    );
    eprintln!("of {total} chunks, Bo carries {at_bo} and Dee {at_dee}");

    // Neither carrier can read the file or its name.
    for carrier in [&bo, &dee] {
        let db = carrier.database_bytes();
        assert!(!contains(&db, "map.bin"), "a carrier sees the name");
        assert!(!contains(&db, "the map"), "a carrier sees the text");
        assert!(carrier.texts().is_empty());
    }

    // Chen meets Bo: the later text is readable at once, the file is partial.
    meet(&bo, &chen);
    let texts = chen.texts();
    assert!(texts.iter().any(|t| t == "sent you the map"), "{texts:?}");
    let inbox = chen.inbox();
    let a = &inbox
        .iter()
        .find(|m| m["text"] == "the map")
        .expect("the message with the file")["attachment"];
    assert_eq!(a["name"], "map.bin", "{a}");
    assert_eq!(a["size"], file.len() as u64, "{a}");
    // As the apps show it: over Chen's automatic limit (set to 1 MB above),
    // so it waits for him to ask, though what Bo carried is already here.
    assert_eq!(
        (&a["state"], &a["label"]),
        (&json!("ask"), &json!("5.2 MB · tap to download")),
        "{a}"
    );
    let blob = a["blob"].as_str().unwrap().to_owned();
    let progress = chen.ok(&["fetch", &blob[..12]]);
    assert!(
        progress.contains(&format!("{at_bo}/{total} chunks")),
        "Chen holds what Bo carried: {progress}"
    );
    let out = root.path().join("saved.bin");
    let early = chen.fails(&["fetch", &blob[..12], "--out", out.to_str().unwrap()]);
    assert!(early.contains("not complete yet"), "{early}");
    assert!(!out.exists(), "nothing is written before the file is whole");

    // Chen meets Dee: only what Bo did not bring crosses.
    let from_dee = meet(&dee, &chen);
    assert_eq!(from_dee["sent"]["chunks"], total - at_bo, "{from_dee}");
    let fetched = chen.ok(&["fetch", &blob[..12], "--out", out.to_str().unwrap()]);
    assert!(fetched.contains("saved 5242880 bytes"), "{fetched}");
    assert_eq!(
        blake3::hash(&std::fs::read(&out).unwrap()),
        blake3::hash(&file)
    );
    // An unknown blob is one clear line.
    let err = chen.fails(&["fetch", "00000000"]);
    assert!(err.contains("no attachment with id"), "{err}");
}
