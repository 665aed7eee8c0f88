//! What the UI shows: plain records and enums, converted from core types.
//! Binary ids travel as lowercase hex strings, which every platform can
//! compare, log and put in a URL.

use pollen_node::node::{ExportReport, ImportReport, Status};
use pollen_node::store::{
    Contact, ConversationKind as CoreKind, ConversationRow, KeyChange, MessageRow,
};
use pollen_proto::identity::ContactKey;

/// Who this node is.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct IdentityInfo {
    /// Display name.
    pub name: String,
    /// Fingerprint of the public keys (hex).
    pub fingerprint: String,
    /// Contact card, `pollen1…`, QR-friendly.
    pub card: String,
}

/// A pinned contact.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ContactInfo {
    /// The name this node knows them by.
    pub alias: String,
    /// The name their card claims.
    pub card_name: String,
    /// Fingerprint of their keys (hex).
    pub fingerprint: String,
    /// Their signing key (hex): what `MessageInfo::author_key` holds, so the
    /// UI can tell which contact wrote a message.
    pub signing_key: String,
    /// The safety number was compared in person.
    pub verified: bool,
    /// Unix seconds when pinned.
    pub added_at: u64,
}

impl From<Contact> for ContactInfo {
    fn from(c: Contact) -> Self {
        ContactInfo {
            fingerprint: c.identity.fingerprint().to_hex(),
            signing_key: hex::encode(c.identity.signing),
            alias: c.alias,
            card_name: c.card_name,
            verified: c.verified,
            added_at: c.added_at,
        }
    }
}

/// A refused card with other keys for a pinned contact.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct KeyChangeInfo {
    /// The contact.
    pub alias: String,
    /// Fingerprint of the pinned keys (hex).
    pub old_fingerprint: String,
    /// The card that was offered.
    pub new_card: String,
    /// Unix seconds when seen.
    pub seen_at: u64,
}

impl From<KeyChange> for KeyChangeInfo {
    fn from(k: KeyChange) -> Self {
        KeyChangeInfo {
            alias: k.alias,
            old_fingerprint: k.old_fingerprint,
            new_card: k.new_card,
            seen_at: k.seen_at,
        }
    }
}

/// Where a page of the conversation list ends: pass it back for the next page.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConversationCursor {
    /// `last_activity` of the last conversation of the page.
    pub last_activity: u64,
    /// Its id (hex).
    pub id: String,
}

/// A page of the conversation list, most recent first.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConversationPage {
    /// The conversations.
    pub conversations: Vec<ConversationInfo>,
    /// The cursor of the next page; None when this page was the last.
    pub next: Option<ConversationCursor>,
}

/// What kind of conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ConversationKind {
    /// Two people.
    Direct,
    /// A private group.
    Group,
    /// A public channel (anyone who knows the name can read it).
    Channel,
}

impl From<CoreKind> for ConversationKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::Direct => Self::Direct,
            CoreKind::Group => Self::Group,
            CoreKind::Channel => Self::Channel,
        }
    }
}

/// One entry of the conversation list.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConversationInfo {
    /// Conversation id (hex).
    pub id: String,
    /// Its kind.
    pub kind: ConversationKind,
    /// Display name: contact alias, group name or `#channel`.
    pub name: String,
    /// For a direct conversation, the other person's signing key (hex).
    pub peer_key: Option<String>,
    /// Unix milliseconds of the newest message (its `sent_at`; 0 when none).
    pub last_activity: u64,
    /// Messages received since last read.
    pub unread: u64,
}

impl From<ConversationRow> for ConversationInfo {
    fn from(c: ConversationRow) -> Self {
        ConversationInfo {
            id: hex::encode(c.id),
            kind: c.kind.into(),
            name: c.name,
            peer_key: c.peer.map(hex::encode),
            last_activity: c.last_activity,
            unread: c.unread,
        }
    }
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MessageStatus {
    /// From someone else.
    Received,
    /// Own direct message, not yet delivered.
    Pending,
    /// Own message to a group or channel (no delivery proofs there).
    Sent,
    /// Own direct message, delivery proof seen.
    Delivered,
    /// Own direct message, the recipient's read marker passed it.
    Read,
}

impl MessageStatus {
    /// Parses the status the store projects.
    pub(crate) fn parse(s: &str) -> MessageStatus {
        match s {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            _ => Self::Received,
        }
    }
}

/// A reaction to a message.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Reaction {
    /// The reactor's signing key (hex).
    pub reactor_key: String,
    /// The emoji.
    pub emoji: String,
}

