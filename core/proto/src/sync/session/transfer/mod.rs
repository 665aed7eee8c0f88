//! The encrypted part of a session: hello, reconciliation, transfer in
//! priority order with a credit window, acknowledgements and the end.

use super::config::{Offer, SessionConfig, SessionError, SessionLimits, SessionStats};
use crate::envelope::{DeliveryProof, EnvelopeId};
use crate::sync::encounter::EncounterSummary;
use crate::sync::message::{Blinded, Message};
use crate::sync::recon::Reconciler;
use crate::sync::store::{Incoming, Interests, ItemKind, LocalItem, PeerRole, SyncStore, Toward};
use hello::PendingHello;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

mod commit;
mod hello;
mod outgoing;
mod reconcile;
mod wanted;

/// Priority classes, most urgent first (see `docs/PROTOCOL.md`).
const FOR_PEER: u8 = 0;
const PROOF: u8 = 1;
const PEER_GROUPS: u8 = 2;
const CARRIED: u8 = 3;
/// Chunks of a blob the peer names in its `Wanted` list: after every
/// envelope, before the chunks it would only carry.
const WANTED_CHUNKS: u8 = 4;
/// Attachment chunks: after every envelope, so a message never waits
/// behind a photo.
const CHUNKS: u8 = 5;

/// The first session version that carries attachment chunks.
const CHUNK_VERSION: u8 = 3;

/// The first session version whose envelopes may carry a copy budget.
const COPY_VERSION: u8 = 2;

/// The first session version whose Hello may carry an encounter summary.
const ENCOUNTER_VERSION: u8 = 5;

/// The first session version whose chunks carry a copy budget and whose
/// sides name the blobs they want (the `Wanted` message after Hello).
const WANTED_VERSION: u8 = 6;

/// The first session version whose Hello carries tags blinded to 4 bytes
/// (message type 14; `docs/PROTOCOL.md`, *Messages*).
const SHORT_TAGS_VERSION: u8 = 7;

/// The first session version whose Hello names the tag days of what its
/// sender holds, and whose peer answers with its tags for those days only
/// (the `Tags` message).
const HELD_DAYS_VERSION: u8 = 8;

/// Window accounting charges a proof like this many bytes.
const PROOF_COST: u64 = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SendItem {
    /// An item from the local store, by id.
    Local([u8; 32]),
    /// A delivery proof created during this session (an envelope opened here).
    Fresh([u8; 32]),
}

/// What an acknowledgement hands over: an envelope or a chunk, by id.
#[derive(Clone, Copy, Debug)]
enum Handed {
    /// An envelope, and the copies that went with it (refunded if the link
    /// goes before the peer acknowledges it).
    Envelope([u8; 32], Option<u32>),
    /// A chunk, and the copies that went with it.
    Chunk([u8; 32], Option<u32>),
}

/// The next item to send: the message, its window cost, and what it hands
/// over (to note once acknowledged).
type Ready = (Message, u64, Option<Handed>);

