//! The app model (`pollen-app`) across the boundary: the chat list, a chat's
//! timeline, starting chats, adding contacts from scans and links, and the
//! notification decision. The apps draw these records; the logic is Rust's.

use crate::error::PollenError;
use crate::node::{PollenNode, hex_id, sent};
use crate::records::{BlePowerMode, ContactInfo, ConversationKind, MessageCursor, SentInfo};
use pollen_app::AppError;
use pollen_app::cards;
use pollen_app::chats::{ChatList, ChatSummary};
use pollen_app::notify::{self, Notification};
use pollen_app::timeline::{self, Delivery, TimelineItem, TimelineMessage, TimelineQuery};
use pollen_node::conversation::MessageId;
use pollen_node::node::{ConversationId, NodeEvent};

impl From<AppError> for PollenError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Node(e) => e.into(),
            AppError::MalformedCard { reason } => PollenError::InvalidCard { why: reason },
            AppError::UnknownConversation(name) => PollenError::UnknownConversation { name },
            AppError::BadItem(why) => PollenError::InvalidText { why },
        }
    }
}

/// One row of the chat list.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChatInfo {
    /// Conversation id (hex).
    pub conversation_id: String,
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// Contact alias, group name or `#channel`: also what `send` takes.
    pub title: String,
    /// The last message on one line, shortened; "" for a new chat.
    pub preview: String,
    /// Who wrote the last message, when someone else did.
    pub preview_author: Option<String>,
    /// This node wrote the last message.
    pub preview_own: bool,
    /// Unix milliseconds of the last message; none for a new chat.
    pub last_at_ms: Option<u64>,
    /// Messages received since the user last read it.
    pub unread: u64,
    /// Notifications are off for it.
    pub muted: bool,
}

impl From<ChatSummary> for ChatInfo {
    fn from(c: ChatSummary) -> Self {
        ChatInfo {
            conversation_id: c.id.to_hex(),
            kind: c.kind.into(),
            title: c.title,
            preview: c.preview,
            preview_author: c.preview_author,
            preview_own: c.preview_own,
            last_at_ms: c.last_at_ms,
            unread: c.unread,
            muted: c.muted,
        }
    }
}

/// Where one message has got to.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryState {
    /// Someone else wrote it.
    Received,
    /// Written here, not yet known to be carried on.
    Queued,
    /// Not delivered yet; this many neighbours took it from this phone.
    Carried {
        /// Neighbours that acknowledged holding it.
        by: u32,
    },
    /// Sent to a group or channel (no per-recipient receipt).
    Sent,
    /// The recipient's delivery proof came back.
    Delivered,
    /// The recipient read it.
    Read,
    /// It will not arrive.
    Failed {
        /// Why.
        reason: String,
    },
}

impl From<Delivery> for DeliveryState {
    fn from(d: Delivery) -> Self {
        match d {
            Delivery::Received => Self::Received,
            Delivery::Queued => Self::Queued,
            Delivery::Carried { by } => Self::Carried { by },
            Delivery::Sent => Self::Sent,
            Delivery::Delivered => Self::Delivered,
            Delivery::Read => Self::Read,
            Delivery::Failed { reason } => Self::Failed { reason },
        }
    }
}

/// One emoji on a message.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReactionInfo {
    /// The emoji.
    pub emoji: String,
    /// How many chose it.
    pub count: u32,
    /// This node is one of them.
    pub mine: bool,
}

/// A message as the timeline draws it (edits, reactions, deletion folded).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineMessageInfo {
    /// Message id (hex): what edit, react, reply and delete take.
    pub id: String,
    /// Author's name.
    pub author: String,
    /// Written by this node.
    pub own: bool,
    /// Current text; "" when deleted.
    pub text: String,
    /// Unix milliseconds it was written.
    pub sent_at_ms: u64,
    /// Edited after sending.
    pub edited: bool,
    /// Deleted for everyone.
    pub deleted: bool,
    /// The message it answers (hex).
    pub reply_to: Option<String>,
    /// Reactions by emoji, most chosen first.
    pub reactions: Vec<ReactionInfo>,
    /// Where it has got to.
    pub delivery: DeliveryState,
    /// The text as drawn: "(deleted)", or the text with " (edited)".
    pub shown_text: String,
    /// The reactions on one line ("👍2 ❤️"); empty without any.
    pub reactions_line: String,
    /// Under the message: "me · delivered" for own messages, else the author.
    pub byline: String,
    /// The photo, voice note or file it carries, as the chat draws it.
    pub attachment: Option<crate::attachments::AttachmentInfo>,
}

