//! Conversation documents, their Automerge changes, and the message
//! projection that serves the UI (paged, indexed).

use super::{Store, StoreError, blob};
use crate::conversation::{ChangeHash, ConversationId, MessageId};
use pollen_proto::chunk::AttachmentRef;
use pollen_proto::identity::ContactKey;
use rusqlite::{OptionalExtension, Row, params};

/// What kind of conversation a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    /// Two people.
    Direct,
    /// A private group with an admin and epoch keys.
    Group,
    /// A public channel: anyone who knows the name can read it.
    Channel,
}

impl ConversationKind {
    /// The stored and displayed name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
            Self::Channel => "channel",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "direct" => Ok(Self::Direct),
            "group" => Ok(Self::Group),
            "channel" => Ok(Self::Channel),
            other => Err(StoreError::Corrupt(format!("conversation kind {other}"))),
        }
    }
}

/// (conversation id, message id).
pub type MessageRef = (ConversationId, MessageId);

/// One entry of the conversation list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    /// Conversation id.
    pub id: ConversationId,
    /// Its kind.
    pub kind: ConversationKind,
    /// Display name (contact alias, group name, or `#channel`).
    pub name: String,
    /// For a direct conversation, the other person's signing key.
    pub peer: Option<ContactKey>,
    /// Unix milliseconds of the newest message (its `sent_at`; 0 when none).
    pub last_activity: u64,
    /// Messages received since the user last read it.
    pub unread: u64,
}

/// One message as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// Conversation id.
    pub conversation: ConversationId,
    /// Conversation display name.
    pub conversation_name: String,
    /// Message id.
    pub id: MessageId,
    /// Author's signing key.
    pub author: ContactKey,
    /// Contact alias of the author if pinned, otherwise the name they claimed.
    pub from: String,
    /// Current text ("" once deleted).
    pub text: String,
    /// Author's clock when sent (unix seconds).
    pub sent_at: u64,
    /// Message this one replies to.
    pub reply_to: Option<MessageId>,
    /// When the author last edited it.
    pub edited_at: Option<u64>,
    /// True once the author deleted it.
    pub deleted: bool,
    /// (reactor signing key hex, emoji), sorted by reactor.
    pub reactions: Vec<(String, String)>,
    /// `received`, `pending`, `delivered`, `read` or `sent`.
    pub status: String,
    /// Links the message travelled to get here, 1 = straight from its author (received messages).
    pub hops: Option<u32>,
    /// Neighbours that acknowledged holding it (own direct messages not yet
    /// delivered; 0 otherwise).
    pub carriers: u32,
    /// The attachment the post carries (checked when it was projected).
    pub attachment: Option<AttachmentRef>,
}

/// A message's projected state, written after its document changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectedMessage<'a> {
    /// Author's signing key.
    pub author: &'a ContactKey,
    /// Name the author claimed in the envelope that carried the message.
    pub author_name: &'a str,
    /// Current text.
    pub text: &'a str,
    /// Author's send time.
    pub sent_at: u64,
    /// Replied-to message.
    pub reply_to: Option<MessageId>,
    /// Last edit time.
    pub edited_at: Option<u64>,
    /// Deleted flag.
    pub deleted: bool,
    /// (reactor key hex, emoji).
    pub reactions: &'a [(String, String)],
    /// The encoded attachment reference the post carries.
    pub attachment: Option<&'a [u8]>,
}

const CONV_COLUMNS: &str = "id, kind, name, peer, last_activity, unread";

type RawConv = (Vec<u8>, String, String, Option<Vec<u8>>, i64, i64);

fn conv_from_row(r: &Row<'_>) -> rusqlite::Result<RawConv> {
    RawConv::try_from(r)
}

fn to_conv((id, kind, name, peer, last, unread): RawConv) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        id: ConversationId(blob(id)?),
        kind: ConversationKind::parse(&kind)?,
        name,
        peer: peer.map(blob).transpose()?.map(ContactKey),
        last_activity: last.max(0) as u64,
        unread: unread.max(0) as u64,
    })
}

