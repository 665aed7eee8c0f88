//! One simulated phone (or gateway, or relay): a real core [`Node`] on an
//! in-memory store, wrapped so the engine can apply the routing policy and
//! keep the bookkeeping a policy needs (copies, hops, where a copy came from).
//!
//! Copy budgets travel in the session itself (the `Copy` message, through
//! [`SyncStore::handover`]). Hop counts (the flood baseline's) and whether a
//! copy passed the relay (a measurement) travel beside it, as a [`Trail`].

use crate::adversary::{AdversaryKind, FLOOD_CLAIMED_COPIES};
use crate::policy::{Held, Policy};
use crate::scenario::Role;
use pollen_node::node::{Node, NodeError};
use pollen_node::routing::encounter::{LEVELS, own_keys};
use pollen_proto::envelope::{Commitment, DeliveryProof, Envelope, EnvelopeId, RoutingTag};
use pollen_proto::sync::encounter::{DAY_S, EncounterSummary, summary_key};
use pollen_proto::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, PeerRole, Received, SyncStore, SyncStoreError,
    Toward, WantedBlob,
};
use std::collections::{HashMap, HashSet};

/// A node's policy state for one envelope it holds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CopyMeta {
    pub copies: u32,
    pub hops: u8,
    pub via_relay: bool,
    /// The last copy was handed on (`encounter`): wait for a recipient.
    pub retired: bool,
}

/// What the engine passes beside a copy (not on the wire): hops travelled
/// and whether it passed the relay.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trail {
    pub hops: u8,
    pub via_relay: bool,
}

/// The items a node's store held as of one `version`, good until the first
/// of them expires or the next held-back delivery proof is released (which
/// adds the proof and drops the copy kept meanwhile: a change with the
/// clock, not with a write the simulator sees).
struct ItemCache {
    version: u64,
    until: u64,
    items: Vec<LocalItem>,
    ids: HashSet<[u8; 32]>,
}

/// A node's interest tags as of one day: (day, direct, shared).
type TagCache = (u64, HashSet<[u8; 8]>, HashSet<[u8; 8]>);

/// A node plus the policy's per-item state.
pub(crate) struct SimNode {
    pub node: Node,
    pub role: Role,
    policy: Policy,
    /// Envelope ids this node wrote.
    own: HashSet<[u8; 32]>,
    /// Policy state of every envelope held.
    meta: HashMap<[u8; 32], CopyMeta>,
    /// Items made before the run (group keys): never offered.
    hidden: HashSet<[u8; 32]>,
    /// The peer of the session being stepped right now, and its role.
    pub peer: Option<(u32, Role)>,
    /// Copies loaded for sending this step: (peer, id, their trail).
    pub outgoing: Vec<(u32, [u8; 32], Trail)>,
    /// Copies in flight to this node: (from, id) → trail.
    pub incoming: HashMap<(u32, [u8; 32]), Trail>,
    /// Envelopes opened here since the engine last looked, with whether the
    /// copy travelled through the relay.
    pub opened: Vec<([u8; 32], bool)>,
    /// Bumped whenever the store changes (keys the item cache).
    pub version: u64,
    /// Bumped when the node gains an envelope: what makes it seek its
    /// neighbours. A new delivery proof alone does not wake the radio; it
    /// rides along with the next session.
    pub news: u64,
    /// Envelope copies received (transmissions into this node).
    pub received: u64,
    /// Their bytes.
    pub received_bytes: u64,
    /// Attachment chunks received and kept.
    pub chunks_received: u64,
    /// Their bytes.
    pub chunk_bytes_received: u64,
    /// What the store held as of a version.
    cache: Option<ItemCache>,
    /// Whether `cache` is used at all (`SimConfig::item_cache`).
    pub item_cache: bool,
    /// This node's interest tags as of one day: (day, direct, shared).
    tags: Option<TagCache>,
    /// Bytes of encounter summaries this node sent.
    pub summary_bytes: u64,
    /// What this phone does if it is hostile (`crate::adversary`).
    pub hostile: Option<AdversaryKind>,
}

impl SimNode {
    /// Wraps `node`; a phone routes by encounters (the node's own switch)
    /// only under the `encounter` policy.
    pub fn new(mut node: Node, role: Role, policy: Policy) -> Result<SimNode, NodeError> {
        node.set_encounter_routing(policy.uses_encounters() && role == Role::Person)?;
        Ok(SimNode {
            node,
            role,
            policy,
            own: HashSet::new(),
            meta: HashMap::new(),
            hidden: HashSet::new(),
            peer: None,
            outgoing: Vec::new(),
            incoming: HashMap::new(),
            opened: Vec::new(),
            version: 0,
            news: 0,
            received: 0,
            received_bytes: 0,
            chunks_received: 0,
            chunk_bytes_received: 0,
            cache: None,
            item_cache: true,
            tags: None,
            summary_bytes: 0,
            hostile: None,
        })
    }

