//! The BLE side of a node, sans-IO: the link manager plus one [`BleLink`]
//! per connection. A platform (btleplug on desktops, Kotlin and Swift on
//! phones through the bindings, the simulator in tests) feeds it radio
//! events and carries out its commands; it decides everything else.
//!
//! Driving contract: after any call, drain [`BleHub::poll_command`]; for
//! every link the platform can send on, call [`BleHub::poll_value`] until
//! it returns `None` or the platform's queue is full; call
//! [`BleHub::handle_timeout`] at [`BleHub::poll_timeout`].

use super::manager::{Command, LinkId, LinkManager, ManagerConfig, PowerMode};
use pollen_proto::ble::advert::{self, AdvertId, AdvertKey};
use pollen_proto::ble::link::{BleLink, LinkEvent, Role};
use pollen_proto::sync::{SessionError, SessionEvent, SessionStats, SyncStore};
use std::collections::{BTreeMap, VecDeque};

/// What the platform advertises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    /// Service data for the Pollen service UUID (Android, desktops).
    pub service_data: Vec<u8>,
    /// The same identifier as a local name (iOS, which cannot send service data).
    pub local_name: String,
    /// Interval between advertising events the power mode asks for.
    pub interval_ms: u64,
}

/// What the platform must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BleCommand {
    /// Connect to this advertiser; report `link_up` or `connect_failed`.
    Connect {
        /// The platform's handle of the advertiser.
        handle: String,
    },
    /// Close this link (after sending what was already handed out).
    Disconnect {
        /// The link.
        link: LinkId,
    },
    /// Advertise this (replacing any earlier advertisement), or stop.
    Advertise(Option<Advert>),
    /// Start or stop scanning for the Pollen service UUID.
    Scan(bool),
}

/// Something for the UI and the logs.
#[derive(Debug)]
pub enum HubEvent {
    /// A session over a BLE link ended.
    SessionEnded {
        /// The link.
        link: LinkId,
        /// The peer's advertised identifier, if its HELLO arrived.
        peer: Option<AdvertId>,
        /// What was exchanged.
        stats: SessionStats,
        /// `None` when both sides finished; else why it ended.
        error: Option<SessionError>,
    },
}

struct Live {
    link: BleLink,
    error: Option<SessionError>,
    ended: bool,
}

/// The BLE transport state of one node.
pub struct BleHub {
    manager: LinkManager,
    links: BTreeMap<LinkId, Live>,
    commands: VecDeque<BleCommand>,
    events: VecDeque<HubEvent>,
    now: u64,
}

impl BleHub {
    /// A hub starting at `now_ms` with this start's advertising secret.
    pub fn new(key: AdvertKey, config: ManagerConfig, now_ms: u64) -> BleHub {
        let mut hub = BleHub {
            manager: LinkManager::new(key, config, now_ms),
            links: BTreeMap::new(),
            commands: VecDeque::new(),
            events: VecDeque::new(),
            now: now_ms,
        };
        hub.pump_commands();
        hub
    }

    /// The identifier advertised at `now_ms`.
    pub fn own_id(&self, now_ms: u64) -> AdvertId {
        self.manager.own_id(now_ms)
    }

    /// Links up now.
    pub fn link_ids(&self) -> Vec<LinkId> {
        self.links.keys().copied().collect()
    }

    /// The peer identifier on `link`, once its HELLO arrived.
    pub fn peer_of(&self, link: LinkId) -> Option<AdvertId> {
        self.links.get(&link).and_then(|l| l.link.peer_id())
    }

    /// The role this side plays on `link`.
    pub fn role_of(&self, link: LinkId) -> Option<Role> {
        self.links.get(&link).map(|l| l.link.role())
    }

    /// Connections asked for since start.
    pub fn connects(&self) -> u64 {
        self.manager.connects()
    }

    /// The next command for the platform.
    pub fn poll_command(&mut self) -> Option<BleCommand> {
        self.pump_commands();
        self.commands.pop_front()
    }

    /// The next event for the UI.
    pub fn poll_event(&mut self) -> Option<HubEvent> {
        self.events.pop_front()
    }

    /// Switches the duty cycle.
    pub fn set_power(&mut self, mode: PowerMode, now_ms: u64) {
        self.manager.set_power(mode, now_ms);
    }

    /// A session brought something: every neighbour should hear it.
    pub fn note_news(&mut self, now_ms: u64) {
        self.manager.note_news(now_ms);
    }

    /// This node's user wrote something: every neighbour should have it
    /// soon, and a session running now takes it before its remaining chunks.
    pub fn note_local_write(&mut self, now_ms: u64, store: &mut dyn SyncStore) {
        for l in self.links.values_mut() {
            l.link.take_news(store);
        }
        self.manager.note_local_write(now_ms);
    }