impl From<TimelineMessage> for TimelineMessageInfo {
    fn from(m: TimelineMessage) -> Self {
        let (shown_text, reactions_line, byline) = (m.shown_text(), m.reactions_line(), m.byline());
        TimelineMessageInfo {
            shown_text,
            reactions_line,
            byline,
            id: m.id,
            author: m.author,
            own: m.own,
            text: m.text,
            sent_at_ms: m.sent_at_ms,
            edited: m.edited,
            deleted: m.deleted,
            reply_to: m.reply_to,
            reactions: m
                .reactions
                .into_iter()
                .map(|r| ReactionInfo {
                    emoji: r.emoji,
                    count: r.count,
                    mine: r.mine,
                })
                .collect(),
            delivery: m.delivery.into(),
            attachment: m.attachment.map(|a| (*a).into()),
        }
    }
}

/// An item of a chat's timeline, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
// UniFFI passes records by value (no Box); a page holds at most a few hundred.
#[allow(clippy::large_enum_variant)]
pub enum TimelineEntry {
    /// A new local day starts.
    Day {
        /// Days since 1970-01-01 in the viewer's time zone.
        day: i64,
        /// "Today", "Yesterday" or `YYYY-MM-DD`.
        label: String,
    },
    /// A message.
    Message {
        /// The message.
        message: TimelineMessageInfo,
    },
}

impl From<TimelineItem> for TimelineEntry {
    fn from(i: TimelineItem) -> Self {
        match i {
            TimelineItem::Day { day, label } => Self::Day { day, label },
            TimelineItem::Message(m) => Self::Message { message: m.into() },
        }
    }
}

/// A notification to post or replace: one per chat (use the conversation id
/// as the tag), on a channel per kind.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NotificationInfo {
    /// The chat it opens (hex).
    pub conversation_id: String,
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// The chat's title.
    pub title: String,
    /// The newest message ("Author: text" in groups and channels).
    pub body: String,
    /// Unread messages in the chat.
    pub count: u64,
    /// "3 new messages" when more than one is unread.
    pub subtitle: Option<String>,
    /// The message that raised it (hex).
    pub message_id: String,
}

impl From<Notification> for NotificationInfo {
    fn from(n: Notification) -> Self {
        NotificationInfo {
            conversation_id: n.conversation.to_hex(),
            kind: n.kind.into(),
            title: n.title,
            body: n.body,
            count: n.count,
            subtitle: (n.count > 1).then(|| format!("{} new messages", n.count)),
            message_id: n.message,
        }
    }
}

fn parse_conversation(hex: &str) -> Result<ConversationId, PollenError> {
    hex_id(hex)
        .map(ConversationId)
        .ok_or_else(|| PollenError::UnknownConversation {
            name: hex.to_owned(),
        })
}

#[uniffi::export]
impl PollenNode {
    /// The chat list, most recent first (new chats without messages last).
    pub fn chat_list(&self, limit: u32) -> Result<Vec<ChatInfo>, PollenError> {
        self.read(move |n| {
            Ok(ChatList::load(n, limit)?
                .chats()
                .iter()
                .cloned()
                .map(Into::into)
                .collect())
        })
    }

