//! Writing to conversations: every user action becomes one Automerge change,
//! applied locally at once and sealed into an envelope for the others.

use super::ingest::Batch;
use super::{Node, NodeError};
use crate::admission::MAX_HOPS;
use crate::conversation::{self, MessageId, Op};
use crate::routing;
use crate::store::{ConversationKind, ConversationRow, EnvelopeClass, EnvelopeRecord};
use pollen_proto::envelope::{self, Draft, EnvelopeId, Recipient};
use pollen_proto::payload::Payload;

/// What a send produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The message the action was about.
    pub message: MessageId,
    /// The conversation it went to.
    pub conversation: String,
    /// The envelope that carries it.
    pub envelope: EnvelopeId,
}

impl Node {
    /// Sends a text to a contact, group or channel, by conversation name.
    pub fn send(&self, to: &str, text: &str) -> Result<Sent, NodeError> {
        let conv = self.resolve_conversation(to)?;
        self.post(&conv, text, None)
    }

    /// Sends a text into the conversation with this id: what an app whose
    /// screen shows one conversation uses, since two conversations may share
    /// a name (a contact and a group, a look-alike channel).
    pub fn send_in(
        &self,
        conversation: &super::ConversationId,
        text: &str,
    ) -> Result<Sent, NodeError> {
        let conv = self
            .store
            .conversation(conversation)?
            .ok_or_else(|| NodeError::UnknownConversation(conversation.to_hex()))?;
        self.post(&conv, text, None)
    }

    /// Sends a direct message to the contact with this alias.
    pub fn send_direct(&self, alias: &str, text: &str) -> Result<Sent, NodeError> {
        let c = self.contact(alias)?;
        let conv = self.direct_conversation(&c.identity, &c.alias)?;
        self.post(&conv, text, None)
    }

    /// Sends to the group with this name.
    pub fn send_group(&self, name: &str, text: &str) -> Result<Sent, NodeError> {
        let conv = self.named_of_kind(name, ConversationKind::Group)?;
        self.post(&conv, text, None)
    }

    /// Sends to a joined public channel.
    pub fn send_channel(&self, name: &str, text: &str) -> Result<Sent, NodeError> {
        let name = format!("#{}", name.trim().trim_start_matches('#'));
        let conv = self.named_of_kind(&name, ConversationKind::Channel)?;
        self.post(&conv, text, None)
    }

    /// Replies to a message (by id or unique id prefix) in its conversation.
    pub fn reply(&self, to_message: &str, text: &str) -> Result<Sent, NodeError> {
        let (conv, id) = self.find_message(to_message)?;
        self.post(&conv, text, Some(id))
    }

    /// Replaces the text of one of this node's messages.
    pub fn edit(&self, message: &str, text: &str) -> Result<Sent, NodeError> {
        let (conv, id) = self.find_own_message(message)?;
        check_text(text)?;
        self.write(
            &conv,
            Op::Edit {
                id,
                text: text.to_owned(),
            },
        )
    }

    /// Deletes one of this node's messages (a tombstone every replica keeps).
    pub fn delete(&self, message: &str) -> Result<Sent, NodeError> {
        let (conv, id) = self.find_own_message(message)?;
        self.write(&conv, Op::Delete { id })
    }

    /// Reacts to a message; an empty emoji removes the reaction.
    pub fn react(&self, message: &str, emoji: &str) -> Result<Sent, NodeError> {
        let (conv, id) = self.find_message(message)?;
        self.write(
            &conv,
            Op::React {
                id,
                emoji: emoji.trim().to_owned(),
            },
        )
    }

    /// Tells the others that everything up to now was read (unless read
    /// receipts are off: `Node::set_read_receipts`), and clears the unread
    /// count. Returns None when nothing was sent.
    pub fn mark_read(&self, conversation: &str) -> Result<Option<Sent>, NodeError> {
        let conv = self.resolve_conversation(conversation)?;
        self.mark_conversation_read(&conv)
    }