    /// Whether a session with `peer` would hand it an envelope: one this
    /// node's policy offers it that it does not hold. Errs on the side of
    /// yes (it ignores what the peer saw and dropped), so skipping a session
    /// when it says no changes nothing but the idle session's cost.
    pub fn would_give(&mut self, peer: &mut SimNode) -> bool {
        if !self.refresh() || !peer.refresh() || !peer.refresh_tags() {
            return true;
        }
        let (Some(mine), Some(theirs), Some((_, direct, shared))) =
            (&self.cache, &peer.cache, &peer.tags)
        else {
            return true;
        };
        let (items, held) = (&mine.items, &theirs.ids);
        items.iter().any(|item| {
            // Proofs ride along; they never justify a session of their own.
            if held.contains(&item.id) || matches!(item.kind, ItemKind::Proof { .. }) {
                return false;
            }
            let role = match item.kind {
                ItemKind::Envelope { tag, .. } if direct.contains(&tag.0) => PeerRole::Recipient,
                ItemKind::Envelope { tag, .. } if shared.contains(&tag.0) => PeerRole::Member,
                _ => PeerRole::Carrier,
            };
            // The peer's own table: never below what its summary would
            // say, so this errs towards running the session.
            let theirs = match item.kind {
                ItemKind::Envelope { tag, .. } if self.policy.uses_encounters() => {
                    Some(peer.node.meets(&tag))
                }
                _ => None,
            };
            let held = self.held(item, theirs);
            // A last copy moving on (`encounter`) never wakes the radio by
            // itself; it moves in sessions run for other reasons. Asking
            // for it ran 2.5 times the sessions in the city.
            if self.policy.uses_encounters()
                && role == PeerRole::Carrier
                && held.copies <= 1
                && peer.role == Role::Person
            {
                return false;
            }
            self.policy.offers(self.role, held, role, peer.role)
        })
    }

    /// A liar's encounter summary: certainty of meeting every recipient it
    /// has heard of, those of every envelope it holds.
    fn lie(&mut self) -> EncounterSummary {
        let now = self.node.now();
        let day = (now / DAY_S) as u32;
        let mut entries = Vec::new();
        if self.refresh()
            && let Some(c) = &self.cache
        {
            for item in &c.items {
                if let ItemKind::Envelope { tag, .. } = item.kind {
                    entries.push((summary_key(&tag.0, day), u8::MAX));
                }
            }
        }
        EncounterSummary::build(day, own_keys(self.node.public(), now), &entries, &LEVELS)
    }

    /// This phone's predictability of meeting `item`'s recipient
    /// (`encounter` only; 0 elsewhere).
    fn mine(&self, item: &LocalItem) -> f32 {
        match item.kind {
            ItemKind::Envelope { tag, .. } if self.policy.uses_encounters() => {
                self.node.meets(&tag)
            }
            _ => 0.0,
        }
    }

    /// Brings the item cache up to `version`; false if the store failed.
    fn refresh(&mut self) -> bool {
        if self.cached().is_some() {
            return true;
        }
        let now = self.node.now();
        let release = match self.node.store().next_proof_release(now) {
            Ok(at) => at.unwrap_or(u64::MAX),
            Err(_) => return false,
        };
        match self.load_items() {
            Ok(items) => {
                let expiry = items.iter().map(|i| i.expires_at).min().unwrap_or(u64::MAX);
                self.cache = Some(ItemCache {
                    version: self.version,
                    until: expiry.min(release),
                    ids: items.iter().map(|i| i.id).collect(),
                    items,
                });
                true
            }
            Err(_) => false,
        }
    }

    /// The cached items, if the store has not changed and none has expired.
    fn cached(&self) -> Option<&Vec<LocalItem>> {
        if !self.item_cache {
            return None;
        }
        let c = self.cache.as_ref()?;
        (c.version == self.version && self.node.now() < c.until).then_some(&c.items)
    }

