//! Shared documents for other apps on iOS, through a shared directory.
//!
//! iOS has no bound services: apps of one developer team share an App
//! Group container, and nothing tells a process which app wrote a file.
//! So Pollen keeps a mailbox there (`docs/THREAT_MODEL.md`, *Other apps on
//! the phone, iOS*), one folder per app id, under the same grants as the
//! Android service ([`crate::app_access`]):
//!
//! - `<app>/docs.json`: the documents the app was granted, as
//!   [`app_access::docs_json_for_app`] gives them;
//! - `<app>/docs/<doc id>.json`: each one's content;
//! - `<app>/requests/<name>.json`: a change the app asks for,
//!   `{"doc": "<full id>", "edits": [...]}` (the edits as
//!   [`app_access::parse_edits`] reads them), at most 64 KiB;
//! - `<app>/results/<name>.json`: Pollen's answer, `{"ok": true}` or
//!   `{"error": "why"}`, written once the request is handled and removed.
//!
//! [`sync`] does both directions: it answers every request through the
//! checked calls, then writes what each app may read and removes what it
//! may no longer read. Every file is written under a temporary name and
//! renamed, so an app never reads half a file.

use crate::app_access::{self, AccessError, MAX_EDITS_JSON_BYTES};
use pollen_node::{Node, NodeError};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What one [`sync`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppGroupReport {
    /// Apps with at least one grant (their folders written).
    pub apps: u32,
    /// Document files written (new or changed since the last sync: the app
    /// syncs on every refresh, and an unchanged file is left alone).
    pub docs_written: u32,
    /// Document files removed (grant revoked, document gone).
    pub docs_removed: u32,
    /// Change requests made.
    pub applied: u32,
    /// Change requests refused (each answered with its reason).
    pub refused: u32,
}

/// Answers every pending request under `root`, then writes each app's
/// granted documents there and removes what it may no longer read.
pub fn sync(node: &Node, root: &Path) -> Result<AppGroupReport, AccessError> {
    let mut report = AppGroupReport::default();
    make_dir(root)?;
    for dir in subdirs(root)? {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let app = app_access::check_app_id(name).ok().map(str::to_owned);
        answer_requests(node, app.as_deref(), &dir, &mut report)?;
    }
    let mut granted: Vec<String> = app_access::grants(node)?
        .into_iter()
        .map(|g| g.app)
        .collect();
    granted.sort();
    granted.dedup();
    for dir in subdirs(root)? {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !granted.iter().any(|a| a == name) {
            report.docs_removed += clear_docs(&dir, &[])?;
        }
    }
    for app in &granted {
        let dir = root.join(app);
        let docs = app_access::docs_for_app(node, app)?;
        make_dir(&dir)?;
        make_dir(&dir.join("docs"))?;
        write(
            &dir.join("docs.json"),
            app_access::docs_json_for_app(node, app)?.as_bytes(),
        )?;
        let mut keep = Vec::new();
        for d in &docs {
            let content = app_access::read_for_app(node, app, &d.id)?;
            let file = format!("{}.json", d.id);
            if write(
                &dir.join("docs").join(&file),
                content.to_string().as_bytes(),
            )? {
                report.docs_written += 1;
            }
            keep.push(file);
        }
        report.docs_removed += clear_docs(&dir, &keep)?;
        report.apps += 1;
    }
    Ok(report)
}

/// The apps that made themselves known in `root` (each folder named by a
/// usable app id; the Swift package makes its app's folder): the apps the
/// user may grant documents to on iOS, whose ids nothing checks.
pub fn apps(root: &Path) -> Result<Vec<String>, AccessError> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    Ok(subdirs(root)?
        .iter()
        .filter_map(|d| d.file_name()?.to_str())
        .filter(|n| app_access::check_app_id(n).is_ok())
        .map(str::to_owned)
        .collect())
}

/// Handles `<dir>/requests/*.json` for `app` (None: the folder's name is
/// not an app id, so every request there is refused).
fn answer_requests(
    node: &Node,
    app: Option<&str>,
    dir: &Path,
    report: &mut AppGroupReport,
) -> Result<(), AccessError> {
    let requests = dir.join("requests");
    let Ok(entries) = std::fs::read_dir(&requests) else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // A name starting with a dot is one the app is still writing.
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    for file in files {
        let outcome = match app {
            Some(app) => apply(node, app, &file),
            None => Err(AccessError::BadEdits(
                "the folder is not named by an app id".into(),
            )),
        };
        let answer = match outcome {
            Ok(()) => {
                report.applied += 1;
                json!({"ok": true})
            }
            Err(e @ (AccessError::Node(_) | AccessError::Stored(_))) => return Err(e),
            Err(e) => {
                tracing::info!(app, file = %file.display(), %e, "app group request refused");
                report.refused += 1;
                json!({"error": e.to_string()})
            }
        };
        make_dir(&dir.join("results"))?;
        let name = file.file_name().unwrap_or_default();
        write(
            &dir.join("results").join(name),
            answer.to_string().as_bytes(),
        )?;
        std::fs::remove_file(&file).map_err(|e| io(&file, e))?;
    }
    Ok(())
}

/// One request: read (bounded), parsed, and made through the checked call.
fn apply(node: &Node, app: &str, file: &Path) -> Result<(), AccessError> {
    let bad = |why: String| AccessError::BadEdits(why);
    let len = std::fs::metadata(file).map_err(|e| io(file, e))?.len();
    // The edits plus the wrapper around them.
    if len > (MAX_EDITS_JSON_BYTES + 1024) as u64 {
        return Err(bad(format!(
            "a request of {len} bytes, more than {MAX_EDITS_JSON_BYTES}"
        )));
    }
    let text = std::fs::read_to_string(file).map_err(|e| bad(format!("not UTF-8 text: {e}")))?;
    let request: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let doc = request["doc"]
        .as_str()
        .ok_or_else(|| bad("a request without a \"doc\"".into()))?;
    let edits = app_access::parse_edits(&request["edits"].to_string())?;
    app_access::change_for_app(node, app, doc, &edits)
}

/// Removes `<dir>/docs/*.json` not in `keep` (and `docs.json` when nothing
/// is kept); returns how many document files went.
fn clear_docs(dir: &Path, keep: &[String]) -> Result<u32, AccessError> {
    let mut removed = 0;
    if let Ok(entries) = std::fs::read_dir(dir.join("docs")) {
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                std::fs::remove_file(e.path()).map_err(|err| io(&e.path(), err))?;
                removed += 1;
            }
        }
    }
    let list = dir.join("docs.json");
    if keep.is_empty() && list.exists() {
        std::fs::remove_file(&list).map_err(|e| io(&list, e))?;
    }
    Ok(removed)
}

fn subdirs(root: &Path) -> Result<Vec<PathBuf>, AccessError> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| io(root, e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Writes a file without following a link another app may have planted
/// (one to Pollen's own database would have it overwritten): the temporary
/// name is created new, and the rename replaces a link, not its target.
/// A regular file that already holds `bytes` is left alone (false).
fn write(path: &Path, bytes: &[u8]) -> Result<bool, AccessError> {
    use std::io::Write;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|held| held == bytes)
    {
        return Ok(false);
    }
    let tmp = path.with_extension("json.partial");
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp, e)),
        _ => {}
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    Ok(true)
}

/// Makes `dir` and its parents under the root a real folder: a link or a
/// file in its place is removed first.
fn make_dir(dir: &Path) -> Result<(), AccessError> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))
}

fn io(path: &Path, e: std::io::Error) -> AccessError {
    AccessError::Node(NodeError::io(path, e))
}

#[cfg(test)]
mod tests;
