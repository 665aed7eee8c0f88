//! Shared documents at the node: create one for a contact, group or channel,
//! change it, share it into another conversation, read it, and take in
//! changes from the mesh (`ingest::doc_change`).

use super::{ConversationId, Node, NodeError, NodeEvent};
use crate::shared_docs::{self, DocEdit, DocError, DocHeader, DocId};
use crate::store::{ConversationRow, DocRow};
use pollen_proto::identity::ContactKey;
use pollen_proto::payload::Payload;

/// A shared document as an app shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DocInfo {
    /// Its id (hex).
    pub id: String,
    /// What kind of document (`doc`, `board`, an app's own tag).
    pub app: String,
    /// Its title.
    pub title: String,
    /// The creator's name as this node knows them (alias, or a fingerprint prefix).
    pub creator: String,
    /// Whether this node may change it.
    pub writable: bool,
    /// Who besides the creator may write (aliases or fingerprint prefixes).
    pub writers: Vec<String>,
    /// The conversations it is shared into, by name.
    pub shared_with: Vec<String>,
    /// The same conversations, by id (hex).
    pub conversation_ids: Vec<String>,
    /// Unix seconds of the last change here.
    pub updated_at: u64,
    /// Changes refused from people who may not write.
    pub refused: u64,
    /// Why the last one was refused.
    pub refused_reason: Option<String>,
    /// The document's content.
    pub content: serde_json::Value,
}

impl Node {
    /// Creates a document shared into the conversation named `to` (a
    /// contact, group or `#channel`), writable by this node and `writers`
    /// (contact aliases). `app` says what kind of document it is.
    pub fn create_doc(
        &self,
        to: &str,
        app: &str,
        title: &str,
        writers: &[String],
        initial: &[DocEdit],
    ) -> Result<DocId, NodeError> {
        let conv = self.resolve_conversation(to)?;
        self.create_doc_for(&conv, app, title, writers, initial)
    }

    /// [`Node::create_doc`] by conversation id, never ambiguous: what an
    /// app's screen of one conversation calls.
    pub fn create_doc_in(
        &self,
        conversation: &ConversationId,
        app: &str,
        title: &str,
        writers: &[String],
        initial: &[DocEdit],
    ) -> Result<DocId, NodeError> {
        let conv = self.conversation_row(conversation)?;
        self.create_doc_for(&conv, app, title, writers, initial)
    }

    fn create_doc_for(
        &self,
        conv: &ConversationRow,
        app: &str,
        title: &str,
        writers: &[String],
        initial: &[DocEdit],
    ) -> Result<DocId, NodeError> {
        let keys = writers
            .iter()
            .map(|w| Ok(self.contact(w)?.identity.signing))
            .collect::<Result<Vec<ContactKey>, NodeError>>()?;
        let mut nonce = [0u8; 16];
        pollen_proto::random::fill(&mut nonce).map_err(|e| DocError::Random(e.to_string()))?;
        let header = DocHeader::new(&self.me, nonce, app, title, &keys).map_err(DocError::from)?;
        let id = header.id();
        let mut edits = vec![DocEdit::Set {
            path: vec!["title".into()],
            value: serde_json::Value::String(header.title.clone()),
        }];
        edits.extend_from_slice(initial);
        self.transaction(|s| {
            s.ensure_doc(&header, self.now())?;
            s.add_doc_audience(&id, &conv.id)?;
            self.write_doc(&header, &edits)
        })?;
        Ok(id)
    }

    fn conversation_row(&self, id: &ConversationId) -> Result<ConversationRow, NodeError> {
        self.store
            .conversation(id)?
            .ok_or_else(|| NodeError::UnknownConversation(id.to_hex()))
    }

    /// Makes `edits` as one change and seals it into every conversation the
    /// document is shared into.
    pub fn edit_doc(&self, doc: &str, edits: &[DocEdit]) -> Result<DocId, NodeError> {
        let row = self.find_doc(doc)?;
        self.transaction(|_| self.write_doc(&row.header, edits))?;
        Ok(row.id)
    }

    /// Shares the document into another conversation: its changes so far are
    /// sealed there too, and later changes go there as well.
    pub fn share_doc(&self, doc: &str, to: &str) -> Result<DocId, NodeError> {
        let conv = self.resolve_conversation(to)?;
        self.share_doc_into(doc, &conv.id)
    }

