//! The node facade: one identity, one store, and every user-level operation
//! (contacts, sending, groups, inbox, sneakernet). The CLI and the bindings
//! drive this; it reads time only through a [`Clock`] so tests stay
//! deterministic.

mod asked;
mod attach;
mod blocks;
mod contacts;
mod direct_tags;
mod docs;
pub mod events;
mod groups;
mod ingest;
mod key_guard;
mod receipts;
pub mod send;
mod sneakernet;
mod status;
mod sync_store;
pub use status::Status;
mod wipe;

pub use attach::{ATTACHMENT_TTL_SECS, blob_hex};
pub use blocks::Blocked;
pub use docs::DocInfo;
pub use events::{ConversationId, MessageChange, NodeEvent};
pub use ingest::{IngestOutcome, Rejection};
pub use key_guard::{KeyGuard, KeyGuardError};
pub use sneakernet::{ExportReport, ImportReport};
pub use wipe::wipe_data_dir;

use crate::conversation::{ConversationError, MessageId};
use crate::store::{ConversationRow, MessageRow, Store, StoreError, StoreLimits};
use pollen_proto::bundle::BundleError;
use pollen_proto::envelope::EnvelopeError;
use pollen_proto::identity::{CardError, Fingerprint, Identity, IdentityError, PublicIdentity};
use pollen_proto::payload::PayloadError;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// How long a message is carried before it expires.
pub const DEFAULT_TTL_SECS: u64 = 7 * 86400;
/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "pollen.db";

const IDENTITY_KEY: &str = "identity";
/// Meta key of the encounter-routing switch (`on` or `off`).
const ENCOUNTER_ROUTING_KEY: &str = "routing.encounters";

/// Where time comes from.
pub trait Clock: Send + Sync {
    /// Unix seconds now.
    fn now(&self) -> u64;

