//! `docs/ARCHITECTURE.md` stays true to the code: every source file it names
//! exists, and every type, function or constant it names in backticks is
//! still defined somewhere in the workspace (a rename that forgets the doc
//! fails here).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

const SOURCE_EXT: &[&str] = &["rs", "kt", "swift", "py", "sh", "toml", "yml"];
const SKIP_DIRS: &[&str] = &["target", ".git", "node_modules", "corpus"];

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                walk(&path, files);
            }
        } else {
            files.push(path);
        }
    }
}

/// The backticked spans of the doc.
fn spans(doc: &str) -> Vec<&str> {
    doc.split('`').skip(1).step_by(2).collect()
}

/// A span that names a source file by path (`host/mod.rs`, `core/app/`…).
fn is_path(span: &str) -> bool {
    !span.contains(' ')
        && SOURCE_EXT
            .iter()
            .any(|ext| span.ends_with(&format!(".{ext}")))
}

/// A span that names a code item: `Node`, `Node::send_in`, `drive_with`.
fn item(span: &str) -> Option<&str> {
    let last = span.rsplit("::").next()?;
    let ident = last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && last.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && span.split("::").all(|p| !p.is_empty());
    // Single lower-case words are prose or commands ("send", "pollen"),
    // not items; CamelCase, snake_case and SCREAMING_CASE are.
    let named = last.contains('_') || last.chars().any(|c| c.is_ascii_uppercase());
    (ident && named).then_some(last)
}

#[test]
fn every_file_and_item_the_architecture_doc_names_exists() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let mut files = Vec::new();
    walk(&root, &mut files);
    let rel: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&root).ok())
        .map(|f| f.to_string_lossy().replace('\\', "/"))
        .collect();
    let text: String = files
        .iter()
        .filter(|f| {
            f.extension()
                .is_some_and(|e| SOURCE_EXT.contains(&e.to_string_lossy().as_ref()))
        })
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let mut missing = Vec::new();
    let (mut paths, mut items) = (0, 0);
    for span in spans(&doc) {
        if is_path(span) {
            paths += 1;
            let tail = format!("/{}", span.trim_start_matches('/'));
            if !rel.iter().any(|f| format!("/{f}").ends_with(&tail)) {
                missing.push(format!("file {span}"));
            }
        } else if let Some(name) = item(span) {
            items += 1;
            if !text.contains(name) {
                missing.push(format!("item {span}"));
            }
        }
    }
    assert!(
        paths > 20 && items > 20,
        "too few names read: {paths} files, {items} items"
    );
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names what does not exist: {missing:?}"
    );
}

#[test]
fn the_check_reads_names_as_meant() {
    assert!(is_path("core/node/src/neighbours/cadence.rs"));
    assert!(!is_path("a file.rs is"));
    assert_eq!(item("Node::send_in"), Some("send_in"));
    assert_eq!(item("NodeEvent"), Some("NodeEvent"));
    assert_eq!(item("pollen"), None);
    assert_eq!(item("pollen run"), None);
}
