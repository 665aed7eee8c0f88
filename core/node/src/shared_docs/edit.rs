//! Edits a person or an app makes to a shared document, by path: set a
//! value (JSON, turned into Automerge maps, lists and scalars), delete one,
//! or append to a list. Paths are `/`-separated keys and list indices.

use super::{DocError, am};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde_json::Value as Json;

/// One edit of a shared document.
#[derive(Clone, Debug, PartialEq)]
pub enum DocEdit {
    /// Puts `value` at `path`, creating the maps on the way.
    Set {
        /// Where (see [`parse_path`]).
        path: Vec<String>,
        /// What.
        value: Json,
    },
    /// Removes what `path` names.
    Delete {
        /// Where.
        path: Vec<String>,
    },
    /// Appends `value` to the list at `path` (created if missing).
    Push {
        /// The list.
        path: Vec<String>,
        /// What.
        value: Json,
    },
}

/// Splits `a/b/0` into its parts; refuses an empty path or part.
pub fn parse_path(path: &str) -> Result<Vec<String>, DocError> {
    let parts: Vec<String> = path
        .trim()
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.iter().any(String::is_empty) {
        return Err(DocError::BadPath(path.to_owned(), "empty part"));
    }
    Ok(parts)
}

pub(super) fn apply(doc: &mut AutoCommit, edit: &DocEdit) -> Result<(), DocError> {
    match edit {
        DocEdit::Set { path, value } => {
            let (parent, last) = parent(doc, path, true)?;
            let slot = target(doc, &parent, last, path)?;
            put(doc, &parent, slot, value)
        }
        DocEdit::Delete { path } => {
            let (parent, last) = parent(doc, path, false)?;
            match target(doc, &parent, last, path)? {
                Slot::Key(k) => {
                    if doc.get(&parent, k).map_err(am)?.is_none() {
                        return Err(DocError::BadPath(path.join("/"), "nothing there"));
                    }
                    doc.delete(&parent, k).map_err(am)
                }
                Slot::Index(i) => doc.delete(&parent, i).map_err(am),
            }
        }
        DocEdit::Push { path, value } => {
            let (parent, last) = parent(doc, path, true)?;
            let list = match doc.get(&parent, last.as_str()).map_err(am)? {
                Some((Value::Object(ObjType::List), id)) => id,
                None => doc
                    .put_object(&parent, last.as_str(), ObjType::List)
                    .map_err(am)?,
                Some(_) => return Err(DocError::BadPath(path.join("/"), "not a list")),
            };
            let at = doc.length(&list);
            insert(doc, &list, at, value)
        }
    }
}

enum Slot<'a> {
    Key(&'a str),
    Index(usize),
}

/// What the last part names inside `parent`: a map key or a list index.
fn target<'a>(
    doc: &AutoCommit,
    parent: &ObjId,
    last: &'a str,
    path: &[String],
) -> Result<Slot<'a>, DocError> {
    match doc.object_type(parent).map_err(am)? {
        ObjType::Map | ObjType::Table => Ok(Slot::Key(last)),
        ObjType::List => match last.parse::<usize>() {
            Ok(i) if i < doc.length(parent) => Ok(Slot::Index(i)),
            _ => Err(DocError::BadPath(path.join("/"), "no such list index")),
        },
        ObjType::Text => Err(DocError::BadPath(path.join("/"), "inside a text")),
    }
}

/// The object holding the path's last part, creating maps on the way when
/// `create` (a set or push into a new place).
fn parent<'p>(
    doc: &mut AutoCommit,
    path: &'p [String],
    create: bool,
) -> Result<(ObjId, &'p String), DocError> {
    let Some((last, walk)) = path.split_last() else {
        return Err(DocError::BadPath(String::new(), "empty"));
    };
    let mut obj = ROOT;
    for part in walk {
        let here = match doc.object_type(&obj).map_err(am)? {
            ObjType::List => {
                let i = part
                    .parse::<usize>()
                    .map_err(|_| DocError::BadPath(path.join("/"), "a list needs an index"))?;
                doc.get(&obj, i).map_err(am)?
            }
            _ => doc.get(&obj, part.as_str()).map_err(am)?,
        };
        obj = match here {
            Some((Value::Object(_), id)) => id,
            None if create && doc.object_type(&obj).map_err(am)? != ObjType::List => doc
                .put_object(&obj, part.as_str(), ObjType::Map)
                .map_err(am)?,
            _ => return Err(DocError::BadPath(path.join("/"), "not a map or list")),
        };
    }
    Ok((obj, last))
}

fn put(doc: &mut AutoCommit, obj: &ObjId, at: Slot<'_>, value: &Json) -> Result<(), DocError> {
    let kind = match value {
        Json::Object(_) => Some(ObjType::Map),
        Json::Array(_) => Some(ObjType::List),
        _ => None,
    };
    let Some(kind) = kind else {
        let v = scalar(value);
        return match at {
            Slot::Key(k) => doc.put(obj, k, v),
            Slot::Index(i) => doc.put(obj, i, v),
        }
        .map_err(am);
    };
    let child = match at {
        Slot::Key(k) => doc.put_object(obj, k, kind),
        Slot::Index(i) => doc.put_object(obj, i, kind),
    }
    .map_err(am)?;
    fill(doc, &child, value)
}

fn insert(doc: &mut AutoCommit, list: &ObjId, at: usize, value: &Json) -> Result<(), DocError> {
    match value {
        Json::Object(_) | Json::Array(_) => {
            let kind = if value.is_object() {
                ObjType::Map
            } else {
                ObjType::List
            };
            let child = doc.insert_object(list, at, kind).map_err(am)?;
            fill(doc, &child, value)
        }
        _ => doc.insert(list, at, scalar(value)).map_err(am),
    }
}

fn fill(doc: &mut AutoCommit, obj: &ObjId, value: &Json) -> Result<(), DocError> {
    match value {
        Json::Object(m) => {
            for (k, v) in m {
                put(doc, obj, Slot::Key(k), v)?;
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                insert(doc, obj, i, v)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn scalar(value: &Json) -> ScalarValue {
    match value {
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(u)) => ScalarValue::Uint(u),
            _ => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        _ => ScalarValue::Null,
    }
}
