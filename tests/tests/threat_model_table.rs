//! The attack-suite table of `docs/THREAT_MODEL.md` stays true: every
//! checklist id has a row, every row names a test or says honestly "open"
//! or "does not apply", and every test it names exists in the file it names
//! (Rust, or Kotlin for the Android app's Robolectric tests).

use std::path::{Path, PathBuf};

const IDS: &[(&str, u32)] = &[("S", 10), ("C", 6), ("R", 3), ("D", 11), ("T", 5), ("P", 7)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// Whether a back-ticked word names a test file.
fn is_test_file(t: &str) -> bool {
    t.ends_with(".rs") || t.ends_with(".kt")
}

/// How a test `name` is declared in `file`: `fn name(` in Rust, `fun name(` in Kotlin.
fn declaration(name: &str, file: &str) -> String {
    if file.ends_with(".kt") {
        format!("fun {name}(")
    } else {
        format!("fn {name}(")
    }
}

/// (test name, file) pairs of a row: "`a`, `b` (`file.rs`)".
fn tests_of(row: &str) -> Vec<(String, String)> {
    let ticks: Vec<&str> = row.split('`').skip(1).step_by(2).collect();
    let mut out = Vec::new();
    let mut names = Vec::new();
    for t in ticks {
        if is_test_file(t) {
            out.extend(names.drain(..).map(|n: &str| (n.to_owned(), t.to_owned())));
        } else {
            names.push(t);
        }
    }
    assert!(names.is_empty(), "test names without a file in {row}");
    out
}

#[test]
fn every_checklist_id_maps_to_existing_tests_or_says_why_not() {
    let doc = std::fs::read_to_string(root().join("docs/THREAT_MODEL.md")).unwrap();
    let mut missing = Vec::new();
    let mut named = 0;
    for (prefix, count) in IDS {
        for n in 1..=*count {
            let id = format!("{prefix}{n}");
            let Some(row) = doc.lines().find(|l| l.starts_with(&format!("| {id} |"))) else {
                missing.push(format!("{id}: no row"));
                continue;
            };
            let tests = tests_of(row);
            let lower = row.to_lowercase();
            if tests.is_empty() && !lower.contains("open") && !lower.contains("does not apply") {
                missing.push(format!("{id}: neither a test nor a reason"));
            }
            for (name, file) in tests {
                let text = std::fs::read_to_string(root().join(&file)).unwrap_or_default();
                if !text.contains(&declaration(&name, &file)) {
                    missing.push(format!("{id}: no {} in {file}", declaration(&name, &file)));
                }
                named += 1;
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    assert!(named > 40, "only {named} tests named");
}

#[test]
fn the_checker_catches_a_missing_test() {
    let row = "| S1 | x | `no_such_test`, `other` (`core/proto/src/lib.rs`) |";
    let tests = tests_of(row);
    assert_eq!(tests.len(), 2);
    let text = std::fs::read_to_string(root().join(&tests[0].1)).unwrap();
    assert!(!text.contains(&declaration(&tests[0].0, &tests[0].1)));
    // A Kotlin test is looked for as `fun name(`.
    let kt = "android/pollen/src/test/kotlin/org/pollen/android/MeshRestartTest.kt";
    let row = format!(
        "| P7 | x | `thePanicWipeErasesTheNodeAndStopsTheService`, `noSuchTest` (`{kt}`) |"
    );
    let tests = tests_of(&row);
    let text = std::fs::read_to_string(root().join(kt)).unwrap();
    assert!(text.contains(&declaration(&tests[0].0, kt)));
    assert!(!text.contains(&declaration(&tests[1].0, kt)));
}
