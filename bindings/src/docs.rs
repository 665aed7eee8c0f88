//! Shared documents and the needs-and-offers board across the boundary
//! (`pollen_node::shared_docs`, `pollen_app::board`): list, read, create,
//! change and share documents; the board's items, posting and marking done.
//! A change that arrives is announced as `on_conversation_changed` for each
//! conversation the document is shared into, so the screen of that
//! conversation reloads.

use crate::PollenNode;
use crate::error::PollenError;
use crate::node::hex_id;
use pollen_app::board::{self, BoardItem, ItemKind};
use pollen_node::node::{ConversationId, DocInfo};
use pollen_node::shared_docs::{DocEdit, DocError, parse_path};

/// A shared document as a screen lists it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DocSummary {
    /// Its id (hex).
    pub doc_id: String,
    /// What kind of document (`doc`, `board`, an app's own tag).
    pub app: String,
    /// Its title.
    pub title: String,
    /// Who created it, as this phone names them.
    pub creator: String,
    /// This phone may change it.
    pub writable: bool,
    /// Who besides the creator may write.
    pub writers: Vec<String>,
    /// The conversations it is shared into, by name.
    pub shared_with: Vec<String>,
    /// Unix seconds of the last change held.
    pub updated_at: u64,
    /// Changes refused from people who may not write.
    pub refused: u64,
    /// Why the last one was refused.
    pub refused_reason: Option<String>,
    /// The content as JSON text.
    pub content_json: String,
}

impl From<DocInfo> for DocSummary {
    fn from(d: DocInfo) -> Self {
        DocSummary {
            doc_id: d.id,
            app: d.app,
            title: d.title,
            creator: d.creator,
            writable: d.writable,
            writers: d.writers,
            shared_with: d.shared_with,
            updated_at: d.updated_at,
            refused: d.refused,
            refused_reason: d.refused_reason,
            content_json: d.content.to_string(),
        }
    }
}

/// One edit of a shared document; paths are `/`-separated keys and list
/// indices, values JSON text.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum DocEditInfo {
    /// Put the value at the path, creating maps on the way.
    Set {
        /// Where.
        path: String,
        /// What, as JSON.
        json: String,
    },
    /// Append the value to the list at the path.
    Push {
        /// The list.
        path: String,
        /// What, as JSON.
        json: String,
    },
    /// Remove what the path names.
    Delete {
        /// Where.
        path: String,
    },
}

impl TryFrom<DocEditInfo> for DocEdit {
    type Error = PollenError;

    fn try_from(e: DocEditInfo) -> Result<Self, PollenError> {
        let path = |p: &str| -> Result<Vec<String>, PollenError> {
            parse_path(p).map_err(|e| PollenError::InvalidText { why: e.to_string() })
        };
        let value = |j: &str| -> Result<serde_json::Value, PollenError> {
            serde_json::from_str(j).map_err(|e| PollenError::InvalidText {
                why: format!("not JSON: {e}"),
            })
        };
        Ok(match e {
            DocEditInfo::Set { path: p, json } => DocEdit::Set {
                path: path(&p)?,
                value: value(&json)?,
            },
            DocEditInfo::Push { path: p, json } => DocEdit::Push {
                path: path(&p)?,
                value: value(&json)?,
            },
            DocEditInfo::Delete { path: p } => DocEdit::Delete { path: path(&p)? },
        })
    }
}

/// Need or offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum BoardItemKind {
    /// Someone needs this.
    Need,
    /// Someone offers this.
    Offer,
}

/// One item of a board, as drawn.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BoardItemInfo {
    /// Its id (hex).
    pub item_id: String,
    /// Need or offer.
    pub kind: BoardItemKind,
    /// What is needed or offered.
    pub text: String,
    /// Who posted it.
    pub by: String,
    /// Unix seconds when posted.
    pub at: u64,
    /// Marked done.
    pub done: bool,
    /// The line a list shows ("NEED water, 20 l · Ana", "(done)" at the end).
    pub line: String,
}

impl From<BoardItem> for BoardItemInfo {
    fn from(i: BoardItem) -> Self {
        let (kind, word) = match i.kind {
            ItemKind::Need => (BoardItemKind::Need, "NEED"),
            ItemKind::Offer => (BoardItemKind::Offer, "OFFER"),
        };
        let done = if i.done { " (done)" } else { "" };
        BoardItemInfo {
            line: format!("{word} {} · {}{done}", i.text, i.by),
            item_id: i.id,
            kind,
            text: i.text,
            by: i.by,
            at: i.at,
            done: i.done,
        }
    }
}

fn conversation(hex: &str) -> Result<ConversationId, PollenError> {
    hex_id(hex).ok_or_else(|| PollenError::UnknownConversation {
        name: hex.to_owned(),
    })
}

pub(crate) fn edits(list: Vec<DocEditInfo>) -> Result<Vec<DocEdit>, PollenError> {
    if list.is_empty() {
        return Err(pollen_node::NodeError::from(DocError::NoChange).into());
    }
    list.into_iter().map(DocEdit::try_from).collect()
}

#[uniffi::export]
impl PollenNode {
    /// Every shared document, the most recently changed first.
    pub fn docs(&self) -> Result<Vec<DocSummary>, PollenError> {
        self.read(|n| Ok(n.docs()?.into_iter().map(Into::into).collect()))
    }

    /// One document by id (or a unique prefix).
    pub fn doc(&self, doc_id: String) -> Result<DocSummary, PollenError> {
        self.read(move |n| Ok(n.doc(&doc_id)?.into()))
    }