impl Store {
    /// Creates the conversation if it does not exist yet.
    pub fn ensure_conversation(
        &self,
        id: &ConversationId,
        kind: ConversationKind,
        name: &str,
        peer: Option<&ContactKey>,
    ) -> Result<(), StoreError> {
        let mut st = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO conversations (id, kind, name, peer) VALUES (?1, ?2, ?3, ?4)",
        )?;
        st.execute(params![&id[..], kind.as_str(), name, peer.map(|p| &p[..])])?;
        Ok(())
    }

    /// Renames a conversation (e.g. when a contact is pinned).
    pub fn rename_conversation(&self, id: &ConversationId, name: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE conversations SET name = ?2 WHERE id = ?1",
            params![&id[..], name],
        )?;
        Ok(())
    }

    /// The conversation with this id.
    pub fn conversation(&self, id: &ConversationId) -> Result<Option<ConversationRow>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {CONV_COLUMNS} FROM conversations WHERE id = ?1"
        ))?;
        st.query_row([&id[..]], conv_from_row)
            .optional()?
            .map(to_conv)
            .transpose()
    }

    /// Conversations whose display name is `name` (case-insensitive).
    pub fn conversations_named(&self, name: &str) -> Result<Vec<ConversationRow>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {CONV_COLUMNS} FROM conversations WHERE name = ?1 COLLATE NOCASE"
        ))?;
        let rows = st.query_map([name], conv_from_row)?;
        rows.map(|r| to_conv(r?)).collect()
    }

    /// The conversation list, most recent first.
    pub fn conversations(&self, limit: u32) -> Result<Vec<ConversationRow>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {CONV_COLUMNS} FROM conversations ORDER BY last_activity DESC, id LIMIT ?1"
        ))?;
        let rows = st.query_map([limit], conv_from_row)?;
        rows.map(|r| to_conv(r?)).collect()
    }

    /// A page of the conversation list, most recent first: the rows after
    /// `before` = (last_activity, id) of the previous page's last row.
    pub fn conversations_page(
        &self,
        limit: u32,
        before: Option<(u64, ConversationId)>,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let Some((at, id)) = before else {
            return self.conversations(limit);
        };
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {CONV_COLUMNS} FROM conversations
             WHERE last_activity < ?1 OR (last_activity = ?1 AND id > ?2)
             ORDER BY last_activity DESC, id LIMIT ?3"
        ))?;
        let rows = st.query_map(params![at as i64, &id[..], limit], conv_from_row)?;
        rows.map(|r| to_conv(r?)).collect()
    }

    /// Moves a conversation's activity forward and adds to its unread count.
    pub fn touch_conversation(
        &self,
        id: &ConversationId,
        at: u64,
        unread: u64,
    ) -> Result<(), StoreError> {
        let mut st = self.conn().prepare_cached(
            "UPDATE conversations SET last_activity = MAX(last_activity, ?2), unread = unread + ?3 WHERE id = ?1",
        )?;
        st.execute(params![&id[..], at as i64, unread as i64])?;
        Ok(())
    }

    /// Clears a conversation's unread count.
    /// Returns true when there was something unread.
    pub fn clear_unread(&self, id: &ConversationId) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE conversations SET unread = 0 WHERE id = ?1 AND unread != 0",
            [&id[..]],
        )?;
        Ok(n > 0)
    }

    /// The message keys (`m:<id hex>`) a conversation has changes for.
    pub fn message_keys(&self, id: &ConversationId) -> Result<Vec<String>, StoreError> {
        // `;` follows `:` in ASCII: the range is every key starting `m:`,
        // read from the (conversation, key) index.
        let mut st = self.conn().prepare_cached(
            "SELECT DISTINCT key FROM changes WHERE conversation = ?1 AND key >= 'm:' AND key < 'm;'",
        )?;
        let rows = st.query_map([&id[..]], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a change for a root key; false if it was already known.
    pub fn insert_change(
        &self,
        hash: &ChangeHash,
        conversation: &ConversationId,
        key: &str,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        let mut st = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO changes (hash, conversation, key, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?;
        Ok(st.execute(params![&hash.0[..], &conversation[..], key, bytes])? == 1)
    }

    /// Every change known for one root key of a conversation.
    pub fn changes_for_key(
        &self,
        conversation: &ConversationId,
        key: &str,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT bytes FROM changes WHERE conversation = ?1 AND key = ?2")?;
        let rows = st.query_map(params![&conversation[..], key], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The root key a known change wrote.
    pub fn change_key(&self, hash: &ChangeHash) -> Result<Option<String>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT key FROM changes WHERE hash = ?1")?;
        Ok(st.query_row([&hash.0[..]], |r| r.get(0)).optional()?)
    }

    /// Writes (or replaces) a message's projected state.
    pub fn upsert_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        m: &ProjectedMessage<'_>,
    ) -> Result<(), StoreError> {
        let reactions =
            serde_json::to_string(m.reactions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut st = self.conn().prepare_cached(
            "INSERT INTO messages (conversation, id, author, author_name, text, sent_at, reply_to, edited_at, deleted, reactions, attachment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (conversation, id) DO UPDATE SET
               text = excluded.text, edited_at = excluded.edited_at, deleted = excluded.deleted,
               reactions = excluded.reactions, reply_to = excluded.reply_to,
               attachment = excluded.attachment",
        )?;
        st.execute(params![
            &conversation[..],
            &id[..],
            &m.author[..],
            m.author_name,
            m.text,
            m.sent_at as i64,
            m.reply_to.as_ref().map(|r| &r[..]),
            m.edited_at.map(|e| e as i64),
            m.deleted,
            reactions,
            m.attachment,
        ])?;
        Ok(())
    }

    /// What the projection shows of a message that decides how an update
    /// changed it: (edited_at, deleted, reactions as stored), or `None` when
    /// it is not projected yet.
    pub fn message_state(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<Option<(Option<u64>, bool, String)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT edited_at, deleted, reactions FROM messages WHERE conversation = ?1 AND id = ?2",
        )?;
        Ok(st
            .query_row(params![&conversation[..], &id[..]], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?.map(|e| e.max(0) as u64),
                    r.get::<_, bool>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?)
    }

    /// True when the message is already projected.
    pub fn has_message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<bool, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM messages WHERE conversation = ?1 AND id = ?2")?;
        Ok(st.exists(params![&conversation[..], &id[..]])?)
    }

    /// Records how many links a message travelled, once (the first envelope
    /// that brought it wins).
    pub fn set_message_hops(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        hops: u32,
    ) -> Result<(), StoreError> {
        let mut st = self.conn().prepare_cached(
            "UPDATE messages SET hops = ?3 WHERE conversation = ?1 AND id = ?2 AND hops IS NULL",
        )?;
        st.execute(params![&conversation[..], &id[..], hops as i64])?;
        Ok(())
    }

    /// Stores a member's read marker.
    pub fn set_read_marker(
        &self,
        conversation: &ConversationId,
        reader: &ContactKey,
        up_to: u64,
    ) -> Result<(), StoreError> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO read_markers (conversation, reader, up_to) VALUES (?1, ?2, ?3)
             ON CONFLICT (conversation, reader) DO UPDATE SET up_to = MAX(up_to, excluded.up_to)",
        )?;
        st.execute(params![&conversation[..], &reader[..], up_to as i64])?;
        Ok(())
    }

    /// A page of messages, newest first. `before` = (sent_at, id) of the last
    /// row of the previous page. `me` is this node's signing key, for status.
    pub fn messages(
        &self,
        conversation: Option<&ConversationId>,
        me: &ContactKey,
        limit: u32,
        before: Option<(u64, MessageId)>,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let (b_at, b_id) = match before {
            Some((at, id)) => (at as i64, id.0.to_vec()),
            None => (i64::MAX, vec![0xff; 17]),
        };
        let sql = format!(
            "{MESSAGE_SELECT}
             WHERE {} (m.sent_at < ?2 OR (m.sent_at = ?2 AND m.id < ?3))
             ORDER BY m.sent_at DESC, m.id DESC LIMIT ?4",
            if conversation.is_some() {
                "m.conversation = ?5 AND"
            } else {
                "?5 IS NULL AND"
            }
        );
        let mut st = self.conn().prepare_cached(&sql)?;
        let rows = st.query_map(
            params![&me[..], b_at, b_id, limit, conversation.map(|c| &c[..])],
            raw_message,
        )?;
        rows.map(|r| message_row(r?)).collect()
    }

    /// One message as the UI shows it, if it is projected.
    pub fn message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        me: &ContactKey,
    ) -> Result<Option<MessageRow>, StoreError> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.conversation = ?2 AND m.id = ?3");
        let mut st = self.conn().prepare_cached(&sql)?;
        st.query_row(params![&me[..], &conversation[..], &id[..]], raw_message)
            .optional()?
            .map(message_row)
            .transpose()
    }

    /// (conversation, message id) of messages whose hex id starts with `prefix`.
    pub fn find_messages(&self, prefix: &str) -> Result<Vec<MessageRef>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT conversation, id FROM messages WHERE hex(id) LIKE ?1 || '%' LIMIT 10",
        )?;
        let rows = st.query_map([prefix.to_ascii_uppercase()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, m) = row?;
            out.push((ConversationId(blob(c)?), MessageId(blob(m)?)));
        }
        Ok(out)
    }

    /// Number of projected messages.
    pub fn message_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }
}

