//! The hub behind a callback interface, for phones: the platform's
//! Bluetooth code implements [`BleRadio`] (through the bindings' foreign
//! trait) and calls the driver's methods from its callbacks; the driver
//! turns hub commands into radio calls and keeps each link's send queue
//! short. No decision is left to the platform.

use super::hub::{BleCommand, BleHub, HubEvent};
use super::manager::{LinkId, PowerMode};
use pollen_proto::ble::link::Role;
use pollen_proto::sync::SyncStore;
use std::collections::BTreeMap;

/// Values a link may have queued at the platform before the driver waits
/// for [`BleDriver::ready`].
pub const MAX_QUEUED: usize = 4;

/// What the phone's Bluetooth code does when asked. Every method returns at
/// once (the work happens on the platform's Bluetooth thread).
pub trait BleRadio {
    /// Scan for the Pollen service UUID (filtered: iOS finds backgrounded
    /// phones only so) and report each advertisement.
    fn start_scan(&self);
    /// Stop scanning.
    fn stop_scan(&self);
    /// Advertise the Pollen service with this service data (Android) or
    /// local name (iOS), replacing any earlier advertisement.
    fn advertise(&self, service_data: Vec<u8>, local_name: String, interval_ms: u32);
    /// Stop advertising.
    fn stop_advertising(&self);
    /// Connect to the advertiser with this handle; report `link_up` or
    /// `connect_failed`.
    fn connect(&self, handle: String);
    /// Close the link after the values already handed over.
    fn disconnect(&self, link: LinkId);
    /// Queue one value to write (central) or notify (peripheral).
    fn send(&self, link: LinkId, value: Vec<u8>);
}

/// The BLE side of a phone node: a hub, its radio and per-link queues.
pub struct BleDriver {
    hub: BleHub,
    queued: BTreeMap<LinkId, usize>,
}

impl BleDriver {
    /// Wraps `hub`; call [`BleDriver::flush`] once to issue its first commands.
    pub fn new(hub: BleHub) -> BleDriver {
        BleDriver {
            hub,
            queued: BTreeMap::new(),
        }
    }

    /// The hub inside.
    pub fn hub(&self) -> &BleHub {
        &self.hub
    }

    /// The next event for the UI.
    pub fn poll_event(&mut self) -> Option<HubEvent> {
        self.hub.poll_event()
    }