    /// Unix milliseconds now: message times, so two messages sent within one
    /// second keep their order.
    fn now_ms(&self) -> u64 {
        self.now().saturating_mul(1000)
    }
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// Why a node operation failed. Each variant is one clear line for users.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An envelope could not be sealed or opened.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Identity problem.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A contact card was refused.
    #[error("contact card refused: {0}")]
    Card(#[from] CardError),
    /// A conversation change was refused.
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    /// A payload was malformed.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// A bundle file was unreadable.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `init` was run on a data directory that already has an identity.
    #[error("an identity already exists in {0}; refusing to overwrite it")]
    AlreadyInitialized(PathBuf),
    /// The data directory has no identity yet.
    #[error("no identity in {0}; run `pollen init --name NAME` first")]
    NotInitialized(PathBuf),
    /// The identity in the directory is sealed by a phone's keystore.
    #[error("the identity in {0} is sealed by the phone's keystore; open it with its key guard")]
    IdentitySealed(PathBuf),
    /// The phone's keystore could not seal or open the identity secret.
    #[error("the key guard failed: {0}")]
    KeyGuard(KeyGuardError),
    /// No contact with that name.
    #[error("no contact named {0:?}")]
    UnknownContact(String),
    /// No conversation with that name.
    #[error("no conversation named {0:?}")]
    UnknownConversation(String),
    /// Several conversations match a name.
    #[error("{0:?} names several conversations; use a contact alias, group name or #channel")]
    AmbiguousConversation(String),
    /// No message with that id (prefix).
    #[error("no message with id {0:?}")]
    UnknownMessage(String),
    /// Several messages match an id prefix.
    #[error("message id {0:?} is ambiguous; give more characters")]
    AmbiguousMessage(String),
    /// A card offered other keys for a pinned contact.
    #[error(
        "KEY CHANGED for {alias}: pinned {pinned}, offered {offered}. The pinned key is kept; verify in person, then `pollen contact remove {alias}` and add the new card"
    )]
    KeyChanged {
        /// The contact.
        alias: String,
        /// Fingerprint of the pinned keys.
        pinned: String,
        /// Fingerprint of the offered keys.
        offered: String,
    },
    /// An alias is invalid or taken.
    #[error("invalid name {0:?}: {1}")]
    BadName(String, &'static str),
    /// Only the author may edit or delete a message.
    #[error("only the author can change message {0}")]
    NotAuthor(String),
    /// Only the group's admin may change its membership.
    #[error("only the admin of group {0:?} can change its members")]
    NotAdmin(String),
    /// The person is not a member of the group.
    #[error("{0:?} is not a member of group {1:?}")]
    NotMember(String, String),
    /// The person is a member of the group already.
    #[error("{0:?} is already a member of group {1:?}")]
    AlreadyMember(String, String),
    /// The contact is blocked here: unblock them to write to them.
    #[error("{0:?} is blocked: unblock them to write to them")]
    Blocked(String),
    /// A group has as many members as a group key can list.
    #[error("group {0:?} is full: a group has at most {1} members")]
    GroupFull(String, usize),
    /// The conversation cannot be written to (e.g. a group we were removed from).
    #[error("cannot send to {0:?}: {1}")]
    CannotSend(String, &'static str),
    /// A text is empty or too long.
    #[error("message text is {0}")]
    BadText(&'static str),
    /// An attachment could not be sealed or assembled.
    #[error("attachment: {0}")]
    Attachment(String),
    /// No message names an attachment with this id.
    #[error("no attachment with id {0:?}")]
    UnknownAttachment(String),
    /// Several attachments start with this id.
    #[error("attachment id {0:?} is ambiguous; give more characters")]
    AmbiguousAttachment(String),
    /// Not every chunk is here yet.
    #[error("attachment is incomplete: {0} of {1} chunks")]
    Incomplete(u16, u16),
    /// A shared document change was refused or could not be made.
    #[error("shared document: {0}")]
    Doc(#[from] crate::shared_docs::DocError),
    /// No shared document has this id.
    #[error("no shared document with id {0:?}")]
    UnknownDoc(String),
    /// Several shared documents start with this id.
    #[error("document id {0:?} is ambiguous; give more characters")]
    AmbiguousDoc(String),
}

impl NodeError {
    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// A Pollen node on one data directory.
pub struct Node {
    store: Store,
    me: Identity,
    public: PublicIdentity,
    clock: Box<dyn Clock>,
    dir: PathBuf,
    ttl_secs: u64,
    /// Reconciliation ids of known proofs, derived once each: every session
    /// lists every proof, and deriving them all each time dominated profiles.
    /// With each, whether it matched something held here, which decides
    /// whether it is offered on.
    proof_ids: std::collections::HashMap<[u8; 32], ([u8; 32], bool)>,
    /// What the node learned, released as transactions commit.
    events: events::EventQueue,
    /// Whether this phone tells neighbours whom it meets and routes by what
    /// they tell (the user's switch; see [`Node::set_encounter_routing`]).
    encounter_routing: bool,
    /// Whom this phone and its neighbours met today (kept in memory only:
    /// it is forgotten at the day's end anyway).
    encounters: crate::routing::encounter::Encounters,
    /// How much of others' attachment chunks this node carries.
    chunk_limits: crate::attachments::ChunkLimits,
    /// What sessions have asked neighbours for and not yet received.
    asked: asked::Asked,
    /// This node's direct tag by day, for the routing policy's questions.
    direct_tags: direct_tags::DirectTags,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("dir", &self.dir).finish()
    }
}

impl Node {
    /// The key of this node's hop coin (rule 4 of the admission module):
    /// derived from its identity, so it is stable across restarts and secret.
    pub(crate) fn hop_key(&self) -> [u8; 32] {
        blake3::derive_key(
            "pollen 2026-12 hop coin v1",
            &self.me.agreement_secret_bytes(),
        )
    }

    /// Creates a new identity in `dir` (which may not hold one yet).
    pub fn init(dir: &Path, name: &str, clock: Box<dyn Clock>) -> Result<Node, NodeError> {
        std::fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
        let store = open_store(dir)?;
        if key_guard::has_identity(&store)? {
            return Err(NodeError::AlreadyInitialized(dir.to_owned()));
        }
        let me = Identity::generate(name)?;
        store.set_meta(IDENTITY_KEY, &me.to_secret_bytes())?;
        restrict_permissions(&dir.join(DB_FILE));
        Ok(Self::assemble(store, me, clock, dir))
    }

    /// A new identity on an in-memory store: for the simulator and tests,
    /// where thousands of nodes live in one process and nothing must persist.
    pub fn in_memory(
        name: &str,
        limits: StoreLimits,
        clock: Box<dyn Clock>,
    ) -> Result<Node, NodeError> {
        let store = Store::in_memory(limits)?;
        let me = Identity::generate(name)?;
        Ok(Self::assemble(store, me, clock, Path::new("")))
    }

    /// Opens the identity and store in `dir`.
    pub fn open(dir: &Path, clock: Box<dyn Clock>) -> Result<Node, NodeError> {
        if !dir.join(DB_FILE).exists() {
            return Err(NodeError::NotInitialized(dir.to_owned()));
        }
        let store = open_store(dir)?;
        let Some(secret) = store.meta(IDENTITY_KEY)? else {
            return Err(match key_guard::has_identity(&store)? {
                true => NodeError::IdentitySealed(dir.to_owned()),
                false => NodeError::NotInitialized(dir.to_owned()),
            });
        };
        let me = Identity::from_secret_bytes(&secret)?;
        Ok(Self::assemble(store, me, clock, dir))
    }

    fn assemble(store: Store, me: Identity, clock: Box<dyn Clock>, dir: &Path) -> Node {
        let public = me.public();
        // Unset means on: the setting is written only when the user turns it off.
        let encounter_routing =
            !matches!(store.meta(ENCOUNTER_ROUTING_KEY), Ok(Some(v)) if v == b"off");
        Node {
            store,
            me,
            public,
            clock,
            dir: dir.to_owned(),
            ttl_secs: DEFAULT_TTL_SECS,
            proof_ids: std::collections::HashMap::new(),
            events: events::EventQueue::default(),
            encounter_routing,
            encounters: Default::default(),
            chunk_limits: Default::default(),
            asked: Default::default(),
            direct_tags: Default::default(),
        }
    }

    /// Turns encounter routing on or off, and keeps the choice. Off, the
    /// phone tells neighbours nothing of whom it meets, ignores what they
    /// tell, forgets what it learned and routes blind; it still carries for
    /// others (`docs/THREAT_MODEL.md`, *Encounter routing*).
    pub fn set_encounter_routing(&mut self, on: bool) -> Result<(), NodeError> {
        let value: &[u8] = if on { b"on" } else { b"off" };
        self.store.set_meta(ENCOUNTER_ROUTING_KEY, value)?;
        self.encounter_routing = on;
        if !on {
            self.encounters = Default::default();
        }
        Ok(())
    }

    /// This phone's predictability (0..=1) of meeting the owner of `tag`,
    /// from today's encounters (0 with encounter routing off).
    pub fn meets(&self, tag: &pollen_proto::envelope::RoutingTag) -> f32 {
        self.encounters.predict(tag, self.now())
    }

    /// Whether encounter routing is on (it is unless the user turned it off).
    pub fn encounter_routing(&self) -> bool {
        self.encounter_routing
    }

    /// Runs `f` in one store transaction; the events it raised are released
    /// if it commits and forgotten if it rolls back.
    pub(crate) fn transaction<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, NodeError>,
    ) -> Result<T, NodeError> {
        let mark = self.events.mark();
        match self.store.transaction(f) {
            Ok(v) => {
                self.events.commit(mark);
                Ok(v)
            }
            Err(e) => {
                self.events.rollback(mark);
                Err(e)
            }
        }
    }

    /// Raises "this conversation changed" in the running transaction.
    pub(crate) fn conversation_changed(&self, id: &ConversationId) {
        self.events
            .raise(NodeEvent::ConversationChanged { conversation: *id });
    }

    /// Starts keeping [`NodeEvent`]s for [`Node::take_events`] (off by
    /// default, so nodes nobody watches keep nothing).
    pub fn watch_events(&self, on: bool) {
        self.events.keep(on);
    }

    /// Takes what the node learned since the last call, oldest first: new,
    /// changed and delivered messages, conversation and key changes, storage
    /// pressure. Up to 10,000 are kept for a reader that has not drained them.
    pub fn take_events(&self) -> Vec<NodeEvent> {
        self.events.take()
    }

    /// Whether events wait for [`Node::take_events`]: the runtime wakes the
    /// app's observer on this, whatever raised them.
    pub fn has_events(&self) -> bool {
        self.events.any_ready()
    }

    /// One message as the UI shows it.
    pub fn message(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<Option<MessageRow>, NodeError> {
        Ok(self.store.message(conversation, id, &self.public.signing)?)
    }

    /// One conversation of the list.
    pub fn conversation(&self, id: &ConversationId) -> Result<Option<ConversationRow>, NodeError> {
        Ok(self.store.conversation(id)?)
    }

    /// How long this node's new envelopes live (clamped to the protocol's
    /// maximum): short-lived events such as a festival want less than a week.
    pub fn set_ttl(&mut self, secs: u64) {
        self.ttl_secs = secs.clamp(60, pollen_proto::envelope::MAX_TTL_SECS);
    }

    /// The node's identity.
    pub fn identity(&self) -> &Identity {
        &self.me
    }

    /// The node's public keys.
    pub fn public(&self) -> &PublicIdentity {
        &self.public
    }

    /// The node's fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.public.fingerprint()
    }

    /// The node's contact card, `pollen1…`.
    pub fn card(&self) -> String {
        self.me.card().encode()
    }

    /// The underlying store (read access for status displays and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Replaces the storage limits.
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.store.set_limits(limits);
    }

    /// Sets how much of others' attachment chunks this node carries (its
    /// own and fetched ones are not counted).
    pub fn set_chunk_limits(&mut self, limits: crate::attachments::ChunkLimits) {
        self.chunk_limits = limits;
    }

    /// Unix seconds now, by this node's clock.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The conversation list, most recent first.
    pub fn conversations(&self, limit: u32) -> Result<Vec<ConversationRow>, NodeError> {
        Ok(self.store.conversations(limit)?)
    }

    /// A page of the conversation list after `before` = (last_activity, id)
    /// of the previous page's last row.
    pub fn conversations_page(
        &self,
        limit: u32,
        before: Option<(u64, ConversationId)>,
    ) -> Result<Vec<ConversationRow>, NodeError> {
        Ok(self.store.conversations_page(limit, before)?)
    }

    /// A page of messages, newest first, optionally of one conversation.
    pub fn messages(
        &self,
        conversation: Option<&str>,
        limit: u32,
        before: Option<(u64, MessageId)>,
    ) -> Result<Vec<MessageRow>, NodeError> {
        let conv = match conversation {
            Some(name) => Some(self.resolve_conversation(name)?.id),
            None => None,
        };
        Ok(self
            .store
            .messages(conv.as_ref(), &self.public.signing, limit, before)?)
    }

    /// Finds a conversation by contact alias, group name or `#channel`.
    pub fn resolve_conversation(&self, name: &str) -> Result<ConversationRow, NodeError> {
        let mut rows = self.store.conversations_named(name.trim())?;
        if rows.is_empty() && !name.starts_with('#') {
            rows = self
                .store
                .conversations_named(&format!("#{}", name.trim()))?;
        }
        if rows.is_empty()
            && let Some(c) = self.store.contact_by_alias(name.trim())?
        {
            return self.direct_conversation(&c.identity, &c.alias);
        }
        match rows.len() {
            0 => Err(NodeError::UnknownConversation(name.to_owned())),
            1 => Ok(rows.remove(0)),
            _ => Err(NodeError::AmbiguousConversation(name.to_owned())),
        }
    }

    /// Drops expired envelopes, proofs and replay records.
    pub fn expire(&self) -> Result<usize, NodeError> {
        Ok(self.store.expire(self.now())?)
    }

    /// Copies the database's write-ahead log into the database file. A
    /// running node calls it when no session is running, so that a sync's
    /// commits never stop for the copy ([`crate::store::Store::checkpoint`]).
    pub fn checkpoint(&self) -> Result<crate::store::Checkpoint, NodeError> {
        Ok(self.store.checkpoint()?)
    }
}

fn open_store(dir: &Path) -> Result<Store, NodeError> {
    Ok(Store::open(&dir.join(DB_FILE), StoreLimits::default())?)
}

/// The identity secret lives in the database: keep it owner-only on Unix.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(path = %path.display(), error = %e, "could not restrict database permissions");
        }
    }
}

