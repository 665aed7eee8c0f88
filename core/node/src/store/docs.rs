//! Shared documents: headers, changes, the conversations each is shared
//! into, and what was refused from non-writers.

use super::{Store, StoreError, blob};
use crate::conversation::ConversationId;
use pollen_proto::shared_doc::{DocHeader, DocId};
use rusqlite::{OptionalExtension, params};

/// A shared document as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRow {
    /// Its id.
    pub id: DocId,
    /// Its signed header (creator, writers, app, title).
    pub header: DocHeader,
    /// Unix seconds of the last change applied here.
    pub updated_at: u64,
    /// Bytes of changes held.
    pub bytes: u64,
    /// Changes refused from people who may not write, and the last reason.
    pub refused: u64,
    /// Why the last one was refused.
    pub refused_reason: Option<String>,
}

impl Store {
    /// Records a document (once; its header never changes).
    pub fn ensure_doc(&self, header: &DocHeader, now: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO docs (id, header, app, title, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &header.id()[..],
                header.encode(),
                header.app,
                header.title,
                now as i64
            ],
        )?;
        Ok(())
    }

    /// Notes that the document is shared into `conversation`.
    pub fn add_doc_audience(
        &self,
        doc: &DocId,
        conversation: &ConversationId,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO doc_audiences (doc, conversation) VALUES (?1, ?2)",
            params![&doc[..], &conversation[..]],
        )?;
        Ok(())
    }

    /// The conversations the document is shared into.
    pub fn doc_audiences(&self, doc: &DocId) -> Result<Vec<ConversationId>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT conversation FROM doc_audiences WHERE doc = ?1")?;
        let rows = st.query_map(params![&doc[..]], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| Ok(ConversationId(blob(r?)?))).collect()
    }

    /// Whether a change with this hash is held.
    pub fn has_doc_change(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM doc_changes WHERE hash = ?1")?
            .exists(params![&hash[..]])?)
    }

    /// Keeps a change and counts its bytes against the document.
    pub fn insert_doc_change(
        &self,
        doc: &DocId,
        hash: &[u8; 32],
        bytes: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO doc_changes (hash, doc, bytes) VALUES (?1, ?2, ?3)",
            params![&hash[..], &doc[..], bytes],
        )?;
        if added > 0 {
            self.conn().execute(
                "UPDATE docs SET bytes = bytes + ?2, updated_at = MAX(updated_at, ?3) WHERE id = ?1",
                params![&doc[..], bytes.len() as i64, now as i64],
            )?;
        }
        Ok(())
    }

    /// Every change of a document.
    pub fn doc_changes(&self, doc: &DocId) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT bytes FROM doc_changes WHERE doc = ?1 ORDER BY rowid")?;
        let rows = st.query_map(params![&doc[..]], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts a change refused from someone who may not write.
    pub fn note_doc_refusal(&self, doc: &DocId, reason: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE docs SET refused = refused + 1, refused_reason = ?2 WHERE id = ?1",
            params![&doc[..], reason],
        )?;
        Ok(())
    }

    /// One document.
    pub fn doc(&self, id: &DocId) -> Result<Option<DocRow>, StoreError> {
        self.conn()
            .query_row(
                "SELECT header, updated_at, bytes, refused, refused_reason FROM docs WHERE id = ?1",
                params![&id[..]],
                raw_doc,
            )
            .optional()?
            .map(doc_row)
            .transpose()
    }

    /// Every document, the most recently changed first.
    pub fn docs(&self) -> Result<Vec<DocRow>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT header, updated_at, bytes, refused, refused_reason FROM docs ORDER BY updated_at DESC, title",
        )?;
        let rows = st.query_map([], raw_doc)?;
        rows.map(|r| doc_row(r?)).collect()
    }
}

type RawDoc = (Vec<u8>, i64, i64, i64, Option<String>);

/// A `docs` row as selected by [`Store::doc`] and [`Store::docs`].
fn raw_doc(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDoc> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn doc_row(
    (header, updated_at, bytes, refused, refused_reason): RawDoc,
) -> Result<DocRow, StoreError> {
    let header = DocHeader::decode(&header)
        .map_err(|e| StoreError::Corrupt(format!("stored document header: {e}")))?;
    Ok(DocRow {
        id: header.id(),
        header,
        updated_at: updated_at as u64,
        bytes: bytes as u64,
        refused: refused as u64,
        refused_reason,
    })
}