    fn load_items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let mut items = self.node.items()?;
        if !self.hidden.is_empty() {
            items.retain(|i| !self.hidden.contains(&i.id));
        }
        Ok(items)
    }

    /// Brings the interest tags up to today; false if the store failed.
    fn refresh_tags(&mut self) -> bool {
        let day = self.node.now() / 86_400;
        if self.tags.as_ref().is_some_and(|t| t.0 == day) {
            return true;
        }
        match self.node.interests() {
            Ok(i) => {
                let direct = i.direct.iter().map(|(_, t)| t.0).collect();
                let shared = i.shared.iter().map(|(_, t)| t.0).collect();
                self.tags = Some((day, direct, shared));
                true
            }
            Err(_) => false,
        }
    }

    /// Hides everything held now (setup traffic) from later sessions.
    pub fn hide_current(&mut self) -> Result<(), SyncStoreError> {
        let items = self.node.items()?;
        self.hidden.extend(items.into_iter().map(|i| i.id));
        Ok(())
    }

    /// Records a message this node just wrote.
    pub fn wrote(&mut self, id: EnvelopeId, public: bool) {
        let id = id.0;
        self.own.insert(id);
        self.meta.insert(
            id,
            CopyMeta {
                copies: self.policy.initial_copies(public),
                hops: 0,
                via_relay: false,
                retired: false,
            },
        );
        self.version += 1;
        self.news += 1;
    }

    /// The copies that go with `id` to a peer that is `to` for it, taken
    /// from this node's by the policy (`None` without budgets).
    fn hand_one(&mut self, id: &EnvelopeId, to: Toward) -> Option<u32> {
        let (_, peer_role) = self.peer?;
        if !self.policy.keeps_budgets() {
            return None;
        }
        if self.hostile == Some(AdversaryKind::Flood) {
            return Some(FLOOD_CLAIMED_COPIES);
        }
        let mine = self.meta.get(&id.0).map_or(1, |m| m.copies.max(1));
        let (kept, given) = self.policy.split(mine, to, peer_role);
        if let Some(m) = self.meta.get_mut(&id.0) {
            m.copies = kept.max(1);
            m.retired |= kept == 0;
        }
        Some(given)
    }

    /// What the policy knows of `item`, with `theirs` the peer's
    /// predictability of meeting its recipient, if it told one.
    fn held(&self, item: &LocalItem, theirs: Option<f32>) -> Held {
        let m = self.meta.get(&item.id).copied().unwrap_or_default();
        Held {
            own: self.own.contains(&item.id),
            copies: m.copies.max(1),
            hops: m.hops,
            proof: matches!(item.kind, ItemKind::Proof { .. }),
            matched: match item.kind {
                ItemKind::Proof { commitment } => self.node.proof_matched(&commitment),
                _ => false,
            },
            retired: m.retired,
            predict: (self.mine(item), theirs),
        }
    }
}

fn peer_of(origin: &str) -> Option<u32> {
    origin.strip_prefix('n')?.parse().ok()
}