/// The transfer state of one session.
pub(super) struct Transfer {
    initiator: bool,
    offer: Offer,
    window: u32,
    listen_port: u16,
    limits: SessionLimits,
    /// A Bluetooth link: ask only for the blobs fetched over slow links.
    slow_link: bool,
    origin: String,
    hash: [u8; 32],
    /// The session version: 2 and later carry copy budgets.
    version: u8,
    started: bool,
    local: HashMap<[u8; 32], LocalItem>,
    control: VecDeque<Message>,
    peer_hello: bool,
    peer_port: Option<u16>,
    peer_window: u64,
    peer_direct: HashSet<Blinded>,
    peer_shared: HashSet<Blinded>,
    /// Whom the peer meets, from its Hello (version 5 and later).
    peer_encounters: Option<EncounterSummary>,
    /// Each routing tag's class and the peer's predictability for it, as
    /// the peer's Hello decides them: asked several times for every item a
    /// session lists, each a keyed hash or two, of a few distinct tags.
    /// Emptied whenever what decides them changes ([`Transfer::peer_changed`]).
    tag_memo: RefCell<HashMap<[u8; 8], TagView>>,
    /// Blinded blobs the peer wants (version 6 and later).
    peer_wanted: HashSet<Blinded>,
    /// The peer's Hello, waiting for its first `Wanted` (version 6) and
    /// its `Tags` (version 8).
    hello_pending: Option<PendingHello>,
    /// This side's tags, loaded at the start, for the peer's days.
    interests: Interests,
    /// Blobs this side has named in its `Wanted` messages.
    announced: HashSet<[u8; 32]>,
    recon: Option<Reconciler>,
    recon_done: bool,
    /// The initiator sent Offers and waits for the responder's last Want.
    awaiting_wants: bool,
    have: Vec<[u8; 32]>,
    need: Vec<[u8; 32]>,
    /// Ids this side asked the peer for ([`SyncStore::claim`]).
    claimed: Vec<[u8; 32]>,
    /// Items to send by (class, rank within the class, order queued).
    queue: BinaryHeap<Reverse<(u8, u32, u64, SendItem)>>,
    queued: HashSet<[u8; 32]>,
    seq: u64,
    /// The next items to send, loaded together: as many as the peer's
    /// window had room for when the last ran out (at least one).
    ready: VecDeque<Ready>,
    /// Sent and not yet acknowledged, in order: cost, what it hands over.
    in_flight: VecDeque<(u64, Option<Handed>)>,
    in_flight_bytes: u64,
    pending: Vec<Incoming>,
    pending_bytes: u64,
    commit_at: Option<u64>,
    last_sent_done: bool,
    peer_done: bool,
}

/// A routing tag's priority class for the peer, and the peer's
/// predictability of meeting its owner (with an encounter summary).
type TagView = (u8, Option<f32>);

/// What a peer is for an item of this priority class.
fn role_of(class: u8) -> PeerRole {
    match class {
        FOR_PEER | WANTED_CHUNKS => PeerRole::Recipient,
        PEER_GROUPS => PeerRole::Member,
        _ => PeerRole::Carrier,
    }
}

impl Transfer {
    pub(super) fn new(config: &SessionConfig) -> Transfer {
        Transfer {
            initiator: config.initiator,
            offer: config.offer,
            window: config.window,
            listen_port: config.listen_port,
            limits: config.limits.clone(),
            slow_link: config.slow_link,
            origin: config.origin.clone(),
            hash: [0; 32],
            version: 1,
            started: false,
            local: HashMap::new(),
            control: VecDeque::new(),
            peer_hello: false,
            peer_port: None,
            peer_window: 0,
            peer_direct: HashSet::new(),
            peer_shared: HashSet::new(),
            peer_encounters: None,
            tag_memo: RefCell::default(),
            peer_wanted: HashSet::new(),
            hello_pending: None,
            interests: Interests::default(),
            announced: HashSet::new(),
            recon: None,
            recon_done: false,
            awaiting_wants: false,
            have: Vec::new(),
            need: Vec::new(),
            claimed: Vec::new(),
            queue: BinaryHeap::new(),
            queued: HashSet::new(),
            seq: 0,
            ready: VecDeque::new(),
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            pending: Vec::new(),
            pending_bytes: 0,
            commit_at: None,
            last_sent_done: false,
            peer_done: false,
        }
    }

