//! The chat screen's send button: what the field holds goes out as an edit,
//! a reply or a new message. The rule both a screen's state and its button
//! would otherwise spell: an edit wins over a reply (the field was filled
//! with the message being edited), and a new message goes to the chat by id
//! (a name may stand for a contact and a group at once).

use crate::error::PollenError;
use crate::node::PollenNode;
use crate::records::SentInfo;

#[uniffi::export]
impl PollenNode {
    /// Sends `text` from the chat `conversation_id`: as the new text of
    /// `edit_of` (one of this node's messages) if given, else as a reply to
    /// `reply_to` if given, else as a new message in the chat.
    pub fn send_draft(
        &self,
        conversation_id: String,
        text: String,
        reply_to: Option<String>,
        edit_of: Option<String>,
    ) -> Result<SentInfo, PollenError> {
        match (edit_of, reply_to) {
            (Some(message), _) => self.edit(message, text),
            (None, Some(message)) => self.reply(message, text),
            (None, None) => self.send_in(conversation_id, text),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::app::TimelineEntry;
    use crate::node::PollenNode;

    #[test]
    fn an_edit_wins_over_a_reply_and_a_plain_draft_is_a_new_message() {
        let dir = tempfile::tempdir().unwrap();
        let node =
            PollenNode::create(dir.path().to_string_lossy().into_owned(), "Ann".into()).unwrap();
        let chat = node.join_channel("#square".into()).unwrap().id;
        let first = node
            .send_draft(chat.clone(), "hello".into(), None, None)
            .unwrap()
            .message_id;
        let answer = node
            .send_draft(chat.clone(), "again".into(), Some(first.clone()), None)
            .unwrap()
            .message_id;
        node.send_draft(
            chat.clone(),
            "hello all".into(),
            Some(answer.clone()),
            Some(first.clone()),
        )
        .unwrap();
        let messages: Vec<(String, Option<String>, bool)> = node
            .timeline(chat, 10, None, 0)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                TimelineEntry::Message { message: m } => Some((m.text, m.reply_to, m.edited)),
                TimelineEntry::Day { .. } => None,
            })
            .collect();
        assert_eq!(
            messages,
            [
                ("hello all".to_owned(), None, true),
                ("again".to_owned(), Some(first), false)
            ]
        );
        node.shutdown();
    }
}
