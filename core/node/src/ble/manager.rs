//! The link manager, sans-IO: which neighbours to connect and drop, when to
//! scan and advertise. Events and the time go in ("seen advertisement X",
//! "link up / identified / finished / down"); commands and a deadline come
//! out. The platform (btleplug, Android, iOS, the simulator) only carries
//! them out.
//!
//! Rules (`docs/PROTOCOL.md`, "Who connects" and "Link manager"):
//! - at most `max_links` links and pending connections together; at the
//!   cap, scanning and advertising stop and inbound links are refused;
//! - a neighbour is due on the shared [`Cadence`] with [`Schedule::BLE`]:
//!   when never synced under its current identifier, when there is news for
//!   it (ten seconds after the last sync at the soonest; one second for what
//!   this phone's user wrote), or every five minutes; the least recently
//!   synced due neighbour goes first;
//! - of two phones that see each other, the one advertising the lower
//!   identifier connects; the other connects only after [`PASSIVE_WAIT_MS`]
//!   (it may be invisible to the first), or at once with what its user
//!   wrote; of two links between the same
//!   pair, the one whose central sent the lower HELLO identifier stays;
//! - a link whose session finished is dropped at once; failures back off
//!   exponentially, as the schedule says;
//! - scanning follows the power mode's [`DutyCycle`].

use crate::neighbours::{Cadence, Schedule};
use pollen_proto::ble::advert::{AdvertId, AdvertKey, next_rotation_ms};
use pollen_proto::ble::link::Role;
use std::collections::{BTreeMap, VecDeque};

pub use super::duty::{ADV_EVENT_US, DutyCycle, PowerMode};

/// A link as the platform numbers it: unique while it lives, local to one
/// radio and never sent on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u64);

impl LinkId {
    /// The number a radio gives its first link.
    pub const FIRST: LinkId = LinkId(1);

    /// Hands out this id and moves on to the next one: how radios number
    /// the links they open.
    pub fn take(&mut self) -> LinkId {
        let id = *self;
        self.0 += 1;
        id
    }
}

impl std::fmt::Display for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "link {}", self.0)
    }
}

/// Links (and pending connections) at once by default.
pub const DEFAULT_MAX_LINKS: usize = 7;
/// A connection attempt that has not come up by then has failed.
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;
/// The higher identifier connects anyway after seeing a neighbour this long.
pub const PASSIVE_WAIT_MS: u64 = 20_000;
/// A neighbour not seen for this long is out of range.
pub const FORGET_MS: u64 = 90_000;
/// Neighbours remembered at most. Every advertisement costs a pass over the
/// table and a bystander may advertise a fresh identifier as often as it
/// likes, so past this the one heard from longest ago (with no link and no
/// connection under way) is forgotten; an honest one is heard again.
pub const MAX_NEIGHBOURS: usize = 256;
/// What the platform must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Connect to the advertiser known by this platform handle, request the
    /// largest MTU, subscribe to the notify characteristic, then report
    /// `link_up` (or `connect_failed`).
    Connect {
        /// The platform's handle of the advertiser.
        handle: String,
    },
    /// Close this link.
    Disconnect {
        /// The link.
        link: LinkId,
    },
    /// Advertise this identifier (replacing any earlier one), or stop advertising.
    Advertise(Option<AdvertId>),
    /// Start or stop scanning for the Pollen service.
    Scan(bool),
}

/// How the manager behaves.
#[derive(Clone, Copy, Debug)]
pub struct ManagerConfig {
    /// Links and pending connections at once.
    pub max_links: usize,
    /// The starting power mode.
    pub power: PowerMode,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            max_links: DEFAULT_MAX_LINKS,
            power: PowerMode::Foreground,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Id(AdvertId),
    Handle(String),
}

#[derive(Clone, Debug)]
struct Neighbour {
    handle: Option<String>,
    first_seen: u64,
    last_seen: u64,
    cadence: Cadence,
    link: Option<LinkId>,
}

impl Neighbour {
    /// A neighbour just heard for the first time: never synced, so it goes
    /// to the front of the queue.
    fn first_seen(now_ms: u64) -> Neighbour {
        Neighbour {
            handle: None,
            first_seen: now_ms,
            last_seen: now_ms,
            cadence: Cadence::new(now_ms, Schedule::BLE),
            link: None,
        }
    }
}