    /// Creates a document shared into the conversation `conversation_id`,
    /// writable by this phone and the contacts `writers`; returns its id.
    pub fn create_doc(
        &self,
        conversation_id: String,
        app: String,
        title: String,
        writers: Vec<String>,
    ) -> Result<String, PollenError> {
        let c = conversation(&conversation_id)?;
        self.write(move |n| Ok(n.create_doc_in(&c, &app, &title, &writers, &[])?.to_hex()))
    }

    /// Makes `edits` as one change, sealed to everyone the document is shared with.
    pub fn change_doc(&self, doc_id: String, edits: Vec<DocEditInfo>) -> Result<(), PollenError> {
        let edits = self::edits(edits)?;
        self.write(move |n| {
            n.edit_doc(&doc_id, &edits)?;
            Ok(())
        })
    }

    /// Shares a document into one more conversation (what it holds so far goes too).
    pub fn share_doc(&self, doc_id: String, conversation_id: String) -> Result<(), PollenError> {
        let c = conversation(&conversation_id)?;
        self.write(move |n| {
            n.share_doc_into(&doc_id, &c)?;
            Ok(())
        })
    }

    /// The boards shared into a conversation (none given: every board).
    pub fn boards(&self, conversation_id: Option<String>) -> Result<Vec<DocSummary>, PollenError> {
        let c = conversation_id.as_deref().map(conversation).transpose()?;
        self.read(move |n| {
            Ok(board::boards(n, c.as_ref())?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Creates a needs-and-offers board in a conversation; returns its id.
    pub fn create_board(
        &self,
        conversation_id: String,
        title: String,
        writers: Vec<String>,
    ) -> Result<String, PollenError> {
        let c = conversation(&conversation_id)?;
        self.write(move |n| Ok(board::create_in(n, &c, &title, &writers)?.to_hex()))
    }

    /// Starts a board in a chat that everyone in it may post to (the
    /// contact, or the group's members who are contacts); returns its id.
    pub fn start_board(
        &self,
        conversation_id: String,
        title: String,
    ) -> Result<String, PollenError> {
        let c = conversation(&conversation_id)?;
        self.write(move |n| Ok(board::start_in_chat(n, &c, &title)?.to_hex()))
    }

    /// A board's items, open ones first, newest first within each.
    pub fn board_items(&self, board_id: String) -> Result<Vec<BoardItemInfo>, PollenError> {
        self.read(move |n| {
            Ok(board::items(n, &board_id)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Posts a need or an offer; returns the item's id.
    pub fn post_to_board(
        &self,
        board_id: String,
        kind: BoardItemKind,
        text: String,
    ) -> Result<String, PollenError> {
        let kind = match kind {
            BoardItemKind::Need => ItemKind::Need,
            BoardItemKind::Offer => ItemKind::Offer,
        };
        self.write(move |n| Ok(board::post(n, &board_id, kind, &text)?))
    }

    /// Marks a board item done.
    pub fn mark_board_item_done(
        &self,
        board_id: String,
        item_id: String,
    ) -> Result<(), PollenError> {
        self.write(move |n| Ok(board::mark_done(n, &board_id, &item_id)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, translate};

    #[test]
    fn a_board_in_a_chat_from_the_app_side() {
        let root = tempfile::tempdir().unwrap();
        let (ana, _chen, chat) = crate::test_support::ana_and_chen_in_a_chat(root.path());
        let board = ana
            .create_board(chat.clone(), "Street".into(), vec![])
            .unwrap();
        let water = ana
            .post_to_board(board.clone(), BoardItemKind::Need, "water, 20 l".into())
            .unwrap();
        ana.post_to_board(board.clone(), BoardItemKind::Offer, "a tent".into())
            .unwrap();
        ana.mark_board_item_done(board.clone(), water[..6].into())
            .unwrap();
        let items = ana.board_items(board.clone()).unwrap();
        let lines: Vec<&str> = items.iter().map(|i| i.line.as_str()).collect();
        assert_eq!(
            lines,
            ["OFFER a tent · Ana", "NEED water, 20 l · Ana (done)"]
        );
        let listed = ana.boards(Some(chat.clone())).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].shared_with, ["Chen"]);
        assert!(listed[0].writable);

        // A plain document, changed by JSON edits; bad input is a typed error.
        let doc = ana
            .create_doc(chat.clone(), "doc".into(), "Plan".into(), vec![])
            .unwrap();
        ana.change_doc(
            doc.clone(),
            vec![
                DocEditInfo::Set {
                    path: "meet/at".into(),
                    json: "\"gate 3\"".into(),
                },
                DocEditInfo::Push {
                    path: "bring".into(),
                    json: "\"water\"".into(),
                },
            ],
        )
        .unwrap();
        let content: serde_json::Value =
            serde_json::from_str(&ana.doc(doc[..8].into()).unwrap().content_json).unwrap();
        assert_eq!(
            content,
            serde_json::json!({"title": "Plan", "meet": {"at": "gate 3"}, "bring": ["water"]})
        );
        let bad = ana.change_doc(
            doc.clone(),
            vec![DocEditInfo::Set {
                path: "x".into(),
                json: "{oops".into(),
            }],
        );
        assert!(
            matches!(bad, Err(PollenError::InvalidText { .. })),
            "{bad:?}"
        );
        assert!(ana.change_doc(doc.clone(), vec![]).is_err());
        assert!(ana.create_board("zz".into(), "x".into(), vec![]).is_err());
        assert_eq!(ana.docs().unwrap().len(), 2);

        // A change announces its conversation, so the chat's screens reload.
        let events = ana
            .read(move |n| {
                let id =
                    pollen_node::shared_docs::DocId(hex::decode(&doc).unwrap().try_into().unwrap());
                translate(
                    n,
                    vec![pollen_node::node::NodeEvent::DocChanged { doc: id }],
                )
                .map_err(Into::into)
            })
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::ConversationChanged(c) if c.id == chat)),
            "{events:?}"
        );
    }
}
