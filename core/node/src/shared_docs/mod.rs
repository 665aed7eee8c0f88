//! Shared documents: any Automerge document, changed by the writers its
//! signed header lists (`pollen_proto::shared_doc`), read by everyone it is
//! shared with. This module is the document itself: checking a change from
//! the mesh, building one from edits, and reading it as JSON. Storage and
//! sealing are the node's (its `docs` module).

mod edit;
mod json;

pub use edit::{DocEdit, parse_path};
pub use json::to_json;
pub use pollen_proto::shared_doc::{DocHeader, DocId};

use crate::conversation::{ACTOR_LEN, ChangeHash, MAX_CHANGE_BYTES, MAX_DEPS, bounds};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, Change};
use pollen_proto::identity::ContactKey;
use thiserror::Error;

/// Most bytes of changes one document may hold: a document is read whole,
/// and a writer should not be able to fill a reader's phone through it.
pub const MAX_DOC_BYTES: usize = 2 * 1024 * 1024;

/// Why a document change was refused or could not be made.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DocError {
    /// The author is not the creator and not in the header's writers.
    #[error("{0} may not write to this document")]
    NotWriter(String),
    /// Automerge refused the bytes or the edit.
    #[error("invalid document change: {0}")]
    Automerge(String),
    /// The change does not have Pollen's actor shape (author key + 8 bytes,
    /// first change of its actor) or was not written by the envelope's author.
    #[error("document change has a malformed actor or another author")]
    BadActor,
    /// Larger than one change or one document may be.
    #[error("document change is too large: {0}")]
    TooLarge(String),
    /// Declares more dependencies than allowed.
    #[error("document change declares {0} dependencies, more than {MAX_DEPS}")]
    TooManyDeps(usize),
    /// An edit's path does not name something that can take it.
    #[error("bad path {0:?}: {1}")]
    BadPath(String, &'static str),
    /// The edits change nothing.
    #[error("nothing to change")]
    NoChange,
    /// The OS random generator failed.
    #[error("random generator failed: {0}")]
    Random(String),
    /// The header could not be made (title, writers).
    #[error(transparent)]
    Header(#[from] pollen_proto::shared_doc::DocHeaderError),
}

pub(crate) fn am(e: impl std::fmt::Display) -> DocError {
    DocError::Automerge(e.to_string())
}

/// Checks an untrusted change for `header`'s document claimed by `author`
/// (who signed the envelope): the author may write, the change's actor is
/// the author's, and Automerge's and Pollen's size caps hold. Any operation
/// is allowed: the document's shape is its app's.
pub fn check_change(
    header: &DocHeader,
    author: &ContactKey,
    bytes: &[u8],
) -> Result<ChangeHash, DocError> {
    if !header.may_write(author) {
        return Err(DocError::NotWriter(hex::encode(&author.0[..4])));
    }
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(DocError::TooLarge(format!("{} bytes", bytes.len())));
    }
    bounds::check_bounds(bytes).map_err(|e| DocError::TooLarge(e.to_string()))?;
    let change = crate::conversation::parse_change(bytes).map_err(am)?;
    let actor = change.actor_id().to_bytes();
    if actor.len() != ACTOR_LEN || change.seq() != 1 || actor[..32] != author.0 {
        return Err(DocError::BadActor);
    }
    if change.deps().len() > MAX_DEPS {
        return Err(DocError::TooManyDeps(change.deps().len()));
    }
    Ok(change.hash())
}

/// Refuses a change that would take a document holding `held` bytes of
/// changes over [`MAX_DOC_BYTES`].
pub fn check_room(held: u64, adding: usize) -> Result<(), DocError> {
    let total = held.saturating_add(adding as u64);
    if total > MAX_DOC_BYTES as u64 {
        return Err(DocError::TooLarge(format!(
            "the document would hold {total} bytes, more than {MAX_DOC_BYTES}"
        )));
    }
    Ok(())
}

/// A document built from its stored changes (in any order; changes whose
/// dependencies are missing wait inside Automerge). Automerge 0.12 panics
/// on some changes that parse but name objects their dependencies never
/// made (found by the `doc_change` fuzz target): such a panic is caught,
/// and the document is then rebuilt change by change, leaving out every
/// change Automerge cannot apply, so that one bad change cannot make a
/// document unreadable or take the app down.
pub fn load(changes: &[Vec<u8>]) -> Result<AutoCommit, DocError> {
    match caught(|| load_all(changes)) {
        Some(result) => result,
        None => {
            tracing::warn!("a document change made Automerge panic; rebuilding without it");
            load_skipping(changes)
        }
    }
}

/// Whether `change` can join the `held` changes: Automerge applies them all
/// without an error or a panic. What ingest asks before keeping a change.
pub fn applies(held: &[Vec<u8>], change: &[u8]) -> Result<(), DocError> {
    let mut all = held.to_vec();
    all.push(change.to_vec());
    match caught(|| load_all(&all)) {
        Some(result) => result.map(|_| ()),
        None => Err(DocError::Automerge("Automerge cannot apply it".into())),
    }
}

/// Runs `f`, turning a panic into `None`.
fn caught<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

fn load_all(changes: &[Vec<u8>]) -> Result<AutoCommit, DocError> {
    let mut doc = AutoCommit::new();
    let parsed = changes
        .iter()
        .map(|b| Change::from_bytes(b.clone()).map_err(am))
        .collect::<Result<Vec<_>, _>>()?;
    doc.apply_changes(parsed).map_err(am)?;
    Ok(doc)
}

/// One change at a time; a change that errors or panics is left out (a
/// panic leaves the document in doubt, so it is rebuilt from those kept).
fn load_skipping(changes: &[Vec<u8>]) -> Result<AutoCommit, DocError> {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut doc = AutoCommit::new();
    for bytes in changes {
        let Ok(change) = crate::conversation::parse_change(bytes) else {
            continue;
        };
        match caught(|| doc.apply_changes([change])) {
            Some(Ok(())) => kept.push(bytes.clone()),
            Some(Err(_)) => {}
            None => {
                doc = caught(|| load_all(&kept))
                    .unwrap_or_else(|| Err(DocError::Automerge("unreadable".into())))?;
            }
        }
    }
    Ok(doc)
}

/// Builds the one change that makes `edits` on top of `base` (the changes
/// held), written by `author` at `now_ms`.
pub fn build_change(
    author: &ContactKey,
    base: &[Vec<u8>],
    edits: &[DocEdit],
    now_ms: u64,
) -> Result<(ChangeHash, Vec<u8>), DocError> {
    let mut doc = load(base)?;
    let mut actor = [0u8; ACTOR_LEN];
    actor[..32].copy_from_slice(&author.0);
    pollen_proto::random::fill(&mut actor[32..]).map_err(|e| DocError::Random(e.to_string()))?;
    doc.set_actor(ActorId::from(&actor[..]));
    for e in edits {
        edit::apply(&mut doc, e)?;
    }
    doc.commit_with(CommitOptions::default().with_time(now_ms.min(i64::MAX as u64) as i64));
    let mut change = doc.get_last_local_change().ok_or(DocError::NoChange)?;
    let bytes = change.bytes().into_owned();
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(DocError::TooLarge(format!(
            "{} bytes in one change; make smaller edits",
            bytes.len()
        )));
    }
    Ok((change.hash(), bytes))
}

#[cfg(test)]
mod tests;