#[derive(Clone, Debug)]
struct LinkInfo {
    role: Role,
    own: AdvertId,
    peer: Option<AdvertId>,
    key: Option<Key>,
    /// This side asked for it to close (finished, duplicate or refused).
    closing: bool,
    /// Its session ended and was counted.
    done: bool,
}

/// Decides, for one node, which BLE links to have.
pub struct LinkManager {
    key: AdvertKey,
    config: ManagerConfig,
    power: PowerMode,
    phase_start: u64,
    now: u64,
    neighbours: BTreeMap<Key, Neighbour>,
    links: BTreeMap<LinkId, LinkInfo>,
    connecting: BTreeMap<String, u64>,
    commands: VecDeque<Command>,
    scanning: bool,
    advertising: Option<AdvertId>,
    connects: u64,
}

impl LinkManager {
    /// A manager that starts at `now_ms`: advertising and scanning are
    /// commanded at once. `key` is this start's advertising secret.
    pub fn new(key: AdvertKey, config: ManagerConfig, now_ms: u64) -> LinkManager {
        let mut m = LinkManager {
            key,
            config,
            power: config.power,
            phase_start: now_ms,
            now: now_ms,
            neighbours: BTreeMap::new(),
            links: BTreeMap::new(),
            connecting: BTreeMap::new(),
            commands: VecDeque::new(),
            scanning: false,
            advertising: None,
            connects: 0,
        };
        m.plan(now_ms);
        m
    }

    /// The identifier advertised at `now_ms`.
    pub fn own_id(&self, now_ms: u64) -> AdvertId {
        self.key.id_at(now_ms)
    }

    /// The power mode in force.
    pub fn power(&self) -> PowerMode {
        self.power
    }

    /// Live links (including those closing).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Connections asked for since start.
    pub fn connects(&self) -> u64 {
        self.connects
    }

    /// Neighbours currently known.
    pub fn neighbour_count(&self) -> usize {
        self.neighbours.len()
    }

    /// The next command for the platform.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// Switches the duty cycle (app to background, battery low, ...).
    pub fn set_power(&mut self, mode: PowerMode, now_ms: u64) {
        if mode != self.power {
            self.power = mode;
            self.phase_start = now_ms;
            // The advertising interval comes with the advertisement: ask for
            // it again, or the old mode's interval would stay until rotation.
            self.advertising = None;
            self.plan(now_ms);
        }
    }

    /// Something new to tell every neighbour that passed through here (a
    /// session brought it): it waits the schedule's news gap.
    pub fn note_news(&mut self, now_ms: u64) {
        for n in self.neighbours.values_mut() {
            n.cadence.dirty = true;
        }
        self.plan(now_ms);
    }

    /// This node's user wrote something: every neighbour should have it
    /// soon, and this side connects whatever the identifiers say (the
    /// neighbour cannot know there is news; two links are settled as usual).
    pub fn note_local_write(&mut self, now_ms: u64) {
        for n in self.neighbours.values_mut() {
            n.cadence.local_news();
        }
        self.plan(now_ms);
    }

    /// An advertisement of the Pollen service from `handle`, with the
    /// identifier it carried (if it carried one).
    pub fn seen(&mut self, handle: &str, id: Option<AdvertId>, now_ms: u64) {
        if id == Some(self.own_id(now_ms)) {
            return;
        }
        let key = id.map_or_else(|| Key::Handle(handle.to_owned()), Key::Id);
        if self.neighbours.len() >= MAX_NEIGHBOURS && !self.neighbours.contains_key(&key) {
            let connecting = &self.connecting;
            let oldest = self
                .neighbours
                .iter()
                .filter(|(_, n)| {
                    n.link.is_none()
                        && !n
                            .handle
                            .as_ref()
                            .is_some_and(|h| connecting.contains_key(h))
                })
                .min_by_key(|(_, n)| n.last_seen)
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { return };
            self.neighbours.remove(&oldest);
        }
        let n = self
            .neighbours
            .entry(key)
            .or_insert_with(|| Neighbour::first_seen(now_ms));
        n.handle = Some(handle.to_owned());
        n.last_seen = now_ms;
        self.plan(now_ms);
    }

