//! Hostile and broken input to `pollen bundle import`: every case is refused
//! with a reason, and nothing already stored is lost or changed.

use pollen_proto::bundle::{BundleReader, BundleWriter, Record};
use pollen_proto::envelope::{DeliveryProof, Envelope, EnvelopeId};
use pollen_tests::Phone;
use serde_json::Value;
use std::path::Path;

fn records(path: &Path) -> Vec<Record> {
    let mut r = BundleReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push(rec);
    }
    out
}

fn write(path: &Path, recs: &[Record]) {
    let mut w = BundleWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for r in recs {
        w.write(r).unwrap();
    }
    w.finish().unwrap();
}

fn envelope_record(bytes: Vec<u8>, id: Option<EnvelopeId>) -> Record {
    let id = id.unwrap_or_else(|| {
        Envelope::decode(&bytes)
            .map(|e| e.id())
            .unwrap_or(EnvelopeId([0; 32]))
    });
    Record::Envelope { id, bytes }
}

struct World {
    _root: tempfile::TempDir,
    dir: std::path::PathBuf,
    a: Phone,
    c: Phone,
    /// A's second message, exported but not yet given to C.
    fresh: Vec<u8>,
}

/// C already holds one message from A; A has a second one ready.
fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().to_owned();
    let a = Phone::new(&dir, "Ana");
    let c = Phone::new(&dir, "Chen");
    a.add(&c);
    c.add(&a);
    a.ok(&["send", "--to", "Chen", "already delivered"]);
    let first = dir.join("first.pollen");
    a.hand_to(&c, &first);
    a.ok(&["send", "--to", "Chen", "second"]);
    let second = dir.join("second.pollen");
    a.ok(&["bundle", "export", second.to_str().unwrap()]);
    let old = records(&first);
    let fresh = records(&second)
        .into_iter()
        .find(|r| matches!(r, Record::Envelope { .. }) && !old.contains(r))
        .and_then(|r| match r {
            Record::Envelope { bytes, .. } => Some(bytes),
            Record::Proof(_) => None,
        })
        .expect("A's second envelope");
    assert_eq!(c.texts(), ["already delivered"]);
    World {
        _root: root,
        dir,
        a,
        c,
        fresh,
    }
}

fn snapshot(p: &Phone) -> (Vec<Value>, Value) {
    (p.inbox(), p.json(&["status"]))
}

fn import(p: &Phone, path: &Path) -> (Value, std::process::Output) {
    let out = p.run(&["bundle", "import", path.to_str().unwrap(), "--json"]);
    (
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        out,
    )
}