    /// [`Node::mark_read`] by conversation id, never ambiguous (a contact
    /// and a group may share a name): what a chat screen calls. Marking a
    /// chat with nothing new writes nothing and raises no event, so a screen
    /// may call it on every reload.
    pub fn mark_read_in(
        &self,
        conversation: &super::ConversationId,
    ) -> Result<Option<Sent>, NodeError> {
        let conv = self
            .store
            .conversation(conversation)?
            .ok_or_else(|| NodeError::UnknownConversation(conversation.to_hex()))?;
        self.mark_conversation_read(&conv)
    }

    fn mark_conversation_read(&self, conv: &ConversationRow) -> Result<Option<Sent>, NodeError> {
        let newest = self
            .store
            .messages(Some(&conv.id), &self.public.signing, 50, None)?
            .into_iter()
            .find(|m| m.author != self.public.signing)
            .map(|m| m.sent_at);
        let marked = self.store.read_marker(&conv.id, &self.public.signing)?;
        match newest {
            // The unread count is cleared in the marker's own transaction.
            Some(up_to) if marked < Some(up_to) && self.read_receipts()? => {
                self.write(conv, Op::Read { up_to }).map(Some)
            }
            _ => {
                self.transaction(|s| {
                    if s.clear_unread(&conv.id)? {
                        self.conversation_changed(&conv.id);
                    }
                    Ok(())
                })?;
                Ok(None)
            }
        }
    }

    fn named_of_kind(
        &self,
        name: &str,
        kind: ConversationKind,
    ) -> Result<ConversationRow, NodeError> {
        self.store
            .conversations_named(name.trim())?
            .into_iter()
            .find(|c| c.kind == kind)
            .ok_or_else(|| NodeError::UnknownConversation(name.to_owned()))
    }

    fn post(
        &self,
        conv: &ConversationRow,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Sent, NodeError> {
        check_text(text)?;
        if let Some(peer) = conv.peer
            && self.is_blocked(&peer)?
        {
            return Err(NodeError::Blocked(conv.name.clone()));
        }
        let op = Op::Post {
            id: MessageId::for_author(&self.public.signing),
            text: text.to_owned(),
            reply_to,
            attachment: None,
        };
        self.write(conv, op)
    }

    pub(crate) fn find_message(
        &self,
        prefix: &str,
    ) -> Result<(ConversationRow, MessageId), NodeError> {
        let p = prefix.trim();
        if p.len() < 4 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(NodeError::UnknownMessage(prefix.to_owned()));
        }
        let mut hits = self.store.find_messages(p)?;
        match hits.len() {
            0 => Err(NodeError::UnknownMessage(prefix.to_owned())),
            1 => {
                let (conv, id) = hits.remove(0);
                let row = self
                    .store
                    .conversation(&conv)?
                    .ok_or_else(|| NodeError::UnknownMessage(prefix.to_owned()))?;
                Ok((row, id))
            }
            _ => Err(NodeError::AmbiguousMessage(prefix.to_owned())),
        }
    }

    fn find_own_message(&self, prefix: &str) -> Result<(ConversationRow, MessageId), NodeError> {
        let (conv, id) = self.find_message(prefix)?;
        let doc = self.key_doc(&conv.id, &conversation::message_key(&id))?;
        match doc.message(&id) {
            Some(m) if m.author == self.public.signing => Ok((conv, id)),
            _ => Err(NodeError::NotAuthor(id.to_hex())),
        }
    }