    /// A connection came up, out (`Central`, after our `Connect`) or in
    /// (`Peripheral`). Returns the identifier to send in this side's HELLO,
    /// or `None` when the link is refused (a `Disconnect` is queued).
    pub fn link_up(
        &mut self,
        link: LinkId,
        handle: &str,
        role: Role,
        now_ms: u64,
    ) -> Option<AdvertId> {
        let own = self.own_id(now_ms);
        let mut key = None;
        if role == Role::Central {
            self.connecting.remove(handle);
            key = self.key_by_handle(handle);
        } else if self.links.len() + self.connecting.len() >= self.config.max_links {
            tracing::debug!(link = link.0, "BLE link refused: at the connection cap");
            self.commands.push_back(Command::Disconnect { link });
            return None;
        }
        if let Some(k) = &key
            && let Some(n) = self.neighbours.get_mut(k)
        {
            n.link = Some(link);
        }
        self.links.insert(
            link,
            LinkInfo {
                role,
                own,
                peer: None,
                key,
                closing: false,
                done: false,
            },
        );
        self.plan(now_ms);
        Some(own)
    }

    /// A `Connect` failed before a link came up.
    pub fn connect_failed(&mut self, handle: &str, now_ms: u64) {
        self.connecting.remove(handle);
        if let Some(k) = self.key_by_handle(handle) {
            self.fail(&k, now_ms);
        }
        self.plan(now_ms);
    }

    /// The peer's HELLO arrived on `link` with its identifier. Drops one of
    /// two links to the same neighbour.
    pub fn identified(&mut self, link: LinkId, peer: AdvertId, now_ms: u64) {
        let Some(info) = self.links.get_mut(&link) else {
            return;
        };
        info.peer = Some(peer);
        let old_key = info.key.take();
        let new_key = Key::Id(peer);
        // Whatever we knew under a handle is this identifier's now.
        let mut n = old_key
            .as_ref()
            .and_then(|k| self.neighbours.remove(k))
            .unwrap_or_else(|| Neighbour::first_seen(now_ms));
        if let Some(existing) = self.neighbours.remove(&new_key) {
            n.handle = n.handle.or(existing.handle);
            n.first_seen = n.first_seen.min(existing.first_seen);
            n.last_seen = n.last_seen.max(existing.last_seen);
            if existing.cadence.last_ok_ms > n.cadence.last_ok_ms {
                n.cadence = existing.cadence;
            }
            n.link = n.link.or(existing.link);
        }
        n.last_seen = now_ms;
        // The session on this link carries today's news (either side dialled).
        n.cadence.started();
        if let Some(info) = self.links.get_mut(&link) {
            info.key = Some(new_key.clone());
        }
        // Two live links to one neighbour: keep the one whose central sent
        // the lower HELLO identifier; both ends compute the same answer.
        let central_id = |i: &LinkInfo| match i.role {
            Role::Central => Some(i.own),
            Role::Peripheral => i.peer,
        };
        let twin = self
            .links
            .iter()
            .find(|(l, i)| **l != link && !i.closing && i.peer == Some(peer))
            .map(|(l, i)| (*l, central_id(i)));
        let this_central = self.links.get(&link).and_then(central_id);
        let keep = match twin {
            Some((other, other_central)) => {
                let (keep, drop) = if this_central < other_central {
                    (link, other)
                } else {
                    (other, link)
                };
                tracing::debug!(keep = keep.0, drop = drop.0, %peer, "two BLE links to one neighbour");
                if let Some(i) = self.links.get_mut(&drop) {
                    i.closing = true;
                    i.done = true;
                }
                self.commands.push_back(Command::Disconnect { link: drop });
                keep
            }
            None => link,
        };
        n.link = Some(keep);
        self.neighbours.insert(new_key, n);
        self.plan(now_ms);
    }

    /// The session on `link` ended: `synced` when both sides finished,
    /// `news` when it brought something new (other neighbours want it).
    /// The link is then closed.
    pub fn session_ended(&mut self, link: LinkId, synced: bool, news: bool, now_ms: u64) {
        let Some(info) = self.links.get_mut(&link) else {
            return;
        };
        if info.done {
            return;
        }
        info.done = true;
        let key = info.key.clone();
        if !info.closing {
            info.closing = true;
            self.commands.push_back(Command::Disconnect { link });
        }
        if let Some(k) = &key {
            if synced {
                if let Some(n) = self.neighbours.get_mut(k) {
                    n.cadence.succeeded(now_ms);
                }
            } else {
                self.fail(k, now_ms);
            }
        }
        if news {
            for (k, n) in self.neighbours.iter_mut() {
                if Some(k) != key.as_ref() {
                    n.cadence.dirty = true;
                }
            }
        }
        self.plan(now_ms);
    }