/// One message as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MessageInfo {
    /// Message id (hex).
    pub id: String,
    /// Conversation id (hex).
    pub conversation_id: String,
    /// Conversation display name.
    pub conversation_name: String,
    /// Author's signing key (hex).
    pub author_key: String,
    /// Contact alias of the author if pinned, else the name they claimed.
    pub sender_name: String,
    /// Current text ("" once deleted).
    pub text: String,
    /// Author's send time (unix seconds).
    pub sent_at: u64,
    /// The message this one replies to (hex id).
    pub reply_to: Option<String>,
    /// When last edited.
    pub edited_at: Option<u64>,
    /// Deleted by its author.
    pub deleted: bool,
    /// Reactions, by reactor.
    pub reactions: Vec<Reaction>,
    /// Where it stands.
    pub status: MessageStatus,
    /// Links it travelled to get here (received messages).
    pub hops: Option<u32>,
    /// Written by this node.
    pub outgoing: bool,
}

impl MessageInfo {
    /// Converts a projected row; `me` is this node's signing key.
    pub(crate) fn from_row(m: MessageRow, me: &ContactKey) -> MessageInfo {
        MessageInfo {
            id: hex::encode(m.id),
            conversation_id: hex::encode(m.conversation),
            conversation_name: m.conversation_name,
            author_key: hex::encode(m.author),
            outgoing: &m.author == me,
            sender_name: m.from,
            text: m.text,
            sent_at: m.sent_at,
            reply_to: m.reply_to.map(hex::encode),
            edited_at: m.edited_at,
            deleted: m.deleted,
            reactions: m
                .reactions
                .into_iter()
                .map(|(reactor_key, emoji)| Reaction { reactor_key, emoji })
                .collect(),
            status: MessageStatus::parse(&m.status),
            hops: m.hops,
        }
    }
}

/// Where a page of messages ends: pass it back for the next (older) page.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MessageCursor {
    /// `sent_at` of the last message of the page.
    pub sent_at: u64,
    /// Its id (hex).
    pub id: String,
}

/// A page of messages, newest first.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MessagePage {
    /// The messages.
    pub messages: Vec<MessageInfo>,
    /// The cursor of the next page; None when this page was the last.
    pub next: Option<MessageCursor>,
}

/// What a send produced.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SentInfo {
    /// The message the action was about (hex id).
    pub message_id: String,
    /// The conversation's display name.
    pub conversation: String,
}

/// Figures for a status screen.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NodeStatus {
    /// Display name.
    pub name: String,
    /// Fingerprint (hex).
    pub fingerprint: String,
    /// Envelopes held, all classes.
    pub envelopes_stored: u64,
    /// Envelopes held for other people.
    pub carried_for_others: u64,
    /// Own direct messages not yet delivered.
    pub own_undelivered: u64,
    /// Own direct messages delivered.
    pub own_delivered: u64,
    /// Bytes of envelopes held.
    pub envelope_bytes: u64,
    /// Size of the database.
    pub storage_bytes: u64,
    /// Storage cap for envelopes.
    pub storage_cap_bytes: u64,
    /// Pinned contacts.
    pub contacts: u64,
    /// Conversations.
    pub conversations: u64,
    /// Messages.
    pub messages: u64,
    /// Refused key changes.
    pub key_changes: u64,
    /// The runtime is running.
    pub running: bool,
    /// The LAN address sessions are accepted on, when the LAN is on.
    pub lan_address: Option<String>,
    /// LAN neighbours with a recent good session, plus platform peers linked now.
    pub neighbours: u64,
    /// Sessions running now (LAN and platform links).
    pub links: u64,
}