impl SyncStore for SimNode {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        // Every store change bumps `version`, so the cache is the store.
        self.refresh();
        match self.cached() {
            Some(items) => Ok(items.clone()),
            None => self.load_items(),
        }
    }

    fn own_items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let mut items = self.node.own_items()?;
        items.retain(|i| !self.hidden.contains(&i.id));
        Ok(items)
    }

    fn items_matching(
        &mut self,
        wanted: &mut dyn FnMut(&RoutingTag) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        let mut items = self.node.items_matching(wanted)?;
        items.retain(|i| !self.hidden.contains(&i.id));
        Ok(items)
    }

    fn offer_to(&mut self, item: &LocalItem, to: Toward) -> Result<bool, SyncStoreError> {
        let Some((_, peer_role)) = self.peer else {
            return Ok(false);
        };
        if let ItemKind::Chunk { .. } = item.kind {
            // The node's own rule for chunks, whatever the envelope policy.
            return self.node.offer_to(item, to);
        }
        if let Some(kind) = self.hostile {
            let own = self.own.contains(&item.id);
            if !kind.forwards(&item.id, own) {
                return Ok(false);
            }
            // A flooder pushes everything it has to everyone.
            if kind == AdversaryKind::Flood {
                return Ok(true);
            }
        }
        Ok(self
            .policy
            .offers(self.role, self.held(item, to.meets), to.role, peer_role))
    }

    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        self.node.interests()
    }

    fn encounter_summary(&mut self) -> Result<Option<EncounterSummary>, SyncStoreError> {
        let summary = if self.hostile == Some(AdversaryKind::Liar) && self.policy.uses_encounters()
        {
            Some(self.lie())
        } else {
            self.node.encounter_summary()?
        };
        self.summary_bytes += summary.as_ref().map_or(0, |s| s.wire_len() as u64);
        Ok(summary)
    }

    fn met(&mut self, summary: &EncounterSummary) -> Result<(), SyncStoreError> {
        self.node.met(summary)
    }

    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        let bytes = self.node.envelope(id)?;
        if bytes.is_some()
            && let Some((peer, _)) = self.peer
        {
            // The session loads an envelope only to send it to this peer.
            let mine = self.meta.get(&id.0).copied().unwrap_or_default();
            self.outgoing.push((
                peer,
                id.0,
                Trail {
                    hops: mine.hops.saturating_add(1),
                    via_relay: mine.via_relay || self.role == Role::Relay,
                },
            ));
        }
        Ok(bytes)
    }

    fn handover(
        &mut self,
        items: &[(EnvelopeId, Toward)],
    ) -> Result<Vec<Option<u32>>, SyncStoreError> {
        Ok(items
            .iter()
            .map(|(id, to)| self.hand_one(id, *to))
            .collect())
    }

    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        self.node.proof(commitment)
    }

    fn chunk(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.node.chunk(id)
    }

    fn refund(&mut self, id: &EnvelopeId, copies: u32) -> Result<(), SyncStoreError> {
        if let Some(m) = self.meta.get_mut(&id.0) {
            // A last copy that never arrived is not handed on after all.
            if m.retired && m.copies <= 1 {
                m.retired = false;
                m.copies = copies;
            } else {
                m.copies = m.copies.saturating_add(copies);
            }
        }
        Ok(())
    }

    fn refund_chunk(&mut self, id: &[u8; 32], copies: u32) -> Result<(), SyncStoreError> {
        self.node.refund_chunk(id, copies)
    }

    fn chunk_handover(&mut self, id: &[u8; 32], to: Toward) -> Result<Option<u32>, SyncStoreError> {
        // Budgets live in the node's store, not in the cached items.
        self.node.chunk_handover(id, to)
    }

    fn wanted_blobs(&mut self, slow_link: bool) -> Result<Vec<WantedBlob>, SyncStoreError> {
        self.node.wanted_blobs(slow_link)
    }

    fn missing_chunks(&mut self, blob: &WantedBlob) -> Result<Vec<[u8; 32]>, SyncStoreError> {
        self.node.missing_chunks(blob)
    }

    fn chunks_matching(
        &mut self,
        wanted: &mut dyn FnMut(&[u8; 32]) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        self.node.chunks_matching(wanted)
    }

    fn chunks_handed_over(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        // Only the order of later sends changes: the item cache may keep
        // the old counts until the store next changes.
        self.node.chunks_handed_over(ids)
    }

    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        self.node.seen(id)
    }

    fn claim(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        self.node.claim(id)
    }

    fn unclaim(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        self.node.unclaim(ids)
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        let from = peer_of(origin);
        let (results, proofs) = self.node.ingest(items, origin)?;
        for (item, result) in items.iter().zip(&results) {
            let Some(bytes) = item.envelope() else {
                if let Some((bytes, _)) = item.chunk()
                    && *result == Received::Carried
                {
                    self.chunks_received += 1;
                    self.chunk_bytes_received += bytes.len() as u64;
                    self.version += 1;
                    self.news += 1;
                } else if matches!(result, Received::Proof { .. }) {
                    self.version += 1;
                }
                continue;
            };
            self.received += 1;
            self.received_bytes += bytes.len() as u64;
            if !matches!(result, Received::Opened | Received::Carried) {
                continue;
            }
            let Ok(env) = Envelope::decode(bytes) else {
                continue;
            };
            let id = env.id().0;
            let trail = from
                .and_then(|f| self.incoming.remove(&(f, id)))
                .unwrap_or(Trail {
                    hops: 1,
                    via_relay: false,
                });
            let claimed = match item {
                Incoming::Copy { copies, .. } => *copies,
                _ => 1,
            };
            let copies = if self.policy.admits_as_phones() {
                self.node
                    .store()
                    .envelope_copies(&EnvelopeId(id))
                    .map_err(|e| SyncStoreError(e.to_string()))?
                    .unwrap_or(1)
            } else {
                claimed
            };
            let meta = CopyMeta {
                copies,
                hops: trail.hops,
                via_relay: trail.via_relay,
                retired: false,
            };
            self.meta.insert(id, meta);
            if *result == Received::Opened {
                self.opened.push((id, meta.via_relay));
            }
            self.version += 1;
            self.news += 1;
        }
        Ok((results, proofs))
    }
}
