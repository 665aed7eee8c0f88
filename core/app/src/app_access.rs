//! Other apps on the phone and the shared documents the user let them use.
//!
//! An outside app is named by an app id (on Android its package name, as the
//! system reports it for the caller's uid). The user grants one app one
//! document, to read or to read and write; nothing is granted by default.
//! The calls an outside app may make ([`docs_for_app`], [`read_for_app`],
//! [`change_for_app`]) check the grant first, before they look the document
//! up, so an app without a grant learns nothing, not even whether a document
//! exists. A write grant lets an app change a document only where this
//! phone's user may write it: the document's own writer list still rules.
//!
//! The grants live in the node's `meta` table under one key
//! (`app.access.grants`, JSON `{app: {doc id: "read" | "write"}}`), read and
//! written in one transaction, so they survive restarts and two changes
//! cannot lose one.

use pollen_node::node::{DocInfo, NodeError};
use pollen_node::shared_docs::{DocEdit, parse_path};
use pollen_node::{Node, store::StoreError};
use serde_json::Value;
use std::collections::BTreeMap;

const KEY: &str = "app.access.grants";
/// The longest app id (Android package names are far shorter).
pub const MAX_APP_ID_BYTES: usize = 255;
/// The most a change request from an outside app may hold, as JSON text.
pub const MAX_EDITS_JSON_BYTES: usize = 64 * 1024;

/// Why an outside app's call, or a grant, was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Not usable as an app id.
    #[error("not an app id ({why}): {app:?}")]
    BadAppId {
        /// What was given (shortened).
        app: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The app has no grant for this document (or the document does not exist).
    #[error("{app} has no access to document {doc}")]
    Denied {
        /// The app.
        app: String,
        /// The document asked for, as given.
        doc: String,
    },
    /// The app may read the document but was not allowed to change it.
    #[error("{app} may read document {doc} but not change it")]
    ReadOnly {
        /// The app.
        app: String,
        /// The document.
        doc: String,
    },
    /// This phone's user may not write the document, so no app here may.
    #[error("document {doc} may not be changed from this phone (not one of its writers)")]
    NotWriter {
        /// The document.
        doc: String,
    },
    /// A change request that is not a list of edits.
    #[error("bad edits: {0}")]
    BadEdits(String),
    /// The stored grants could not be read.
    #[error("the stored app grants are unreadable: {0}")]
    Stored(String),
    /// The node refused or failed.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<StoreError> for AccessError {
    fn from(e: StoreError) -> Self {
        AccessError::Node(NodeError::from(e))
    }
}

/// One app's access to one document.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The app (Android package name).
    pub app: String,
    /// The document's id (hex).
    pub doc_id: String,
    /// The document's title ("" if it is no longer held).
    pub title: String,
    /// Read and write (`false`: read only).
    pub write: bool,
}

/// A document as an outside app sees it in a list: no writers, no
/// conversations, no contacts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AppDoc {
    /// Its id (hex).
    pub id: String,
    /// What kind of document (`doc`, `board`, an app's own tag).
    pub app: String,
    /// Its title.
    pub title: String,
    /// Whether this app may change it now (a write grant, and this phone's
    /// user is one of its writers).
    pub writable: bool,
    /// Unix seconds of the last change held.
    pub updated_at: u64,
}

type Table = BTreeMap<String, BTreeMap<String, Level>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Read,
    Write,
}

/// Checks an app id: 1 to [`MAX_APP_ID_BYTES`] bytes, no whitespace or
/// control characters, no slashes and no leading dot (on iOS it names a
/// folder in the App Group mailbox). Returns it unchanged.
pub fn check_app_id(app: &str) -> Result<&str, AccessError> {
    let bad = |why| {
        Err(AccessError::BadAppId {
            app: app.chars().take(64).collect(),
            why,
        })
    };
    if app.is_empty() {
        return bad("empty");
    }
    if app.len() > MAX_APP_ID_BYTES {
        return bad("longer than 255 bytes");
    }
    if app.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("control characters or spaces");
    }
    if app.contains(['/', '\\']) || app.starts_with('.') {
        return bad("a slash or a leading dot");
    }
    Ok(app)
}

fn load(node: &Node) -> Result<Table, AccessError> {
    match node.store().meta(KEY)? {
        None => Ok(Table::new()),
        Some(raw) => serde_json::from_slice(&raw).map_err(|e| AccessError::Stored(e.to_string())),
    }
}

fn save(node: &Node, table: &Table) -> Result<(), AccessError> {
    let raw = serde_json::to_vec(table).map_err(|e| AccessError::Stored(e.to_string()))?;
    node.store().set_meta(KEY, &raw)?;
    Ok(())
}

/// Reads, changes and writes the table in one transaction.
fn update<T>(
    node: &Node,
    f: impl FnOnce(&mut Table) -> Result<T, AccessError>,
) -> Result<T, AccessError> {
    node.store().transaction(|_| {
        let mut table = load(node)?;
        let out = f(&mut table)?;
        table.retain(|_, docs| !docs.is_empty());
        save(node, &table)?;
        Ok(out)
    })
}

/// Lets `app` read `doc` (id or unique prefix), or read and change it
/// (`write`). Granting again replaces the earlier grant.
pub fn grant(node: &Node, app: &str, doc: &str, write: bool) -> Result<Grant, AccessError> {
    let app = check_app_id(app)?;
    let info = node.doc(doc)?;
    let level = if write { Level::Write } else { Level::Read };
    update(node, |t| {
        t.entry(app.to_owned())
            .or_default()
            .insert(info.id.clone(), level);
        Ok(())
    })?;
    Ok(Grant {
        app: app.to_owned(),
        doc_id: info.id,
        title: info.title,
        write,
    })
}

