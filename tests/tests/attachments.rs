//! An attachment between real `pollen` processes: Ana sends a file and then
//! a text to Chen; Bo carries both; Chen reads the text, fetches the file and
//! saves it with the same BLAKE3 hash.

use pollen_tests::{Phone, Server};

#[test]
fn a_file_and_a_later_text_reach_chen_through_a_carrier() {
    let root = tempfile::tempdir().unwrap();
    let ana = Phone::new(root.path(), "Ana");
    let bo = Phone::new(root.path(), "Bo");
    let chen = Phone::new(root.path(), "Chen");
    ana.add(&chen);
    chen.add(&ana);

    // 3 MiB, above the auto-fetch limit: Chen asks for it explicitly.
    let file: Vec<u8> = (0..3 * 1024 * 1024u32)
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
    assert!(sent.contains("attached map.bin (3145728 bytes"), "{sent}");
    ana.ok(&["send", "--to", "Chen", "sent you the map"]);

    // Ana meets Bo, Bo meets Chen.
    let server_b = Server::start(&bo);
    let out = ana.json(&["sync", &server_b.addr]);
    assert_eq!(out["finished"], true, "{out}");
    server_b.next_session();
    assert!(server_b.stop().success());
    assert!(bo.texts().is_empty(), "Bo reads nothing");

    let server_c = Server::start(&chen);
    let out = bo.json(&["sync", &server_c.addr]);
    assert_eq!(out["finished"], true, "{out}");
    server_c.next_session();
    assert!(server_c.stop().success());

    let texts = chen.texts();
    assert!(texts.iter().any(|t| t == "sent you the map"), "{texts:?}");
    let inbox = chen.inbox();
    let with_file = inbox
        .iter()
        .find(|m| m["text"] == "the map")
        .expect("the message with the file");
    let a = &with_file["attachment"];
    assert_eq!(a["name"], "map.bin", "{a}");
    assert_eq!(a["size"], file.len() as u64, "{a}");
    let blob = a["blob"].as_str().unwrap().to_owned();

    let out = root.path().join("saved.bin");
    let fetched = chen.ok(&["fetch", &blob[..12], "--out", out.to_str().unwrap()]);
    assert!(fetched.contains("saved 3145728 bytes"), "{fetched}");
    assert_eq!(
        blake3::hash(&std::fs::read(&out).unwrap()),
        blake3::hash(&file)
    );
    // An unknown blob is one clear line.
    let err = chen.fails(&["fetch", "00000000"]);
    assert!(err.contains("no attachment with id"), "{err}");
}