impl NodeStatus {
    /// The stored figures, with the runtime's left at rest.
    pub(crate) fn from_status(s: Status) -> NodeStatus {
        NodeStatus {
            name: s.name,
            fingerprint: s.fingerprint,
            envelopes_stored: s.envelopes_stored,
            carried_for_others: s.carried_for_others,
            own_undelivered: s.own_undelivered,
            own_delivered: s.own_delivered,
            envelope_bytes: s.envelope_bytes,
            storage_bytes: s.storage_bytes,
            storage_cap_bytes: s.storage_cap_bytes,
            contacts: s.contacts,
            conversations: s.conversations,
            messages: s.messages,
            key_changes: s.key_changes,
            running: false,
            lan_address: None,
            neighbours: 0,
            links: 0,
        }
    }
}

/// How `start` runs the node.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RunOptions {
    /// Listen on TCP and find neighbours with mDNS.
    pub lan: bool,
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Advertise and browse with mDNS (with `lan`); off, only `peers` are dialled.
    pub mdns: bool,
    /// Neighbours given by address (`host:port`), for networks without multicast.
    pub peers: Vec<String>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ExportInfo {
    /// Envelopes written.
    pub envelopes: u64,
    /// Delivery proofs written.
    pub proofs: u64,
    /// File size.
    pub bytes: u64,
    /// What was written, in words for the user.
    pub summary: String,
}

impl From<ExportReport> for ExportInfo {
    fn from(r: ExportReport) -> Self {
        ExportInfo {
            summary: pollen_app::bundles::exported_line(&r),
            envelopes: r.envelopes,
            proofs: r.proofs,
            bytes: r.bytes,
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ImportInfo {
    /// Envelope records read.
    pub envelopes: u64,
    /// Opened here (new messages and keys).
    pub opened: u64,
    /// Stored to carry for others.
    pub carried: u64,
    /// Already held.
    pub duplicates: u64,
    /// Refused.
    pub rejected: u64,
    /// Proof records read.
    pub proofs: u64,
    /// Proofs not known before.
    pub proofs_new: u64,
    /// Own messages now known delivered.
    pub delivered: u64,
    /// The bundle was read to its end marker.
    pub complete: bool,
    /// Why reading stopped early, if it did.
    pub error: Option<String>,
    /// What the import did, in words for the user.
    pub summary: String,
}

impl From<ImportReport> for ImportInfo {
    fn from(r: ImportReport) -> Self {
        ImportInfo {
            summary: pollen_app::bundles::imported_line(&r),
            rejected: r.rejected_total(),
            envelopes: r.envelopes,
            opened: r.opened,
            carried: r.carried,
            duplicates: r.duplicates,
            proofs: r.proofs,
            proofs_new: r.proofs_new,
            delivered: r.delivered,
            complete: r.complete,
            error: r.error,
        }
    }
}

/// How a neighbour is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum LinkKind {
    /// TCP on the local network (found by mDNS or given).
    Lan,
    /// A link the platform opened (`PlatformTransport`: Bonjour, a test loopback).
    Platform,
    /// A Bluetooth LE link run by the core's BLE driver (`BleRadio`).
    Ble,
}

/// How hard BLE looks for neighbours (the battery budget in
/// `docs/PROTOCOL.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum BlePowerMode {
    /// The app is on screen: neighbours found within seconds.
    Foreground,
    /// The app is in the background: within a minute.
    Background,
    /// The battery is low: within two minutes.
    Saver,
}

impl From<BlePowerMode> for pollen_node::ble::PowerMode {
    fn from(m: BlePowerMode) -> Self {
        match m {
            BlePowerMode::Foreground => Self::Foreground,
            BlePowerMode::Background => Self::Background,
            BlePowerMode::Saver => Self::Saver,
        }
    }
}

impl From<pollen_node::ble::PowerMode> for BlePowerMode {
    fn from(m: pollen_node::ble::PowerMode) -> Self {
        match m {
            pollen_node::ble::PowerMode::Foreground => Self::Foreground,
            pollen_node::ble::PowerMode::Background => Self::Background,
            pollen_node::ble::PowerMode::Saver => Self::Saver,
        }
    }
}

/// A neighbour, as the runtime names it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NeighbourInfo {
    /// mDNS instance name, the platform's peer name, or the BLE handle.
    pub id: String,
    /// How it is reached.
    pub kind: LinkKind,
}