    /// Builds the change, applies it locally and seals it for the others, all
    /// in one transaction.
    pub(super) fn write(&self, conv: &ConversationRow, op: Op) -> Result<Sent, NodeError> {
        let now = self.now();
        let now_ms = self.clock.now_ms();
        let key = op.key(&self.public.signing);
        let base = match op {
            Op::Post { .. } => Vec::new(),
            _ => self.store.changes_for_key(&conv.id, &key)?,
        };
        let built = conversation::build_change(&self.public.signing, &op, now_ms, &base)?;
        let payload = Payload::Change {
            key: built.key.clone(),
            change: built.bytes.clone(),
        };
        let message = match &op {
            Op::Post { id, .. }
            | Op::Edit { id, .. }
            | Op::Delete { id }
            | Op::React { id, .. } => *id,
            Op::Read { .. } => MessageId([0; 16]),
        };
        self.transaction(|s| -> Result<Sent, NodeError> {
            if let Op::Read { .. } = op {
                s.clear_unread(&conv.id)?;
            }
            let envelope = self.seal_for(conv, &payload.encode(), now)?;
            if let (Op::Post { .. }, ConversationKind::Direct) = (&op, conv.kind) {
                self.store
                    .insert_outbox(&envelope.commitment, &envelope.id, &conv.id, &message)?;
            }
            let mut batch = Batch::new(self)?;
            batch.apply_change(
                &conv.id,
                &self.public,
                self.me.name(),
                &built.key,
                &built.bytes,
            )?;
            batch.flush()?;
            Ok(Sent {
                message,
                conversation: conv.name.clone(),
                envelope: envelope.id,
            })
        })
    }

    /// Seals a payload for everyone in `conv` and stores the envelope as own.
    pub(crate) fn seal_for(
        &self,
        conv: &ConversationRow,
        payload: &[u8],
        now: u64,
    ) -> Result<EnvelopeRecord, NodeError> {
        let shared;
        let peer;
        let to = match conv.kind {
            ConversationKind::Direct => {
                let signing = conv
                    .peer
                    .ok_or(NodeError::CannotSend(conv.name.clone(), "no peer recorded"))?;
                peer = self
                    .store
                    .contact_by_key(&signing)?
                    .ok_or(NodeError::CannotSend(
                        conv.name.clone(),
                        "the sender is not a pinned contact; add their card first",
                    ))?
                    .identity;
                Recipient::Direct(&peer)
            }
            ConversationKind::Group | ConversationKind::Channel => {
                if conv.kind == ConversationKind::Group {
                    let member = self
                        .store
                        .group(&conv.id)?
                        .is_some_and(|g| g.members.iter().any(|m| m.identity == self.public));
                    if !member {
                        return Err(NodeError::CannotSend(
                            conv.name.clone(),
                            "you are no longer a member",
                        ));
                    }
                }
                shared = self
                    .store
                    .current_shared_key(&conv.id)?
                    .ok_or(NodeError::CannotSend(conv.name.clone(), "no key for it"))?;
                Recipient::Shared(&shared)
            }
        };
        let copies = routing::initial_copies(conv.kind == ConversationKind::Channel);
        self.seal_and_store(to, payload, now, copies)
    }

    /// Seals `payload` to `to` and stores it as an own envelope with a
    /// budget of `copies` (see [`crate::routing`]).
    pub(crate) fn seal_and_store(
        &self,
        to: Recipient<'_>,
        payload: &[u8],
        now: u64,
        copies: u32,
    ) -> Result<EnvelopeRecord, NodeError> {
        let sealed = envelope::seal(
            &self.me,
            &Draft {
                to,
                payload,
                sent_at: now,
                expires_at: now + self.ttl_secs,
                hops: MAX_HOPS,
            },
        )?;
        let env = sealed.envelope;
        let rec = EnvelopeRecord {
            id: env.id(),
            bytes: env.encode(),
            expires_at: env.header().expires_at,
            tag: env.header().tag,
            commitment: env.header().commitment,
            class: EnvelopeClass::Own,
            copies,
        };
        self.store.insert_envelope(&rec, "local", now)?;
        Ok(rec)
    }
}

fn check_text(text: &str) -> Result<(), NodeError> {
    if text.trim().is_empty() {
        return Err(NodeError::BadText("empty"));
    }
    if text.len() > conversation::MAX_TEXT_BYTES {
        return Err(NodeError::BadText("longer than 4096 bytes"));
    }
    Ok(())
}