    /// An advertisement of the Pollen service was received. Its Pollen
    /// fields are untrusted bytes: a malformed one is ignored.
    pub fn advertisement(
        &mut self,
        handle: &str,
        service_data: Option<&[u8]>,
        local_name: Option<&str>,
        now_ms: u64,
    ) {
        self.now = self.now.max(now_ms);
        match advert::parse(service_data, local_name) {
            Ok(id) => self.manager.seen(handle, id, now_ms),
            Err(e) => tracing::debug!(%handle, error = %e, "ignoring malformed advertisement"),
        }
    }

    /// A connection came up with this ATT MTU (after the MTU exchange and,
    /// for a central, the notify subscription; for a peripheral, when the
    /// central subscribed).
    pub fn link_up(&mut self, link: LinkId, handle: &str, role: Role, att_mtu: u16, now_ms: u64) {
        self.now = self.now.max(now_ms);
        if let Some(own) = self.manager.link_up(link, handle, role, now_ms) {
            tracing::debug!(link = link.0, %handle, ?role, att_mtu, "BLE link up");
            let link_state = BleLink::new(role, att_mtu, own, format!("ble:{handle}"), now_ms);
            self.links.insert(
                link,
                Live {
                    link: link_state,
                    error: None,
                    ended: false,
                },
            );
        }
    }

    /// A `Connect` failed.
    pub fn connect_failed(&mut self, handle: &str, now_ms: u64) {
        self.manager.connect_failed(handle, now_ms);
    }

    /// A value arrived on `link` (a write to our characteristic, or a notification).
    pub fn received(&mut self, link: LinkId, value: &[u8], now_ms: u64, store: &mut dyn SyncStore) {
        self.now = self.now.max(now_ms);
        if let Some(l) = self.links.get_mut(&link) {
            l.link.handle_value(value, now_ms, store);
            self.after(link, now_ms);
        }
    }

    /// The next value to send on `link`, if any.
    pub fn poll_value(&mut self, link: LinkId, store: &mut dyn SyncStore) -> Option<Vec<u8>> {
        let l = self.links.get_mut(&link)?;
        let value = l.link.poll_value(store);
        self.after(link, self.now);
        value
    }

    /// `link` is gone.
    pub fn link_down(&mut self, link: LinkId, now_ms: u64, store: &mut dyn SyncStore) {
        self.now = self.now.max(now_ms);
        if let Some(l) = self.links.get_mut(&link) {
            l.link.link_lost(store);
            self.after(link, now_ms);
        }
        self.links.remove(&link);
        self.manager.link_down(link, now_ms);
    }

    /// When [`BleHub::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<u64> {
        let links = self.links.values().filter_map(|l| l.link.poll_timeout());
        links.chain(self.manager.poll_timeout()).min()
    }

    /// Runs what is due at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64, store: &mut dyn SyncStore) {
        self.now = self.now.max(now_ms);
        let due: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.link.poll_timeout().is_some_and(|t| t <= now_ms))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(l) = self.links.get_mut(&id) {
                l.link.handle_timeout(now_ms, store);
            }
            self.after(id, now_ms);
        }
        if self.manager.poll_timeout().is_some_and(|t| t <= now_ms) {
            self.manager.handle_timeout(now_ms);
        }
    }

    /// Passes a link's events to the manager and releases a held disconnect.
    fn after(&mut self, id: LinkId, now_ms: u64) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        let mut identified = None;
        let mut ended = None;
        while let Some(e) = l.link.poll_event() {
            match e {
                LinkEvent::Identified(peer) => identified = Some(peer),
                LinkEvent::Session(SessionEvent::Closed(err)) => {
                    l.error.get_or_insert(err);
                }
                LinkEvent::Session(_) => {}
            }
        }
        if !l.ended && l.link.is_closed() {
            l.ended = true;
            let s = l.link.stats();
            let news = s.opened + s.carried + s.new_proofs > 0;
            let synced = l.link.is_finished();
            ended = Some((synced, news));
            self.events.push_back(HubEvent::SessionEnded {
                link: id,
                peer: l.link.peer_id(),
                stats: s.clone(),
                error: if synced { None } else { l.error.take() },
            });
        }
        if let Some(peer) = identified {
            self.manager.identified(id, peer, now_ms);
        }
        if let Some((synced, news)) = ended {
            self.manager.session_ended(id, synced, news, now_ms);
        }
        self.pump_commands();
    }

    fn pump_commands(&mut self) {
        while let Some(c) = self.manager.poll_command() {
            let c = match c {
                Command::Connect { handle } => BleCommand::Connect { handle },
                Command::Scan(on) => BleCommand::Scan(on),
                Command::Advertise(id) => BleCommand::Advertise(id.map(|id| Advert {
                    service_data: advert::service_data(id).to_vec(),
                    local_name: advert::local_name(id),
                    interval_ms: self.manager.power().duty_cycle().adv_interval_ms,
                })),
                // The manager ends a link only once its session handed out
                // its last bytes (the final Done), or to drop a duplicate.
                Command::Disconnect { link } => BleCommand::Disconnect { link },
            };
            self.commands.push_back(c);
        }
    }
}