impl Store {
    /// A member's read marker in a conversation.
    pub fn read_marker(
        &self,
        conversation: &ConversationId,
        reader: &ContactKey,
    ) -> Result<Option<u64>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT up_to FROM read_markers WHERE conversation = ?1 AND reader = ?2",
        )?;
        Ok(st
            .query_row(params![&conversation[..], &reader[..]], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|v| v.max(0) as u64))
    }
}

/// The projection joined with what the UI shows beside each message; `?1` is
/// this node's signing key (for the status column).
const MESSAGE_SELECT: &str = "SELECT m.conversation, c.name, m.id, m.author, COALESCE(k.alias, m.author_name), m.text,
        m.sent_at, m.reply_to, m.edited_at, m.deleted, m.reactions,
        CASE
          WHEN m.author != ?1 THEN 'received'
          WHEN EXISTS (SELECT 1 FROM read_markers r WHERE r.conversation = m.conversation
                       AND r.reader != ?1 AND r.up_to >= m.sent_at) AND c.kind = 'direct' THEN 'read'
          WHEN o.commitment IS NULL THEN 'sent'
          WHEN o.delivered_at IS NULL THEN 'pending'
          ELSE 'delivered'
        END,
        m.hops, COALESCE(o.carriers, 0), m.attachment
 FROM messages m
 JOIN conversations c ON c.id = m.conversation
 LEFT JOIN contacts k ON k.signing = m.author
 LEFT JOIN outbox o ON o.conversation = m.conversation AND o.message = m.id";

