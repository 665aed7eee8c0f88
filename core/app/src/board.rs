//! The needs-and-offers board: a shared document (app tag `board`) that a
//! village, a festival crew or a street keeps together. Items live in a map
//! under `items`, keyed by a random id, so that two people posting at once
//! never collide; each holds `kind` (need or offer), `text`, `by` (the
//! poster's name), `at` (Unix seconds) and `status` (open or done).

use crate::AppError;
use pollen_node::Node;
use pollen_node::node::{ConversationId, DocInfo};
use pollen_node::shared_docs::{DocEdit, DocId};
use pollen_node::store::ConversationKind;
use serde_json::{Value, json};

/// The app tag of a board.
pub const BOARD_APP: &str = "board";
/// Longest item text.
pub const MAX_ITEM_BYTES: usize = 500;

/// Whether an item asks for something or offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// Someone needs this.
    Need,
    /// Someone offers this.
    Offer,
}

impl ItemKind {
    /// Parses `need` or `offer` (any letter case).
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "need" | "needs" => Some(ItemKind::Need),
            "offer" | "offers" => Some(ItemKind::Offer),
            _ => None,
        }
    }
}

/// One item as a board screen draws it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BoardItem {
    /// Its id (hex).
    pub id: String,
    /// Need or offer.
    pub kind: ItemKind,
    /// What is needed or offered.
    pub text: String,
    /// Who posted it (their name when they posted).
    pub by: String,
    /// Unix seconds when posted.
    pub at: u64,
    /// Whether it was marked done.
    pub done: bool,
}

/// Creates a board shared into the conversation `to`, writable by `writers`.
pub fn create(node: &Node, to: &str, title: &str, writers: &[String]) -> Result<DocId, AppError> {
    Ok(node.create_doc(to, BOARD_APP, title, writers, &[])?)
}

/// [`create`] by conversation id, with explicit writers.
pub fn create_in(
    node: &Node,
    conversation: &ConversationId,
    title: &str,
    writers: &[String],
) -> Result<DocId, AppError> {
    Ok(node.create_doc_in(conversation, BOARD_APP, title, writers, &[])?)
}

/// Starts a board in a chat that everyone in it may post to: the contact
/// of a direct chat, every member of a group who is a contact here. In a
/// public channel only its creator posts (anyone may read a channel, and
/// a channel has no member list to grant).
pub fn start_in_chat(
    node: &Node,
    conversation: &ConversationId,
    title: &str,
) -> Result<DocId, AppError> {
    let conv = node
        .conversation(conversation)?
        .ok_or_else(|| AppError::UnknownConversation(conversation.to_hex()))?;
    let me = node.public().signing;
    let keys = match conv.kind {
        ConversationKind::Direct => conv.peer.into_iter().collect(),
        ConversationKind::Group => node
            .store()
            .group(conversation)?
            .map(|g| g.members.into_iter().map(|m| m.identity.signing).collect())
            .unwrap_or_default(),
        ConversationKind::Channel => Vec::new(),
    };
    let mut writers = Vec::new();
    for k in keys.into_iter().filter(|k| *k != me) {
        if let Some(c) = node.store().contact_by_key(&k)? {
            writers.push(c.alias);
        }
    }
    create_in(node, conversation, title, &writers)
}

/// The boards shared into a conversation, the most recently changed first
/// (`None`: every board).
pub fn boards(
    node: &Node,
    conversation: Option<&ConversationId>,
) -> Result<Vec<DocInfo>, AppError> {
    let hex = conversation.map(ConversationId::to_hex);
    Ok(node
        .docs()?
        .into_iter()
        .filter(|d| d.app == BOARD_APP)
        .filter(|d| hex.as_ref().is_none_or(|h| d.conversation_ids.contains(h)))
        .collect())
}

/// Posts a need or an offer; returns the item's id.
pub fn post(node: &Node, board: &str, kind: ItemKind, text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_ITEM_BYTES {
        return Err(AppError::BadItem(format!(
            "an item's text must be 1 to {MAX_ITEM_BYTES} bytes"
        )));
    }
    let mut id = [0u8; 8];
    pollen_proto::random::fill(&mut id).map_err(|e| AppError::BadItem(e.to_string()))?;
    let id = hex::encode(id);
    let item = json!({
        "kind": kind,
        "text": text,
        "by": node.identity().name(),
        "at": node.now(),
        "status": "open",
    });
    node.edit_doc(
        board,
        &[DocEdit::Set {
            path: vec!["items".into(), id.clone()],
            value: item,
        }],
    )?;
    Ok(id)
}

