//! The typed errors every exported method returns.

use pollen_node::node::NodeError;
use pollen_runtime::RuntimeError;
use pollen_runtime::host::HostError;
use thiserror::Error;

/// Why a call failed. Fields are never named `message`, which clashes with
/// `Throwable.message` in Kotlin.
#[derive(Debug, Error, uniffi::Error)]
pub enum PollenError {
    /// The data directory has no identity yet.
    #[error("no identity in {dir}")]
    NotInitialized {
        /// The data directory.
        dir: String,
    },
    /// The data directory already has an identity.
    #[error("an identity already exists in {dir}")]
    AlreadyInitialized {
        /// The data directory.
        dir: String,
    },
    /// The identity is sealed by the phone's keystore: open it with its guard.
    #[error("the identity in {dir} is sealed by the phone's keystore")]
    IdentitySealed {
        /// The data directory.
        dir: String,
    },
    /// The key guard could not seal or open the identity; nothing was written.
    #[error("the key guard failed: {detail}")]
    KeyGuard {
        /// The platform's reason.
        detail: String,
    },
    /// No contact with that alias.
    #[error("no contact named {name:?}")]
    UnknownContact {
        /// The alias asked for.
        name: String,
    },
    /// No conversation with that name.
    #[error("no conversation named {name:?}")]
    UnknownConversation {
        /// The name asked for.
        name: String,
    },
    /// Several conversations match the name.
    #[error("{name:?} names several conversations")]
    AmbiguousConversation {
        /// The name asked for.
        name: String,
    },
    /// No message with that id (prefix).
    #[error("no message with id {id:?}")]
    UnknownMessage {
        /// The id asked for.
        id: String,
    },
    /// Several messages match the id prefix.
    #[error("message id {id:?} is ambiguous")]
    AmbiguousMessage {
        /// The prefix asked for.
        id: String,
    },
    /// A card offered other keys for a pinned contact; the pinned key is kept.
    #[error("key changed for {alias}: pinned {pinned}, offered {offered}")]
    KeyChanged {
        /// The contact.
        alias: String,
        /// Fingerprint of the pinned keys.
        pinned: String,
        /// Fingerprint of the offered keys.
        offered: String,
    },
    /// A name (alias, group) is invalid or taken.
    #[error("invalid name {name:?}: {why}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// A message text is empty or too long.
    #[error("message text is {why}")]
    InvalidText {
        /// What is wrong with it.
        why: String,
    },
    /// A contact card did not decode.
    #[error("contact card refused: {why}")]
    InvalidCard {
        /// Why it was refused.
        why: String,
    },
    /// Only the author may edit or delete a message.
    #[error("only the author can change message {id}")]
    NotAuthor {
        /// The message.
        id: String,
    },
    /// Only the group's admin may change its members.
    #[error("only the admin of {group:?} can change its members")]
    NotAdmin {
        /// The group.
        group: String,
    },
    /// The person is not in the group.
    #[error("{name:?} is not a member of {group:?}")]
    NotMember {
        /// The person.
        name: String,
        /// The group.
        group: String,
    },
    /// The person is in the group already.
    #[error("{name:?} is already a member of {group:?}")]
    AlreadyMember {
        /// The person.
        name: String,
        /// The group.
        group: String,
    },
    /// The group has as many members as it can have.
    #[error("{group:?} is full: a group has at most {max} members")]
    GroupFull {
        /// The group.
        group: String,
        /// The most members a group can have.
        max: u32,
    },
    /// The contact is blocked: unblock them to write to them.
    #[error("{name:?} is blocked: unblock them to write to them")]
    Blocked {
        /// The contact.
        name: String,
    },
    /// The user switched this transport off in Settings.
    #[error("{transport} is switched off in Settings")]
    TransportOff {
        /// "Bluetooth" or "Wi-Fi".
        transport: String,
    },
    /// The conversation cannot be written to.
    #[error("cannot send to {conversation:?}: {why}")]
    CannotSend {
        /// The conversation.
        conversation: String,
        /// Why not.
        why: String,
    },
    /// Not an app id (empty, over 255 bytes, spaces or control characters).
    #[error("invalid app id {app:?}: {why}")]
    InvalidAppId {
        /// What was given (shortened).
        app: String,
        /// What is wrong with it.
        why: String,
    },
    /// The app was not granted this document (or it does not exist).
    #[error("{app} has no access to document {doc_id}")]
    AppAccessDenied {
        /// The app.
        app: String,
        /// The document asked for.
        doc_id: String,
    },
    /// The app may read this document but was not allowed to change it.
    #[error("{app} may read document {doc_id} but not change it")]
    AppAccessReadOnly {
        /// The app.
        app: String,
        /// The document.
        doc_id: String,
    },
    /// This phone's user is not one of the document's writers.
    #[error("document {doc_id} may not be changed from this phone")]
    NotDocWriter {
        /// The document.
        doc_id: String,
    },
    /// The database or a stored value failed.
    #[error("storage: {detail}")]
    Storage {
        /// What failed.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        detail: String,
    },
    /// The runtime could not start (address, socket, mDNS).
    #[error("runtime: {detail}")]
    Runtime {
        /// What failed.
        detail: String,
    },
    /// The runtime is not running (`start` first).
    #[error("the node runtime is not running")]
    NotRunning,
    /// The runtime is already running.
    #[error("the node runtime is already running")]
    AlreadyRunning,
    /// No live platform link with that id.
    #[error("no live link {link_id}")]
    UnknownLink {
        /// The link id given.
        link_id: u64,
    },
    /// A live platform link already has that id.
    #[error("link {link_id} is already up")]
    DuplicateLink {
        /// The link id given.
        link_id: u64,
    },
    /// A platform link parameter is out of range.
    #[error("invalid link: {why}")]
    InvalidLink {
        /// What is wrong.
        why: String,
    },
    /// Not a relay address (`pollen-relay://HOST:PORT/KEY`).
    #[error("invalid relay address {address:?}: {why}")]
    InvalidRelay {
        /// The address given.
        address: String,
        /// What is wrong with it.
        why: String,
    },
    /// `shutdown` was called; the node can no longer be used.
    #[error("the node was shut down")]
    ShutDown,
    /// A bug: a panic or a blocking call from a transport callback.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

impl From<NodeError> for PollenError {
    fn from(e: NodeError) -> Self {
        let text = e.to_string();
        match e {
            NodeError::NotInitialized(d) => Self::NotInitialized {
                dir: d.display().to_string(),
            },
            NodeError::AlreadyInitialized(d) => Self::AlreadyInitialized {
                dir: d.display().to_string(),
            },
            NodeError::IdentitySealed(d) => Self::IdentitySealed {
                dir: d.display().to_string(),
            },
            NodeError::KeyGuard(e) => Self::KeyGuard {
                detail: e.to_string(),
            },
            NodeError::UnknownContact(name) => Self::UnknownContact { name },
            NodeError::UnknownConversation(name) => Self::UnknownConversation { name },
            NodeError::AmbiguousConversation(name) => Self::AmbiguousConversation { name },
            NodeError::UnknownMessage(id) => Self::UnknownMessage { id },
            NodeError::AmbiguousMessage(id) => Self::AmbiguousMessage { id },
            NodeError::UnknownAttachment(id) => Self::UnknownMessage { id },
            NodeError::AmbiguousAttachment(id) => Self::AmbiguousMessage { id },
            NodeError::UnknownDoc(id) => Self::UnknownMessage { id },
            NodeError::AmbiguousDoc(id) => Self::AmbiguousMessage { id },
            NodeError::KeyChanged {
                alias,
                pinned,
                offered,
            } => Self::KeyChanged {
                alias,
                pinned,
                offered,
            },
            NodeError::BadName(name, why) => Self::InvalidName {
                name,
                why: why.to_owned(),
            },
            NodeError::BadText(why) => Self::InvalidText {
                why: why.to_owned(),
            },
            NodeError::Card(c) => Self::InvalidCard { why: c.to_string() },
            NodeError::NotAuthor(id) => Self::NotAuthor { id },
            NodeError::NotAdmin(group) => Self::NotAdmin { group },
            NodeError::NotMember(name, group) => Self::NotMember { name, group },
            NodeError::Blocked(name) => Self::Blocked { name },
            NodeError::AlreadyMember(name, group) => Self::AlreadyMember { name, group },
            NodeError::GroupFull(group, max) => Self::GroupFull {
                group,
                max: max as u32,
            },
            NodeError::CannotSend(conversation, why) => Self::CannotSend {
                conversation,
                why: why.to_owned(),
            },
            NodeError::Io { path, source } => Self::Io {
                path: path.display().to_string(),
                detail: source.to_string(),
            },
            NodeError::Store(_)
            | NodeError::Envelope(_)
            | NodeError::Identity(_)
            | NodeError::Conversation(_)
            | NodeError::Payload(_)
            | NodeError::Bundle(_)
            | NodeError::Attachment(_)
            | NodeError::Doc(_)
            | NodeError::Incomplete(..) => Self::Storage { detail: text },
        }
    }
}

impl From<RuntimeError> for PollenError {
    fn from(e: RuntimeError) -> Self {
        Self::Runtime {
            detail: e.to_string(),
        }
    }
}

impl From<HostError> for PollenError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Node(e) => e.into(),
            HostError::Runtime(detail) => Self::Runtime { detail },
            HostError::NotRunning => Self::NotRunning,
            HostError::AlreadyRunning => Self::AlreadyRunning,
            HostError::UnknownLink(link_id) => Self::UnknownLink { link_id },
            HostError::DuplicateLink(link_id) => Self::DuplicateLink { link_id },
            HostError::InvalidLink(why) => Self::InvalidLink { why },
            HostError::ShutDown => Self::ShutDown,
            HostError::Internal(detail) => Self::Internal { detail },
        }
    }
}