    /// [`Node::share_doc`] by conversation id.
    pub fn share_doc_into(
        &self,
        doc: &str,
        conversation: &ConversationId,
    ) -> Result<DocId, NodeError> {
        let row = self.find_doc(doc)?;
        let conv = self.conversation_row(conversation)?;
        self.transaction(|s| {
            s.add_doc_audience(&row.id, &conv.id)?;
            for change in s.doc_changes(&row.id)? {
                self.seal_doc_change(&row.header, &change, &conv)?;
            }
            Ok(())
        })?;
        Ok(row.id)
    }

    /// Every shared document, the most recently changed first.
    pub fn docs(&self) -> Result<Vec<DocInfo>, NodeError> {
        self.store
            .docs()?
            .into_iter()
            .map(|row| self.doc_info(row))
            .collect()
    }

    /// One document, by id or unique id prefix.
    pub fn doc(&self, doc: &str) -> Result<DocInfo, NodeError> {
        let row = self.find_doc(doc)?;
        self.doc_info(row)
    }

    fn find_doc(&self, prefix: &str) -> Result<DocRow, NodeError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 4 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NodeError::UnknownDoc(prefix.to_owned()));
        }
        let mut hits: Vec<DocRow> = self
            .store
            .docs()?
            .into_iter()
            .filter(|d| d.id.to_hex().starts_with(&p))
            .collect();
        match hits.len() {
            0 => Err(NodeError::UnknownDoc(prefix.to_owned())),
            1 => Ok(hits.remove(0)),
            _ => Err(NodeError::AmbiguousDoc(prefix.to_owned())),
        }
    }

    fn doc_info(&self, row: DocRow) -> Result<DocInfo, NodeError> {
        let changes = self.store.doc_changes(&row.id)?;
        let content = shared_docs::to_json(&shared_docs::load(&changes)?);
        let name = |k: &ContactKey| -> Result<String, NodeError> {
            if *k == self.public.signing {
                return Ok(self.me.name().to_owned());
            }
            Ok(match self.store.contact_by_key(k)? {
                Some(c) => c.alias,
                None => hex::encode(&k.0[..4]),
            })
        };
        let mut shared_with = Vec::new();
        let mut conversation_ids = Vec::new();
        for c in self.store.doc_audiences(&row.id)? {
            if let Some(conv) = self.store.conversation(&c)? {
                shared_with.push(conv.name);
                conversation_ids.push(c.to_hex());
            }
        }
        Ok(DocInfo {
            id: row.id.to_hex(),
            app: row.header.app.clone(),
            title: row.header.title.clone(),
            creator: name(&row.header.creator.signing)?,
            writable: row.header.may_write(&self.public.signing),
            writers: row
                .header
                .writers
                .iter()
                .map(name)
                .collect::<Result<_, _>>()?,
            shared_with,
            conversation_ids,
            updated_at: row.updated_at,
            refused: row.refused,
            refused_reason: row.refused_reason,
            content,
        })
    }

    /// Builds, keeps and seals one change (inside a transaction).
    fn write_doc(&self, header: &DocHeader, edits: &[DocEdit]) -> Result<(), NodeError> {
        if !header.may_write(&self.public.signing) {
            return Err(DocError::NotWriter(self.me.name().to_owned()).into());
        }
        let id = header.id();
        let base = self.store.doc_changes(&id)?;
        let (hash, bytes) =
            shared_docs::build_change(&self.public.signing, &base, edits, self.clock.now_ms())?;
        let held = self.store.doc(&id)?.map_or(0, |r| r.bytes);
        shared_docs::check_room(held, bytes.len())?;
        self.store
            .insert_doc_change(&id, &hash.0, &bytes, self.now())?;
        for c in self.store.doc_audiences(&id)? {
            if let Some(conv) = self.store.conversation(&c)? {
                self.seal_doc_change(header, &bytes, &conv)?;
            }
        }
        self.events.raise(NodeEvent::DocChanged { doc: id });
        Ok(())
    }

    fn seal_doc_change(
        &self,
        header: &DocHeader,
        change: &[u8],
        conv: &ConversationRow,
    ) -> Result<(), NodeError> {
        let payload = Payload::DocChange {
            header: header.clone(),
            change: change.to_vec(),
        };
        self.seal_for(conv, &payload.encode(), self.now())?;
        Ok(())
    }
}