    /// The link is encrypted: load what this side holds, say hello, and (as
    /// initiator) open reconciliation.
    pub(super) fn start(
        &mut self,
        hash: [u8; 32],
        version: u8,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        self.hash = hash;
        self.version = version;
        self.peer_changed();
        self.started = true;
        // A relay loads only what the client asks for, once its Hello is here.
        let items = if self.offer == Offer::Interests {
            Vec::new()
        } else {
            store.items()?
        };
        if items.len() > self.limits.recon.max_items {
            // Offer the freshest ones; the rest waits for a later encounter.
            tracing::warn!(
                held = items.len(),
                max = self.limits.recon.max_items,
                "more items than one session reconciles"
            );
        }
        let mut items = items;
        if version < CHUNK_VERSION {
            items.retain(|i| !matches!(i.kind, ItemKind::Chunk { .. }));
        }
        items.sort_unstable_by_key(|i| Reverse(i.expires_at));
        items.truncate(self.limits.recon.max_items);
        self.local = items.into_iter().map(|i| (i.id, i)).collect();
        self.interests = store.interests()?;
        let encounters = if version >= ENCOUNTER_VERSION && self.offer == Offer::Routed {
            store.encounter_summary()?
        } else {
            None
        };
        // From version 8 the tags wait for the peer's held days.
        let days = (version >= HELD_DAYS_VERSION).then(|| self.held_days());
        let (direct, shared) = match days {
            Some(_) => (Vec::new(), Vec::new()),
            None => self.blinded_interests(None),
        };
        self.control.push_back(Message::Hello {
            window: self.window,
            port: self.listen_port,
            direct,
            shared,
            encounters,
            short: self.short_tags(),
            days,
        });
        if version >= WANTED_VERSION {
            let wanted = store.wanted_blobs(self.slow_link)?;
            self.announce(&wanted, false, store)?;
        }
        // Offering by interests, or by what the policy offers this peer
        // (routed, version 4), needs the peer's Hello first; otherwise a
        // routed session reconciles everything held and lets the policy pick
        // what to send once the differences are known.
        // From version 8 the peer needs this side's tags before the first
        // Recon, and they wait for the peer's Hello (`hello.rs`).
        if self.initiator && self.reconciles_all() && version < HELD_DAYS_VERSION {
            self.initiate(store, stats)?;
        }
        Ok(())
    }

    /// Whether this side reconciles everything it holds whatever the peer's
    /// Hello says (not a relay's interests, not a routed session's offers).
    fn reconciles_all(&self) -> bool {
        self.offer != Offer::Interests && !self.offers_only()
    }

    /// Whether this session blinds tags to 4 bytes (version 7 and later).
    fn short_tags(&self) -> bool {
        self.version >= SHORT_TAGS_VERSION
    }