    /// The connection is gone (either side closed it, or the radio lost it).
    pub fn link_down(&mut self, link: LinkId, now_ms: u64) {
        let Some(info) = self.links.remove(&link) else {
            return;
        };
        if let Some(k) = &info.key {
            if let Some(n) = self.neighbours.get_mut(k)
                && n.link == Some(link)
            {
                n.link = None;
            }
            if !info.done {
                self.fail(k, now_ms);
            }
        }
        self.plan(now_ms);
    }

    /// When [`LinkManager::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<u64> {
        let now = self.now;
        let duty = self.power.duty_cycle();
        let mut times = vec![
            next_rotation_ms(now),
            duty.next_toggle(self.phase_start, now),
        ];
        times.extend(self.connecting.values().map(|t| t + CONNECT_TIMEOUT_MS));
        for n in self.neighbours.values().filter(|n| n.link.is_none()) {
            times.push(n.cadence.next_due());
            times.push(n.first_seen + PASSIVE_WAIT_MS);
            times.push(n.last_seen + FORGET_MS);
        }
        times.into_iter().filter(|&t| t > now).min()
    }

    /// Runs what is due at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let expired: Vec<String> = self
            .connecting
            .iter()
            .filter(|(_, t)| now_ms >= *t + CONNECT_TIMEOUT_MS)
            .map(|(h, _)| h.clone())
            .collect();
        for h in expired {
            tracing::debug!(handle = %h, "BLE connection attempt timed out");
            self.connecting.remove(&h);
            if let Some(k) = self.key_by_handle(&h) {
                self.fail(&k, now_ms);
            }
        }
        self.neighbours
            .retain(|_, n| n.link.is_some() || now_ms < n.last_seen + FORGET_MS);
        self.plan(now_ms);
    }

    fn key_by_handle(&self, handle: &str) -> Option<Key> {
        self.neighbours
            .iter()
            .find(|(_, n)| n.handle.as_deref() == Some(handle))
            .map(|(k, _)| k.clone())
    }

    fn fail(&mut self, key: &Key, now_ms: u64) {
        if let Some(n) = self.neighbours.get_mut(key) {
            let rounds = n.cadence.failures;
            n.cadence.failed(now_ms, false, rounds);
        }
    }

    fn free_slots(&self) -> usize {
        self.config
            .max_links
            .saturating_sub(self.links.len() + self.connecting.len())
    }

    /// Brings scanning, advertising and connections in line with the rules.
    fn plan(&mut self, now_ms: u64) {
        self.now = self.now.max(now_ms);
        let now = self.now;
        let own = self.own_id(now);
        // Connections first, so the slot count below is current.
        let mut due: Vec<(Option<u64>, u32, Key, String)> = self
            .neighbours
            .iter()
            .filter(|(k, n)| {
                n.link.is_none()
                    && n.handle
                        .as_ref()
                        .is_some_and(|h| !self.connecting.contains_key(h))
                    && n.cadence.due(now)
                    && now < n.last_seen + FORGET_MS
                    && match k {
                        Key::Id(id) => {
                            own < *id || n.cadence.urgent || now >= n.first_seen + PASSIVE_WAIT_MS
                        }
                        Key::Handle(_) => true,
                    }
            })
            .map(|(k, n)| {
                (
                    n.cadence.last_ok_ms,
                    n.cadence.failures,
                    k.clone(),
                    n.handle.clone().unwrap_or_default(),
                )
            })
            .collect();
        // Never synced first (None < Some), then the longest ago.
        due.sort();
        for (_, _, key, handle) in due.into_iter().take(self.free_slots()) {
            if let Some(n) = self.neighbours.get_mut(&key) {
                n.cadence.started();
            }
            self.connecting.insert(handle.clone(), now);
            self.connects += 1;
            self.commands.push_back(Command::Connect { handle });
        }
        let room = self.free_slots() > 0;
        let scan = room && self.power.duty_cycle().scanning_at(self.phase_start, now);
        if scan != self.scanning {
            self.scanning = scan;
            self.commands.push_back(Command::Scan(scan));
        }
        let advert = room.then_some(own);
        if advert != self.advertising {
            self.advertising = advert;
            self.commands.push_back(Command::Advertise(advert));
        }
    }
}

#[cfg(test)]
mod tests;