#[test]
fn damaged_envelopes_are_rejected_each_with_its_reason() {
    let w = world();
    let before = snapshot(&w.c);
    let good = w.fresh.clone();

    let truncated = good[..good.len() - 17].to_vec();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let mut wrong_version = good.clone();
    wrong_version[0] = 9;
    let cases: Vec<(&str, Record)> = vec![
        (
            "bad_length",
            envelope_record(truncated, Some(EnvelopeId([1; 32]))),
        ),
        // Corrupted in transit: the id it travels with no longer matches.
        (
            "id_mismatch",
            envelope_record(flipped.clone(), Some(Envelope::decode(&good).unwrap().id())),
        ),
        // Tampered so that the id matches: the seal catches it.
        ("tampered", envelope_record(flipped, None)),
        (
            "unsupported_version",
            envelope_record(wrong_version, Some(EnvelopeId([2; 32]))),
        ),
        (
            "bad_length",
            envelope_record(vec![1, 2, 3], Some(EnvelopeId([3; 32]))),
        ),
    ];
    for (n, (reason, rec)) in cases.into_iter().enumerate() {
        let f = w.dir.join(format!("case{n}.pollen"));
        write(&f, &[rec]);
        let (report, out) = import(&w.c, &f);
        assert!(
            out.status.success(),
            "{reason}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(report["rejected"][reason], 1, "{reason}: {report}");
        assert_eq!(report["opened"], 0);
        assert_eq!(snapshot(&w.c), before, "{reason} changed C's state");
    }
    // The intact envelope still opens afterwards.
    let f = w.dir.join("good.pollen");
    write(&f, &[envelope_record(good, None)]);
    let (report, _) = import(&w.c, &f);
    assert_eq!(report["opened"], 1, "{report}");
    assert_eq!(w.c.texts(), ["already delivered", "second"]);
    let _ = &w.a;
}

#[test]
fn broken_bundles_are_refused_and_keep_what_came_before() {
    let w = world();
    let before = snapshot(&w.c);

    // Garbage and a real gzip bomb (50 MB of zeros in ~50 KB): refused at the
    // magic bytes, nothing is decompressed.
    let garbage = w.dir.join("garbage.pollen");
    std::fs::write(&garbage, b"this is not a bundle at all").unwrap();
    let bomb = w.dir.join("bomb.pollen");
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.compress(bytes(50_000_000)))",
        ])
        .stdout(std::fs::File::create(&bomb).unwrap())
        .status()
        .expect("python3 makes the bomb");
    assert!(status.success());
    for f in [&garbage, &bomb] {
        let err = w.c.fails(&["bundle", "import", f.to_str().unwrap()]);
        assert!(err.contains("not a Pollen bundle"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    // A record that lies about its length: refused before allocating.
    let mut lying = std::fs::read(w.dir.join("second.pollen")).unwrap();
    lying.truncate(8);
    lying.push(1);
    lying.extend_from_slice(&[0; 32]);
    lying.extend_from_slice(&u32::MAX.to_le_bytes());
    let lie = w.dir.join("lie.pollen");
    std::fs::write(&lie, &lying).unwrap();
    let (report, out) = import(&w.c, &lie);
    assert!(!out.status.success());
    assert!(
        report["error"].as_str().unwrap().contains("more than"),
        "{report}"
    );
    assert_eq!(snapshot(&w.c), before);

    // A bundle cut off mid-way: what came before the cut is kept and opened.
    let full = std::fs::read(w.dir.join("second.pollen")).unwrap();
    let cut = w.dir.join("cut.pollen");
    std::fs::write(&cut, &full[..full.len() - 20]).unwrap();
    let (report, out) = import(&w.c, &cut);
    assert!(!out.status.success());
    assert!(
        report["error"].as_str().unwrap().contains("truncated"),
        "{report}"
    );
    assert_eq!(report["opened"], 1, "{report}");
    assert_eq!(w.c.texts(), ["already delivered", "second"]);

    // Wrong bundle version.
    let mut v9 = full.clone();
    v9[7] = 9;
    let v9f = w.dir.join("v9.pollen");
    std::fs::write(&v9f, v9).unwrap();
    let err = w.c.fails(&["bundle", "import", v9f.to_str().unwrap()]);
    assert!(err.contains("version 9"), "{err}");
}

#[test]
fn a_forged_delivery_proof_purges_nothing() {
    let w = world();
    let root = tempfile::tempdir().unwrap();
    let b = Phone::new(root.path(), "Bo");
    let second = w.dir.join("second.pollen");
    b.json(&["bundle", "import", second.to_str().unwrap()]);
    let held = b.json(&["status"])["carried_for_others"].clone();
    assert_eq!(held, 2);
    let forged = w.dir.join("forged.pollen");
    write(
        &forged,
        &[
            Record::Proof(DeliveryProof([0x42; 32])),
            Record::Proof(DeliveryProof([0x43; 32])),
        ],
    );
    let (report, _) = import(&b, &forged);
    assert_eq!(report["purged"], 0, "{report}");
    assert_eq!(b.json(&["status"])["carried_for_others"], held);
}

#[test]
fn d11_received_text_is_printed_without_terminal_control_sequences() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    a.add(&b);
    b.add(&a);
    // Set the window title, clear the screen, reverse what follows.
    a.ok(&[
        "send",
        "--to",
        "Bo",
        "hi \u{1b}]0;pwned\u{7}\u{1b}[2J \u{202e}gnp.exe",
    ]);
    a.hand_to(&b, &root.path().join("b.bundle"));
    let shown = b.ok(&["inbox"]);
    assert!(shown.contains("pwned"), "the message arrived: {shown}");
    assert!(
        !shown
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{shown:?}"
    );
    assert!(shown.contains("\\u{1b}[2J"), "{shown}");
    // Scripts get the exact text.
    assert_eq!(
        b.inbox()[0]["text"],
        "hi \u{1b}]0;pwned\u{7}\u{1b}[2J \u{202e}gnp.exe"
    );
}

#[test]
fn c6_channels_are_labelled_public_and_private_chats_are_not() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    a.add(&b);
    let joined = a.ok(&["channel", "join", "town"]);
    assert!(joined.contains("public"), "{joined}");
    a.ok(&["group", "create", "family", "--member", "Bo"]);
    a.ok(&["send", "--to", "Bo", "hello"]);
    let list = a.ok(&["conversations"]);
    let line = |name: &str| {
        list.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {list}"))
            .to_owned()
    };
    assert!(line("#town").contains("(public)"), "{list}");
    assert!(!line("family").contains("public"), "{list}");
    assert!(!line("Bo").contains("public"), "{list}");
    let kinds: Vec<String> = a
        .json(&["conversations"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["name"], c["kind"]))
        .collect();
    assert!(
        kinds.contains(&"\"#town\" \"channel\"".to_owned()),
        "{kinds:?}"
    );
}