    pub(super) fn on_message(
        &mut self,
        msg: Message,
        now_ms: u64,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        if let Some(why) = self.incomplete_hello(&msg) {
            return Err(SessionError::Protocol(why));
        }
        if !self.peer_hello && self.hello_pending.is_none() && !matches!(msg, Message::Hello { .. })
        {
            return Err(SessionError::Protocol("message before hello"));
        }
        if !matches!(msg, Message::Done) {
            self.peer_done = false;
        }
        match msg {
            Message::Hello {
                window,
                port,
                direct,
                shared,
                encounters,
                short,
                days,
            } => {
                if short != (self.version >= SHORT_TAGS_VERSION) {
                    return Err(SessionError::Protocol(
                        "hello tags of another length than the session version's",
                    ));
                }
                if encounters.is_some() && self.version < ENCOUNTER_VERSION {
                    return Err(SessionError::Protocol(
                        "encounter summary in a session before version 5",
                    ));
                }
                // Only phones route by encounters; a relay ignores them.
                if let Some(summary) = encounters.filter(|_| self.offer == Offer::Routed) {
                    store.met(&summary)?;
                    self.peer_encounters = Some(summary);
                    self.peer_changed();
                }
                self.on_peer_hello((window, port), (direct, shared), days, store, stats)?
            }
            Message::Tags { direct, shared } => {
                if self.version < HELD_DAYS_VERSION {
                    return Err(SessionError::Protocol("tags in a session before version 8"));
                }
                self.on_tags((direct, shared), store, stats)?
            }
            Message::Wanted { blobs, ids } => self.on_wanted(blobs, ids, store, stats)?,
            Message::Recon(bytes) => self.on_recon(&bytes, store, stats)?,
            Message::Want { last, ids } => {
                // An initiator gets Wants only in answer to its Offers.
                let expected = if self.initiator {
                    self.awaiting_wants
                } else {
                    !self.recon_done
                };
                if !expected {
                    return Err(SessionError::Protocol("unexpected want"));
                }
                for id in ids {
                    // Unknown ids cost nothing: only what this side holds is queued.
                    if self.local.contains_key(&id) {
                        self.enqueue(SendItem::Local(id), store)?;
                    }
                }
                if self.initiator {
                    self.awaiting_wants = !last;
                } else {
                    self.recon_done = last;
                }
            }
            Message::Offer { last, ids } => self.on_offer(last, ids, store)?,
            Message::Envelope(bytes) => {
                stats.envelopes_received += 1;
                self.receive(bytes.len() as u64, Incoming::Envelope(bytes), now_ms)?;
            }
            Message::Copy { copies, envelope } => {
                if self.version < COPY_VERSION {
                    return Err(SessionError::Protocol("copy budget in a version 1 session"));
                }
                stats.envelopes_received += 1;
                let cost = envelope.len() as u64;
                self.receive(cost, Incoming::Copy { copies, envelope }, now_ms)?;
            }
            Message::Chunk(bytes) => {
                if self.version < CHUNK_VERSION {
                    return Err(SessionError::Protocol(
                        "chunk in a session before version 3",
                    ));
                }
                stats.chunks_received += 1;
                self.receive(bytes.len() as u64, Incoming::Chunk(bytes), now_ms)?;
            }
            Message::ChunkCopy { copies, chunk } => {
                if self.version < WANTED_VERSION {
                    return Err(SessionError::Protocol(
                        "chunk copy in a session before version 6",
                    ));
                }
                stats.chunks_received += 1;
                let cost = chunk.len() as u64;
                self.receive(cost, Incoming::ChunkCopy { copies, chunk }, now_ms)?;
            }
            Message::Proof(secret) => {
                stats.proofs_received += 1;
                self.receive(PROOF_COST, Incoming::Proof(DeliveryProof(secret)), now_ms)?;
            }
            Message::Ack(n) => {
                let n = n as usize;
                if n > self.in_flight.len() {
                    return Err(SessionError::Protocol("acknowledged more than was sent"));
                }
                let (mut held, mut chunks) = (Vec::new(), Vec::new());
                for (size, handed) in self.in_flight.drain(..n) {
                    self.in_flight_bytes -= size;
                    match handed {
                        Some(Handed::Envelope(id, _)) => held.push(EnvelopeId(id)),
                        Some(Handed::Chunk(id, _)) => chunks.push(id),
                        None => {}
                    }
                }
                if !held.is_empty() {
                    store.handed_over(&held)?;
                }
                if !chunks.is_empty() {
                    store.chunks_handed_over(&chunks)?;
                }
            }
            Message::Done => self.peer_done = true,
            Message::Close(_) => {}
        }
        Ok(())
    }

    /// Queues an item for sending, unless a routed session's policy keeps it
    /// from this peer.
    fn enqueue(&mut self, item: SendItem, store: &mut dyn SyncStore) -> Result<(), SessionError> {
        let key = match item {
            SendItem::Local(id) | SendItem::Fresh(id) => id,
        };
        if self.queued.contains(&key) {
            return Ok(());
        }
        let (class, rank) = match item {
            SendItem::Fresh(_) => (PROOF, 0),
            SendItem::Local(id) => {
                let Some(local) = self.local.get(&id).copied() else {
                    return Ok(());
                };
                let class = self.class_of(&local);
                if self.offer == Offer::Routed && !store.offer_to(&local, self.toward(&local))? {
                    return Ok(());
                }
                let rank = match local.kind {
                    ItemKind::Chunk { given, .. } => given,
                    _ => 0,
                };
                (class, rank)
            }
        };
        self.queued.insert(key);
        self.seq += 1;
        self.queue.push(Reverse((class, rank, self.seq, item)));
        Ok(())
    }