    /// The newest `limit` messages of a chat before `before` (the first
    /// message already shown), oldest first, with day separators for the
    /// viewer's offset from UTC.
    pub fn timeline(
        &self,
        conversation_id: String,
        limit: u32,
        before: Option<MessageCursor>,
        utc_offset_secs: i32,
    ) -> Result<Vec<TimelineEntry>, PollenError> {
        let id = parse_conversation(&conversation_id)?;
        let before = match before {
            None => None,
            Some(c) => Some((
                c.sent_at,
                hex_id(&c.id).ok_or(PollenError::UnknownMessage { id: c.id })?,
            )),
        };
        self.read(move |n| {
            let query = TimelineQuery {
                limit,
                before,
                now_secs: n.now(),
                utc_offset_secs,
            };
            Ok(timeline::timeline(n, &id, &query)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Opens the direct chat with a contact, even before any message.
    pub fn open_chat_with_contact(&self, alias: String) -> Result<ChatInfo, PollenError> {
        self.write(move |n| Ok(cards::open_chat_with_contact(n, &alias)?.into()))
    }

    /// Opens a chat by contact alias, group name or `#channel`.
    pub fn open_chat(&self, name: String) -> Result<ChatInfo, PollenError> {
        self.write(move |n| Ok(cards::open_chat(n, &name)?.into()))
    }

    /// Adds the contact on a scanned or pasted card: whitespace and line
    /// breaks are ignored, and a `pollen:` link or a URL carrying the card
    /// is unwrapped. A malformed card throws `InvalidCard` saying why.
    pub fn add_contact_from_input(
        &self,
        input: String,
        alias: Option<String>,
    ) -> Result<ContactInfo, PollenError> {
        self.write(move |n| Ok(cards::add_contact_from_input(n, &input, alias.as_deref())?.into()))
    }

    /// The notification a message from someone else warrants (none for own
    /// messages, the chat open on screen, muted chats, deleted messages).
    pub fn notification_for_message(
        &self,
        conversation_id: String,
        message_id: String,
        open_chat: Option<String>,
    ) -> Result<Option<NotificationInfo>, PollenError> {
        let conversation = parse_conversation(&conversation_id)?;
        let message =
            MessageId(hex_id(&message_id).ok_or(PollenError::UnknownMessage { id: message_id })?);
        let open = open_chat.as_deref().and_then(hex_id).map(ConversationId);
        self.read(move |n| {
            let event = NodeEvent::MessageAdded {
                conversation,
                message,
                own: false,
            };
            Ok(notify::notification_for(n, &event, open.as_ref())?.map(Into::into))
        })
    }

    /// Marks the chat with this id read (tells the others, clears the unread
    /// count); None when nothing was new, and then nothing is written and no
    /// event raised, so a chat screen may call it on every reload.
    pub fn mark_chat_read(&self, conversation_id: String) -> Result<Option<SentInfo>, PollenError> {
        let id = parse_conversation(&conversation_id)?;
        self.write(move |n| Ok(n.mark_read_in(&id)?.map(sent)))
    }

    /// Turns notifications for a chat off or back on.
    pub fn set_chat_muted(&self, conversation_id: String, muted: bool) -> Result<(), PollenError> {
        let id = parse_conversation(&conversation_id)?;
        self.read(move |n| Ok(notify::set_muted(n, &id, muted)?))
    }
}

/// The Bluetooth power mode the phone's state calls for (the app model
/// decides; the app applies it with `PollenNode::ble_set_power`): screen off
/// → `Saver`; app in front → `Foreground`; otherwise `Background`; the
/// battery saver steps each down one.
#[uniffi::export]
pub fn ble_power_mode(screen_on: bool, app_in_front: bool, battery_saver: bool) -> BlePowerMode {
    pollen_app::power::ble_power_mode(pollen_app::power::DeviceState {
        screen_on,
        app_in_front,
        battery_saver,
    })
    .into()
}

/// What an app asks, once, before the panic wipe (`wipe`).
#[uniffi::export]
pub fn erase_warning() -> String {
    pollen_app::erase::WARNING.to_owned()
}

/// Panic wipe: erases the identity, contacts, messages, attachments and caches
/// of `data_dir` for good (returns the number of files erased). Drop the
/// `PollenNode` first; a directory without a Pollen database is refused.
#[uniffi::export]
pub fn wipe(data_dir: String) -> Result<u64, PollenError> {
    Ok(pollen_node::node::wipe_data_dir(std::path::Path::new(
        &data_dir,
    ))?)
}