/// The columns of [`MESSAGE_SELECT`], in order.
type RawMessage = (
    Vec<u8>,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    i64,
    Option<Vec<u8>>,
    Option<i64>,
    bool,
    String,
    String,
    Option<i64>,
    i64,
    Option<Vec<u8>>,
);

fn raw_message(r: &Row<'_>) -> rusqlite::Result<RawMessage> {
    RawMessage::try_from(r)
}

fn message_row(raw: RawMessage) -> Result<MessageRow, StoreError> {
    let (
        conv,
        conv_name,
        id,
        author,
        from,
        text,
        sent_at,
        reply_to,
        edited_at,
        deleted,
        reactions,
        status,
        hops,
        carriers,
        attachment,
    ) = raw;
    Ok(MessageRow {
        conversation: ConversationId(blob(conv)?),
        conversation_name: conv_name,
        id: MessageId(blob(id)?),
        author: ContactKey(blob(author)?),
        from,
        text,
        sent_at: sent_at.max(0) as u64,
        reply_to: reply_to.map(blob).transpose()?.map(MessageId),
        edited_at: edited_at.map(|e| e.max(0) as u64),
        deleted,
        reactions: serde_json::from_str(&reactions)
            .map_err(|e| StoreError::Corrupt(format!("reactions: {e}")))?,
        status,
        hops: hops.map(|h| h.clamp(0, u8::MAX as i64) as u32),
        carriers: carriers.clamp(0, u32::MAX as i64) as u32,
        // Checked when projected; a damaged one hides the file, not the message.
        attachment: attachment.and_then(|a| match crate::conversation::check_attachment(&a) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(%e, "stored attachment reference does not decode");
                None
            }
        }),
    })
}