/// Marks an item (by id or unique prefix) done.
pub fn mark_done(node: &Node, board: &str, item: &str) -> Result<(), AppError> {
    let items = items(node, board)?;
    let mut hits = items.iter().filter(|i| i.id.starts_with(item.trim()));
    let (Some(hit), None) = (hits.next(), hits.next()) else {
        return Err(AppError::BadItem(format!(
            "no single item with id {item:?} on this board"
        )));
    };
    node.edit_doc(
        board,
        &[DocEdit::Set {
            path: vec!["items".into(), hit.id.clone(), "status".into()],
            value: json!("done"),
        }],
    )?;
    Ok(())
}

/// The board's items: open ones first, newest first within each. Items
/// another app wrote in another shape are skipped, not fatal.
pub fn items(node: &Node, board: &str) -> Result<Vec<BoardItem>, AppError> {
    let doc = node.doc(board)?;
    if doc.app != BOARD_APP {
        return Err(AppError::BadItem(format!(
            "{} is a {:?} document, not a board",
            doc.title, doc.app
        )));
    }
    let mut out: Vec<BoardItem> = doc.content["items"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, v)| item(id, v))
        .collect();
    out.sort_by(|a, b| {
        a.done
            .cmp(&b.done)
            .then(b.at.cmp(&a.at))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

fn item(id: &str, v: &Value) -> Option<BoardItem> {
    Some(BoardItem {
        id: id.to_owned(),
        kind: ItemKind::parse(v["kind"].as_str()?)?,
        text: v["text"].as_str()?.to_owned(),
        by: v["by"].as_str().unwrap_or("?").to_owned(),
        at: v["at"].as_u64().unwrap_or(0),
        done: v["status"].as_str() == Some("done"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_node::node::SystemClock;

    #[test]
    fn post_list_and_mark_done() {
        let root = tempfile::tempdir().unwrap();
        let ana = Node::init(&root.path().join("a"), "Ana", Box::new(SystemClock)).unwrap();
        let chen = Node::init(&root.path().join("c"), "Chen", Box::new(SystemClock)).unwrap();
        ana.add_contact(&chen.card(), None).unwrap();
        let board = create(&ana, "Chen", "Street", &[]).unwrap().to_hex();
        let chat = ana.resolve_conversation("Chen").unwrap().id;
        let listed = boards(&ana, Some(&chat)).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, board);
        assert!(
            boards(&ana, Some(&ConversationId([9; 16])))
                .unwrap()
                .is_empty()
        );
        let water = post(&ana, &board, ItemKind::Need, "water, 20 l").unwrap();
        post(&ana, &board, ItemKind::Offer, "a tent").unwrap();
        mark_done(&ana, &board, &water[..6]).unwrap();
        let list = items(&ana, &board).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].text, "a tent");
        assert!(!list[0].done && list[1].done);
        assert_eq!(list[1].kind, ItemKind::Need);
        assert_eq!(list[1].by, "Ana");
        assert!(post(&ana, &board, ItemKind::Need, " ").is_err());
        assert!(mark_done(&ana, &board, "zzzz").is_err());
        let doc = ana
            .create_doc("Chen", "doc", "Not a board", &[], &[])
            .unwrap();
        assert!(items(&ana, &doc.to_hex()).is_err());
        assert_eq!(ItemKind::parse("OFFER"), Some(ItemKind::Offer));

        // Started from a chat: everyone in it may post.
        let started = start_in_chat(&ana, &chat, "Ours").unwrap().to_hex();
        assert_eq!(ana.doc(&started).unwrap().writers, ["Chen"]);
        ana.add_contact(
            &Node::init(&root.path().join("d"), "Dee", Box::new(SystemClock))
                .unwrap()
                .card(),
            None,
        )
        .unwrap();
        let crew = ana
            .create_group("crew", &["Chen".into(), "Dee".into()])
            .unwrap();
        let in_group = start_in_chat(&ana, &crew.id, "Crew").unwrap().to_hex();
        assert_eq!(ana.doc(&in_group).unwrap().writers.len(), 2);
        let channel = ana.join_channel("street").unwrap();
        let open = start_in_chat(&ana, &channel.id, "Street").unwrap().to_hex();
        assert!(ana.doc(&open).unwrap().writers.is_empty());
    }
}