    /// When [`BleDriver::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.hub.poll_timeout()
    }

    /// An advertisement was heard.
    pub fn advertisement(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        handle: &str,
        service_data: Option<&[u8]>,
        local_name: Option<&str>,
        now_ms: u64,
    ) {
        self.hub
            .advertisement(handle, service_data, local_name, now_ms);
        self.flush(radio, store);
    }

    /// A link came up (central: connected, MTU exchanged, subscribed;
    /// peripheral: the central subscribed).
    #[allow(clippy::too_many_arguments)]
    pub fn link_up(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        link: LinkId,
        handle: &str,
        role: Role,
        att_mtu: u16,
        now_ms: u64,
    ) {
        self.queued.insert(link, 0);
        self.hub.link_up(link, handle, role, att_mtu, now_ms);
        self.flush(radio, store);
    }

    /// A `connect` failed.
    pub fn connect_failed(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        handle: &str,
        now_ms: u64,
    ) {
        self.hub.connect_failed(handle, now_ms);
        self.flush(radio, store);
    }

    /// A value arrived on `link`.
    pub fn received(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        link: LinkId,
        value: &[u8],
        now_ms: u64,
    ) {
        self.hub.received(link, value, now_ms, store);
        self.flush(radio, store);
    }

    /// The platform finished sending `sent` queued values on `link`
    /// (write callback, notification sent, or "ready to update").
    pub fn ready(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        link: LinkId,
        sent: u32,
    ) {
        if let Some(q) = self.queued.get_mut(&link) {
            *q = q.saturating_sub(sent as usize);
        }
        self.flush(radio, store);
    }

    /// `link` is gone.
    pub fn link_down(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        link: LinkId,
        now_ms: u64,
    ) {
        self.queued.remove(&link);
        self.hub.link_down(link, now_ms, store);
        self.flush(radio, store);
    }

    /// Timers.
    pub fn handle_timeout(&mut self, radio: &dyn BleRadio, store: &mut dyn SyncStore, now_ms: u64) {
        self.hub.handle_timeout(now_ms, store);
        self.flush(radio, store);
    }

    /// The app went to the background, came back, or the battery is low.
    pub fn set_power(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        mode: PowerMode,
        now_ms: u64,
    ) {
        self.hub.set_power(mode, now_ms);
        self.flush(radio, store);
    }

    /// A session on another link brought something.
    pub fn note_news(&mut self, radio: &dyn BleRadio, store: &mut dyn SyncStore, now_ms: u64) {
        self.hub.note_news(now_ms);
        self.flush(radio, store);
    }

    /// This node's user wrote something.
    pub fn note_local_write(
        &mut self,
        radio: &dyn BleRadio,
        store: &mut dyn SyncStore,
        now_ms: u64,
    ) {
        self.hub.note_local_write(now_ms, store);
        self.flush(radio, store);
    }

    /// Carries out the hub's commands and tops up every link's queue.
    pub fn flush(&mut self, radio: &dyn BleRadio, store: &mut dyn SyncStore) {
        loop {
            while let Some(c) = self.hub.poll_command() {
                match c {
                    BleCommand::Scan(true) => radio.start_scan(),
                    BleCommand::Scan(false) => radio.stop_scan(),
                    BleCommand::Advertise(Some(a)) => radio.advertise(
                        a.service_data,
                        a.local_name,
                        u32::try_from(a.interval_ms).unwrap_or(u32::MAX),
                    ),
                    BleCommand::Advertise(None) => radio.stop_advertising(),
                    BleCommand::Connect { handle } => radio.connect(handle),
                    BleCommand::Disconnect { link } => {
                        self.queued.remove(&link);
                        radio.disconnect(link);
                    }
                }
            }
            let mut sent = false;
            let links: Vec<LinkId> = self.queued.keys().copied().collect();
            for link in links {
                while self.queued.get(&link).is_some_and(|q| *q < MAX_QUEUED) {
                    let Some(v) = self.hub.poll_value(link, store) else {
                        break;
                    };
                    radio.send(link, v);
                    if let Some(q) = self.queued.get_mut(&link) {
                        *q += 1;
                    }
                    sent = true;
                }
            }
            if !sent {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ble::bench::{SimClock, T0_MS};
    use crate::ble::manager::ManagerConfig;
    use crate::node::Node;
    use pollen_proto::ble::advert::AdvertKey;
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    /// Records what the driver asked of the radio.
    #[derive(Default)]
    struct Recorder(RefCell<Vec<Call>>);

    #[derive(Debug, Clone, PartialEq)]
    enum Call {
        Scan(bool),
        Advertise(Vec<u8>),
        StopAdvertising,
        Connect(String),
        Disconnect(LinkId),
        Send(LinkId, Vec<u8>),
    }

    impl BleRadio for Recorder {
        fn start_scan(&self) {
            self.0.borrow_mut().push(Call::Scan(true));
        }
        fn stop_scan(&self) {
            self.0.borrow_mut().push(Call::Scan(false));
        }
        fn advertise(&self, service_data: Vec<u8>, _: String, _: u32) {
            self.0.borrow_mut().push(Call::Advertise(service_data));
        }
        fn stop_advertising(&self) {
            self.0.borrow_mut().push(Call::StopAdvertising);
        }
        fn connect(&self, handle: String) {
            self.0.borrow_mut().push(Call::Connect(handle));
        }
        fn disconnect(&self, link: LinkId) {
            self.0.borrow_mut().push(Call::Disconnect(link));
        }
        fn send(&self, link: LinkId, value: Vec<u8>) {
            self.0.borrow_mut().push(Call::Send(link, value));
        }
    }

    fn take(r: &Recorder) -> Vec<Call> {
        std::mem::take(&mut *r.0.borrow_mut())
    }

    /// Two phones' platform code, played by hand through the callback API:
    /// adverts, a connection, values both ways with the platform's queue
    /// acknowledged, and the disconnect at the end.
    #[test]
    fn two_phones_through_the_callback_api() {
        let root = tempfile::tempdir().unwrap();
        let clock = SimClock(Arc::new(AtomicU64::new(T0_MS)));
        let mut stores: Vec<Node> = ["ana", "bo"]
            .iter()
            .map(|n| Node::init(&root.path().join(n), n, Box::new(clock.clone())).unwrap())
            .collect();
        stores[0].join_channel("x").unwrap();
        stores[0]
            .send_channel("x", "hello over the callbacks")
            .unwrap();
        let radios = [Recorder::default(), Recorder::default()];
        let mut drivers: Vec<BleDriver> = (0..2u8)
            .map(|i| {
                let hub = BleHub::new(
                    AdvertKey::from_secret([i + 1; 32]),
                    ManagerConfig::default(),
                    T0_MS,
                );
                BleDriver::new(hub)
            })
            .collect();
        let mut now = T0_MS;
        let mut adverts: [Option<Vec<u8>>; 2] = [None, None];
        for i in 0..2 {
            drivers[i].flush(&radios[i], &mut stores[i]);
        }
        let mut linked = false;
        let mut disconnects = 0;
        for _ in 0..20_000 {
            now += 5;
            for i in 0..2 {
                for call in take(&radios[i]) {
                    let j = 1 - i;
                    match call {
                        Call::Advertise(data) => adverts[i] = Some(data),
                        Call::StopAdvertising => adverts[i] = None,
                        Call::Scan(_) => {}
                        Call::Connect(handle) => {
                            assert_eq!(handle, format!("phone-{j}"));
                            assert!(!linked, "a second link was asked for");
                            linked = true;
                            let (s_i, s_j) = pair(&mut stores, i);
                            drivers[i].link_up(
                                &radios[i],
                                s_i,
                                LinkId(1),
                                &handle,
                                Role::Central,
                                185,
                                now,
                            );
                            let me = format!("phone-{i}");
                            drivers[j].link_up(
                                &radios[j],
                                s_j,
                                LinkId(1),
                                &me,
                                Role::Peripheral,
                                185,
                                now,
                            );
                        }
                        Call::Send(link, v) => {
                            assert!(v.len() <= 182);
                            drivers[j].received(&radios[j], &mut stores[j], link, &v, now);
                            drivers[i].ready(&radios[i], &mut stores[i], link, 1);
                        }
                        Call::Disconnect(link) => {
                            disconnects += 1;
                            for k in 0..2 {
                                drivers[k].link_down(&radios[k], &mut stores[k], link, now);
                            }
                        }
                    }
                }
            }
            // Each hears the other's advertisement.
            for i in 0..2 {
                if let Some(data) = adverts[1 - i].clone() {
                    let handle = format!("phone-{}", 1 - i);
                    drivers[i].advertisement(
                        &radios[i],
                        &mut stores[i],
                        &handle,
                        Some(&data),
                        None,
                        now,
                    );
                }
                if drivers[i].poll_timeout().is_some_and(|t| t <= now) {
                    drivers[i].handle_timeout(&radios[i], &mut stores[i], now);
                }
            }
            if disconnects > 0 && stores[1].status().unwrap().carried_for_others == 1 {
                break;
            }
        }
        assert!(linked);
        assert!(disconnects >= 1, "the finished link was not closed");
        assert_eq!(stores[1].status().unwrap().carried_for_others, 1);
    }

    /// The same two phones, with the platform side played as Swift and
    /// Kotlin now play it: each keeps a [`RadioLinks`] table, numbers its
    /// links with it, queues what the driver hands over there, and moves a
    /// value only when the table says so; phone 0's stack has room for one
    /// value per round (iOS refusing the rest), phone 1's confirms one at a
    /// time (Android). The message is carried and the driver's close drains
    /// and hangs up both ends.
    #[test]
    fn two_phones_with_the_radio_link_table() {
        use crate::ble::radio_links::{RadioLinks, Step};
        let root = tempfile::tempdir().unwrap();
        let clock = SimClock(Arc::new(AtomicU64::new(T0_MS)));
        let mut stores: Vec<Node> = ["ana", "bo"]
            .iter()
            .map(|n| Node::init(&root.path().join(n), n, Box::new(clock.clone())).unwrap())
            .collect();
        stores[0].join_channel("x").unwrap();
        stores[0]
            .send_channel("x", "hello through the tables")
            .unwrap();
        let radios = [Recorder::default(), Recorder::default()];
        let mut tables = [RadioLinks::new(), RadioLinks::new()];
        let mut drivers: Vec<BleDriver> = (0..2u8)
            .map(|i| {
                let key = AdvertKey::from_secret([i + 1; 32]);
                BleDriver::new(BleHub::new(key, ManagerConfig::default(), T0_MS))
            })
            .collect();
        let name = |i: usize| format!("phone-{i}");
        let mut now = T0_MS;
        let mut adverts: [Option<Vec<u8>>; 2] = [None, None];
        for i in 0..2 {
            drivers[i].flush(&radios[i], &mut stores[i]);
        }
        let (mut hang_ups, mut ups) = (0, 0);
        for _ in 0..20_000 {
            now += 5;
            for i in 0..2 {
                let j = 1 - i;
                for call in take(&radios[i]) {
                    match call {
                        Call::Advertise(data) => adverts[i] = Some(data),
                        Call::StopAdvertising => adverts[i] = None,
                        Call::Scan(_) => {}
                        Call::Connect(handle) => {
                            ups += 1;
                            let mine = tables[i].open(&handle, true, Some(182)).unwrap();
                            let theirs = tables[j].open(&name(i), false, None).unwrap();
                            assert_eq!(theirs.att_mtu, 23, "nothing noted: the smallest MTU");
                            let (s_i, s_j) = pair(&mut stores, i);
                            drivers[i].link_up(
                                &radios[i],
                                s_i,
                                mine.link,
                                &handle,
                                Role::Central,
                                mine.att_mtu,
                                now,
                            );
                            drivers[j].link_up(
                                &radios[j],
                                s_j,
                                theirs.link,
                                &name(i),
                                Role::Peripheral,
                                185,
                                now,
                            );
                        }
                        Call::Send(link, v) => assert!(tables[i].queue(link, v)),
                        Call::Disconnect(link) => tables[i].hang_up(link),
                    }
                }
                // The platform pumps every link as its table says.
                for link in tables[i].ids(None) {
                    let mut room = 1;
                    loop {
                        match tables[i].next(link) {
                            Step::Send(_) if i == 0 && room == 0 => {
                                tables[i].refused(link);
                                break;
                            }
                            Step::Send(v) => {
                                room -= 1;
                                let (handle, central) = tables[i]
                                    .peer(link)
                                    .map(|(h, c)| (h.to_owned(), c))
                                    .unwrap();
                                assert_eq!(handle, name(j));
                                let theirs = tables[j]
                                    .find(&name(i), !central)
                                    .expect("the other end is up");
                                drivers[j].received(&radios[j], &mut stores[j], theirs, &v, now);
                                assert!(tables[i].sent(link));
                                drivers[i].ready(&radios[i], &mut stores[i], link, 1);
                                if i == 1 {
                                    break; // Android: the next waits for the next callback
                                }
                            }
                            Step::HangUp => {
                                hang_ups += 1;
                                let (handle, central) = tables[i]
                                    .peer(link)
                                    .map(|(h, c)| (h.to_owned(), c))
                                    .unwrap();
                                assert!(tables[i].gone(link));
                                drivers[i].link_down(&radios[i], &mut stores[i], link, now);
                                // The other end sees the connection drop.
                                let me = name(i);
                                assert_eq!(handle, name(j));
                                if let Some(theirs) = tables[j].gone_handle(&me, !central) {
                                    drivers[j].link_down(&radios[j], &mut stores[j], theirs, now);
                                }
                                break;
                            }
                            Step::Wait => break,
                        }
                    }
                }
            }
            for i in 0..2 {
                if let Some(data) = adverts[1 - i].clone() {
                    drivers[i].advertisement(
                        &radios[i],
                        &mut stores[i],
                        &name(1 - i),
                        Some(&data),
                        None,
                        now,
                    );
                }
                if drivers[i].poll_timeout().is_some_and(|t| t <= now) {
                    drivers[i].handle_timeout(&radios[i], &mut stores[i], now);
                }
            }
            if hang_ups > 0 && stores[1].status().unwrap().carried_for_others == 1 {
                break;
            }
        }
        assert_eq!(ups, 1, "one link");
        assert!(hang_ups >= 1, "the finished link was not hung up");
        assert_eq!(stores[1].status().unwrap().carried_for_others, 1);
        assert!(tables[0].ids(None).is_empty() && tables[1].ids(None).is_empty());
    }

    fn pair(stores: &mut [Node], i: usize) -> (&mut Node, &mut Node) {
        let (a, b) = stores.split_at_mut(1);
        if i == 0 {
            (&mut a[0], &mut b[0])
        } else {
            (&mut b[0], &mut a[0])
        }
    }
}