/// Takes `app`'s access to `doc` (its id, or a unique prefix of a document
/// held) back; returns whether it had any.
pub fn revoke(node: &Node, app: &str, doc: &str) -> Result<bool, AccessError> {
    let app = check_app_id(app)?;
    let id = node
        .doc(doc)
        .map(|d| d.id)
        .unwrap_or_else(|_| doc.trim().to_ascii_lowercase());
    update(node, |t| {
        Ok(t.get_mut(app).and_then(|docs| docs.remove(&id)).is_some())
    })
}

/// Takes every grant of `app` back (the user removed the app); returns how many.
pub fn revoke_app(node: &Node, app: &str) -> Result<usize, AccessError> {
    let app = check_app_id(app)?;
    update(node, |t| Ok(t.remove(app).map_or(0, |docs| docs.len())))
}

/// Every grant, by app, then by document title.
pub fn grants(node: &Node) -> Result<Vec<Grant>, AccessError> {
    let mut out = Vec::new();
    for (app, docs) in load(node)? {
        let mut mine: Vec<Grant> = docs
            .into_iter()
            .map(|(doc_id, level)| Grant {
                title: node.doc(&doc_id).map(|d| d.title).unwrap_or_default(),
                app: app.clone(),
                doc_id,
                write: level == Level::Write,
            })
            .collect();
        mine.sort_by(|a, b| a.title.cmp(&b.title).then(a.doc_id.cmp(&b.doc_id)));
        out.extend(mine);
    }
    Ok(out)
}

/// The grant `app` holds for exactly this document id (no prefixes: an
/// outside app names documents by the full id it was shown).
fn level(node: &Node, app: &str, doc: &str) -> Result<Option<(String, Level)>, AccessError> {
    let app = check_app_id(app)?;
    let id = doc.trim().to_ascii_lowercase();
    Ok(load(node)?
        .get(app)
        .and_then(|docs| docs.get(&id).copied())
        .map(|l| (id, l)))
}

/// The granted document, or `Denied`.
fn granted(node: &Node, app: &str, doc: &str) -> Result<(DocInfo, Level), AccessError> {
    let denied = || AccessError::Denied {
        app: app.to_owned(),
        doc: doc.chars().take(80).collect(),
    };
    let (id, level) = level(node, app, doc)?.ok_or_else(denied)?;
    match node.doc(&id) {
        Ok(info) => Ok((info, level)),
        Err(NodeError::UnknownDoc(_) | NodeError::AmbiguousDoc(_)) => Err(denied()),
        Err(e) => Err(e.into()),
    }
}

/// The documents `app` was granted, the most recently changed first.
pub fn docs_for_app(node: &Node, app: &str) -> Result<Vec<AppDoc>, AccessError> {
    let app = check_app_id(app)?;
    let Some(docs) = load(node)?.remove(app) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (id, level) in docs {
        let info = match node.doc(&id) {
            Ok(info) => info,
            Err(NodeError::UnknownDoc(_) | NodeError::AmbiguousDoc(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        out.push(AppDoc {
            writable: level == Level::Write && info.writable,
            id: info.id,
            app: info.app,
            title: info.title,
            updated_at: info.updated_at,
        });
    }
    out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// [`docs_for_app`] as JSON text (a list of objects), what the Android
/// service hands another app.
pub fn docs_json_for_app(node: &Node, app: &str) -> Result<String, AccessError> {
    serde_json::to_string(&docs_for_app(node, app)?).map_err(|e| AccessError::Stored(e.to_string()))
}

/// The content of document `doc` (its full id) if `app` may read it.
pub fn read_for_app(node: &Node, app: &str, doc: &str) -> Result<Value, AccessError> {
    Ok(granted(node, app, doc)?.0.content)
}

/// Makes `edits` to document `doc` (its full id) as one change, if `app`
/// was granted write and this phone's user may write the document.
pub fn change_for_app(
    node: &Node,
    app: &str,
    doc: &str,
    edits: &[DocEdit],
) -> Result<(), AccessError> {
    let (info, level) = granted(node, app, doc)?;
    if level != Level::Write {
        return Err(AccessError::ReadOnly {
            app: app.to_owned(),
            doc: info.id,
        });
    }
    if !info.writable {
        return Err(AccessError::NotWriter { doc: info.id });
    }
    if edits.is_empty() {
        return Err(AccessError::BadEdits("no edits".into()));
    }
    node.edit_doc(&info.id, edits)?;
    Ok(())
}

/// Parses a change request as another app sends it: a JSON list of
/// `{"op": "set" | "push", "path": "a/b", "value": …}` and
/// `{"op": "delete", "path": "a/b"}`, at most [`MAX_EDITS_JSON_BYTES`].
pub fn parse_edits(json: &str) -> Result<Vec<DocEdit>, AccessError> {
    let bad = |why: String| AccessError::BadEdits(why);
    if json.len() > MAX_EDITS_JSON_BYTES {
        return Err(bad(format!("longer than {MAX_EDITS_JSON_BYTES} bytes")));
    }
    let list: Vec<Value> = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    list.into_iter()
        .map(|e| {
            let path = e["path"]
                .as_str()
                .ok_or_else(|| bad("an edit without a \"path\"".into()))?;
            let path = parse_path(path).map_err(|e| bad(e.to_string()))?;
            let value = || {
                e.get("value")
                    .cloned()
                    .ok_or_else(|| bad("a set or push without a \"value\"".into()))
            };
            match e["op"].as_str() {
                Some("set") => Ok(DocEdit::Set {
                    path,
                    value: value()?,
                }),
                Some("push") => Ok(DocEdit::Push {
                    path,
                    value: value()?,
                }),
                Some("delete") => Ok(DocEdit::Delete { path }),
                _ => Err(bad("\"op\" must be set, push or delete".into())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