/// Conversation id of the direct conversation between two people; both sides
/// compute the same id.
pub fn direct_conversation_id(a: &PublicIdentity, b: &PublicIdentity) -> ConversationId {
    let (lo, hi) = if a.signing <= b.signing {
        (a, b)
    } else {
        (b, a)
    };
    let mut h = blake3::Hasher::new_derive_key("pollen v1 direct conversation");
    h.update(lo.signing.as_bytes());
    h.update(hi.signing.as_bytes());
    let mut id = ConversationId([0u8; 16]);
    id.0.copy_from_slice(&h.finalize().as_bytes()[..16]);
    id
}

/// Checks a user-chosen name (alias, group name).
pub(crate) fn check_name(name: &str) -> Result<&str, NodeError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(NodeError::BadName(name.to_owned(), "it is empty"));
    }
    if n.len() > pollen_proto::identity::MAX_NAME_BYTES {
        return Err(NodeError::BadName(
            name.to_owned(),
            "it is longer than 64 bytes",
        ));
    }
    if n.chars().any(char::is_control) {
        return Err(NodeError::BadName(
            name.to_owned(),
            "it contains control characters",
        ));
    }
    if n.chars().any(pollen_proto::identity::is_format_char) {
        return Err(NodeError::BadName(
            name.to_owned(),
            "it contains invisible format characters (bidi or zero-width)",
        ));
    }
    if n.starts_with('#') {
        return Err(NodeError::BadName(
            name.to_owned(),
            "# is reserved for channels",
        ));
    }
    Ok(n)
}
