//! Taking in a shared document's change from the mesh: kept when its author
//! may write, refused and counted (so the user is told) when not.

use super::Batch;
use crate::conversation::ConversationId;
use crate::node::{NodeError, NodeEvent};
use crate::shared_docs::{self, DocHeader};
use pollen_proto::identity::PublicIdentity;

impl Batch<'_> {
    /// A document change opened from an envelope of `conv`: kept when its
    /// author may write, refused and counted (so the user is told) when not.
    pub(crate) fn accept_doc_change(
        &mut self,
        conv: &ConversationId,
        author: &PublicIdentity,
        header: &DocHeader,
        change: &[u8],
    ) -> Result<(), NodeError> {
        let node = self.node;
        let id = header.id();
        let now = node.now();
        node.store.ensure_doc(header, now)?;
        node.store.add_doc_audience(&id, conv)?;
        let held = node.store.doc(&id)?.map_or(0, |r| r.bytes);
        let checked = shared_docs::check_change(header, &author.signing, change)
            .and_then(|hash| shared_docs::check_room(held, change.len()).map(|()| hash))
            .and_then(|hash| {
                let stored = node.store.doc_changes(&id).map_err(|e| {
                    shared_docs::DocError::Automerge(format!("cannot read the document: {e}"))
                })?;
                shared_docs::applies(&stored, change).map(|()| hash)
            });
        let hash = match checked {
            Ok(hash) => hash,
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(doc = %id.to_hex(), %reason, "document change refused");
                node.store.note_doc_refusal(&id, &reason)?;
                node.events.raise(NodeEvent::DocRefused { doc: id, reason });
                return Err(e.into());
            }
        };
        if node.store.has_doc_change(&hash.0)? {
            return Ok(());
        }
        node.store.insert_doc_change(&id, &hash.0, change, now)?;
        node.events.raise(NodeEvent::DocChanged { doc: id });
        Ok(())
    }
}