    /// Queues this node's own envelopes written since the session started
    /// (see `Session::take_news`); whether any was queued.
    pub(super) fn take_news(&mut self, store: &mut dyn SyncStore) -> Result<bool, SessionError> {
        if !self.peer_hello || (self.idle() && self.last_sent_done && self.peer_done) {
            return Ok(false);
        }
        let before = self.queue.len();
        for item in store.own_items()? {
            if self.local.contains_key(&item.id) {
                continue;
            }
            self.local.insert(item.id, item);
            self.enqueue(SendItem::Local(item.id), store)?;
        }
        Ok(self.queue.len() > before)
    }

    /// Transfer priority of a local item for this peer.
    /// The class of an envelope with this tag: for the peer, for its
    /// groups, or carried.
    fn class_of_tag(&self, tag: &crate::envelope::RoutingTag) -> u8 {
        self.tag_view(tag).0
    }

    /// A tag's class and the peer's predictability of meeting its owner.
    fn tag_view(&self, tag: &crate::envelope::RoutingTag) -> TagView {
        if let Some(&view) = self.tag_memo.borrow().get(&tag.0) {
            return view;
        }
        let b = super::blind(&self.hash, &tag.0, self.short_tags());
        let class = if self.peer_direct.contains(&b) {
            FOR_PEER
        } else if self.peer_shared.contains(&b) {
            PEER_GROUPS
        } else {
            CARRIED
        };
        let meets = self.peer_encounters.as_ref().map(|s| s.predict(&tag.0));
        self.tag_memo.borrow_mut().insert(tag.0, (class, meets));
        (class, meets)
    }

    /// What decides a tag's class or prediction changed.
    pub(super) fn peer_changed(&mut self) {
        self.tag_memo.get_mut().clear();
    }

    fn class_of(&self, item: &LocalItem) -> u8 {
        match item.kind {
            ItemKind::Proof { .. } => PROOF,
            ItemKind::Chunk { blob, .. } => {
                if self
                    .peer_wanted
                    .contains(&super::blind_blob(&self.hash, &blob))
                {
                    WANTED_CHUNKS
                } else {
                    CHUNKS
                }
            }
            ItemKind::Envelope { tag, .. } => self.class_of_tag(&tag),
        }
    }

    fn idle(&self) -> bool {
        self.started
            && self.peer_hello
            && self.recon_done
            && !self.awaiting_wants
            && self.control.is_empty()
            && self.queue.is_empty()
            && self.ready.is_empty()
            && self.in_flight.is_empty()
            && self.pending.is_empty()
    }

    /// Whom `item` would go to: the peer's role for it and, for an envelope,
    /// how likely the peer says it is to meet the recipient.
    fn toward(&self, item: &LocalItem) -> Toward {
        match item.kind {
            ItemKind::Envelope { tag, .. } => {
                let (class, meets) = self.tag_view(&tag);
                Toward {
                    role: role_of(class),
                    meets,
                }
            }
            _ => Toward {
                role: role_of(self.class_of(item)),
                meets: None,
            },
        }
    }

    /// The port the peer accepts sessions on, once its Hello arrived.
    pub(super) fn peer_port(&self) -> Option<u16> {
        self.peer_port
    }

    /// Both sides are settled and have said so.
    pub(super) fn finished(&self) -> bool {
        self.idle() && self.last_sent_done && self.peer_done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::RoutingTag;

    #[test]
    fn a_tags_remembered_class_follows_the_peers_hello() {
        let mut t = Transfer::new(&SessionConfig::tcp(true, "t").routed());
        let tag = RoutingTag([1; 8]);
        assert_eq!(t.tag_view(&tag), (CARRIED, None), "before the Hello");
        t.peer_direct
            .insert(super::super::blind(&t.hash, &tag.0, t.short_tags()));
        assert_eq!(t.tag_view(&tag).0, CARRIED, "remembered");
        t.peer_changed();
        assert_eq!(t.tag_view(&tag).0, FOR_PEER, "asked again after the change");
    }
}
