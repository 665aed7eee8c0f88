//! Bluetooth LE through a radio the app owns (phones' platform code): the
//! app's [`BleRadio`] drives the node's `BleDriver` on the host thread. The
//! platform's callbacks post to that thread and return at once; every
//! decision (who to connect, scanning, advertising, when to drop a link) is
//! the driver's. A task on the host thread runs the driver's timers and
//! passes news from local writes and other links on.

use super::{EventSink, HostError, HostEvent, NeighbourKind};
use crate::LinkClock;
use pollen_node::ble::{AdvertKey, BleDriver, BleHub, BleRadio, HubEvent, LinkId, ManagerConfig};
use pollen_node::ble::{PowerMode, Role};
use pollen_node::node::Node;
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId, RoutingTag};
use pollen_proto::sync::encounter::EncounterSummary;
use pollen_proto::sync::store::{
    Incoming, Interests, LocalItem, Received, SyncStore, SyncStoreError, Toward,
};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long the timer sleeps when the driver has no deadline.
const IDLE: Duration = Duration::from_secs(3600);

/// One live link as the bindings see it, for neighbour events.
struct LinkNote {
    handle: String,
    synced: bool,
}

/// The app's radio, handed over from any thread.
pub type SharedRadio = Arc<dyn BleRadio + Send + Sync>;

/// BLE while a radio is set.
struct BleState {
    driver: BleDriver,
    radio: SharedRadio,
    links: BTreeMap<LinkId, LinkNote>,
    /// Live links per platform handle: a handle with one is a neighbour.
    present: BTreeMap<String, usize>,
}

/// The BLE side of a node, owned by the core thread (shared with its tasks).
pub struct BleCtl {
    node: Rc<RefCell<Node>>,
    view: Rc<Notify>,
    events: EventSink,
    clock: LinkClock,
    state: RefCell<Option<BleState>>,
    power: Cell<PowerMode>,
    /// Re-arms the timer, or tells it there is news.
    wake: Notify,
    /// A session on another transport brought something.
    news: Cell<bool>,
    /// This node's user wrote something.
    local_news: Cell<bool>,
    /// Called when a BLE session brought news: the running runtime's other
    /// neighbours (LAN, platform links) should hear it.
    on_news: RefCell<Option<Box<dyn Fn()>>>,
}

/// Checks what a platform radio reports when a link comes up, before it is
/// posted to the host thread, so the caller hears the error at once.
pub fn check_link_up(att_mtu: u16) -> Result<(), HostError> {
    use pollen_proto::ble::profile::{MAX_ATT_MTU, MIN_ATT_MTU};
    if (MIN_ATT_MTU..=MAX_ATT_MTU).contains(&att_mtu) {
        Ok(())
    } else {
        Err(HostError::InvalidLink(format!(
            "ATT MTU {att_mtu} is outside {MIN_ATT_MTU}..={MAX_ATT_MTU}"
        )))
    }
}

/// Checks a GATT value a platform radio received, before it is posted.
pub fn check_value(value: &[u8]) -> Result<(), HostError> {
    use pollen_proto::ble::profile::MAX_VALUE;
    if value.len() <= MAX_VALUE {
        Ok(())
    } else {
        Err(HostError::InvalidLink(format!(
            "a GATT value of {} bytes > {MAX_VALUE}",
            value.len()
        )))
    }
}

impl BleCtl {
    /// BLE off, for this node.
    pub fn new(node: Rc<RefCell<Node>>, view: Rc<Notify>, events: EventSink) -> BleCtl {
        BleCtl {
            node,
            view,
            events,
            clock: LinkClock::new(),
            state: RefCell::new(None),
            power: Cell::new(PowerMode::Foreground),
            wake: Notify::new(),
            news: Cell::new(false),
            local_news: Cell::new(false),
            on_news: RefCell::new(None),
        }
    }

    /// Sets what runs when a BLE session brought news (`None` to clear).
    pub fn set_on_news(&self, hook: Option<Box<dyn Fn()>>) {
        *self.on_news.borrow_mut() = hook;
    }

    /// Starts BLE with `radio` (replacing an earlier one), or stops it.
    pub fn set_radio(&self, radio: Option<SharedRadio>) -> Result<(), String> {
        self.stop();
        let Some(radio) = radio else {
            return Ok(());
        };
        let key = AdvertKey::random().map_err(|e| e.to_string())?;
        let config = ManagerConfig {
            power: self.power.get(),
            ..ManagerConfig::default()
        };
        let hub = BleHub::new(key, config, self.clock.now_ms());
        *self.state.borrow_mut() = Some(BleState {
            driver: BleDriver::new(hub),
            radio,
            links: BTreeMap::new(),
            present: BTreeMap::new(),
        });
        tracing::info!("BLE on");
        self.drive(|d, r, s, _| d.flush(r, s));
        Ok(())
    }

    /// Whether a radio is set.
    pub fn is_on(&self) -> bool {
        self.state.borrow().is_some()
    }

    /// Stops BLE: every link is closed (what arrived on it is committed),
    /// scanning and advertising stop, the driver is dropped.
    pub fn stop(&self) {
        let Some(mut state) = self.state.borrow_mut().take() else {
            return;
        };
        let now = self.clock.now_ms();
        let radio: &dyn BleRadio = &*state.radio;
        {
            let mut node = self.node.borrow_mut();
            let mut store = Watched::new(&mut node);
            for link in state.driver.hub().link_ids() {
                radio.disconnect(link);
                // The driver's follow-up commands (connect elsewhere, advertise
                // again) must not reach a radio that is being switched off.
                state.driver.link_down(&Silent, &mut store, link, now);
            }
            if store.changed {
                self.view.notify_one();
            }
        }
        radio.stop_scan();
        radio.stop_advertising();
        self.drain_events(&mut state);
        for (handle, _) in std::mem::take(&mut state.present) {
            self.neighbour(false, handle);
        }
        self.wake.notify_one();
        tracing::info!("BLE off");
    }

    /// Live BLE links and the neighbours on them.
    pub fn figures(&self) -> (u64, u64) {
        match &*self.state.borrow() {
            Some(s) => (s.present.len() as u64, s.links.len() as u64),
            None => (0, 0),
        }
    }

    /// Something another link brought, to tell the BLE neighbours; handled
    /// by the timer task.
    pub fn note_news(&self) {
        self.news.set(true);
        self.wake.notify_one();
    }

    /// Something this node's user wrote (here, or another process on the
    /// same data directory): the BLE neighbours should have it soon.
    pub fn note_local_write(&self) {
        self.local_news.set(true);
        self.wake.notify_one();
    }

    /// Switches the duty cycle (kept for the next radio while BLE is off).
    pub fn set_power(&self, mode: PowerMode) {
        self.power.set(mode);
        self.call(|d, r, s, now| d.set_power(r, s, mode, now));
    }

    /// An advertisement was heard.
    pub fn advertisement(&self, handle: String, data: Option<Vec<u8>>, name: Option<String>) {
        self.call(|d, r, s, now| {
            d.advertisement(r, s, &handle, data.as_deref(), name.as_deref(), now)
        });
    }

    /// A link came up.
    pub fn link_up(&self, link: LinkId, handle: String, central: bool, att_mtu: u16) {
        let role = if central {
            Role::Central
        } else {
            Role::Peripheral
        };
        let fresh = match &*self.state.borrow() {
            None => return off("link_up"),
            Some(s) => !s.links.contains_key(&link),
        };
        if !fresh {
            tracing::warn!(link = link.0, %handle, "BLE link id already up; ignored");
            return;
        }
        let accepted = self.call(|d, r, s, now| {
            d.link_up(r, s, link, &handle, role, att_mtu, now);
            d.hub().role_of(link).is_some()
        });
        if accepted != Some(true) {
            return;
        }
        let appeared = {
            let mut state = self.state.borrow_mut();
            let Some(s) = state.as_mut() else { return };
            s.links.insert(
                link,
                LinkNote {
                    handle: handle.clone(),
                    synced: false,
                },
            );
            let n = s.present.entry(handle.clone()).or_default();
            *n += 1;
            *n == 1
        };
        if appeared {
            self.neighbour(true, handle);
        }
    }

    /// A connection attempt failed.
    pub fn connect_failed(&self, handle: String) {
        self.call(|d, r, s, now| d.connect_failed(r, s, &handle, now));
    }

    /// A value arrived.
    pub fn received(&self, link: LinkId, value: Vec<u8>) {
        if !self.knows(link, "received") {
            return;
        }
        self.call(|d, r, s, now| d.received(r, s, link, &value, now));
    }

    /// The platform sent `sent` queued values.
    pub fn ready(&self, link: LinkId, sent: u32) {
        if !self.knows(link, "ready") {
            return;
        }
        self.call(|d, r, s, _| d.ready(r, s, link, sent));
    }

    /// A link is gone.
    pub fn link_down(&self, link: LinkId) {
        if !self.knows(link, "link_down") {
            return;
        }
        self.call(|d, r, s, now| d.link_down(r, s, link, now));
        let left = {
            let mut state = self.state.borrow_mut();
            let Some(s) = state.as_mut() else { return };
            let Some(note) = s.links.remove(&link) else {
                return;
            };
            let n = s.present.entry(note.handle.clone()).or_default();
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.present.remove(&note.handle);
                tracing::debug!(link = link.0, handle = %note.handle, synced = note.synced, "BLE neighbour unlinked");
                Some(note.handle)
            } else {
                None
            }
        };
        if let Some(handle) = left {
            self.neighbour(false, handle);
        }
    }

    /// The timer task: runs the driver's timers at its deadline and passes
    /// news on; woken early whenever a call may have moved the deadline.
    pub async fn run_timer(self: Rc<Self>) {
        loop {
            let deadline = self
                .state
                .borrow()
                .as_ref()
                .and_then(|s| s.driver.poll_timeout());
            let wait = deadline
                .map(|ms| Duration::from_millis(ms.saturating_sub(self.clock.now_ms())))
                .unwrap_or(IDLE);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
            }
            // Not under the core thread's job wrapper: a panic must not end
            // the timer for good.
            let tick = catch_unwind(AssertUnwindSafe(|| self.tick()));
            if tick.is_err() {
                tracing::error!("panic in the BLE timer");
            }
        }
    }

    fn tick(&self) {
        if self.local_news.take() {
            self.drive(|d, r, s, now| d.note_local_write(r, s, now));
        }
        if self.news.take() {
            self.drive(|d, r, s, now| d.note_news(r, s, now));
        }
        let due = self
            .state
            .borrow()
            .as_ref()
            .and_then(|s| s.driver.poll_timeout())
            .is_some_and(|t| t <= self.clock.now_ms());
        if due {
            self.drive(|d, r, s, now| d.handle_timeout(r, s, now));
        }
    }

    /// Whether `link` is live; an unknown one is logged (a late callback).
    fn knows(&self, link: LinkId, what: &str) -> bool {
        match &*self.state.borrow() {
            None => {
                off(what);
                false
            }
            Some(s) if s.links.contains_key(&link) => true,
            Some(_) => {
                tracing::debug!(
                    link = link.0,
                    what,
                    "BLE callback for an unknown link; ignored"
                );
                false
            }
        }
    }

    /// A platform callback: drives, then re-arms the timer.
    fn call<T>(
        &self,
        f: impl FnOnce(&mut BleDriver, &dyn BleRadio, &mut dyn SyncStore, u64) -> T,
    ) -> Option<T> {
        let out = self.drive(f);
        if out.is_none() {
            off("callback");
        }
        self.wake.notify_one();
        out
    }

    /// Runs `f` on the driver with the radio, the store and the time, then
    /// tells the UI and the other neighbours what changed.
    fn drive<T>(
        &self,
        f: impl FnOnce(&mut BleDriver, &dyn BleRadio, &mut dyn SyncStore, u64) -> T,
    ) -> Option<T> {
        let mut state = self.state.borrow_mut();
        let s = state.as_mut()?;
        let (out, changed) = {
            let mut node = self.node.borrow_mut();
            let mut store = Watched::new(&mut node);
            let radio: &dyn BleRadio = &*s.radio;
            let out = f(&mut s.driver, radio, &mut store, self.clock.now_ms());
            (out, store.changed || node.has_events())
        };
        if changed {
            self.view.notify_one();
        }
        self.drain_events(s);
        Some(out)
    }

    fn drain_events(&self, s: &mut BleState) {
        let mut news = false;
        while let Some(HubEvent::SessionEnded {
            link,
            peer,
            stats,
            error,
        }) = s.driver.poll_event()
        {
            let synced = error.is_none();
            if let Some(note) = s.links.get_mut(&link) {
                note.synced = synced;
            }
            news |= stats.opened + stats.carried + stats.new_proofs > 0;
            match error {
                None => tracing::debug!(
                    link = link.0,
                    ?peer,
                    sent = stats.envelopes_sent,
                    received = stats.envelopes_received,
                    "BLE session finished"
                ),
                Some(e) => {
                    tracing::info!(link = link.0, ?peer, reason = %e, "BLE session ended early")
                }
            }
        }
        if news && let Some(hook) = &*self.on_news.borrow() {
            hook();
        }
    }

    fn neighbour(&self, appeared: bool, id: String) {
        let kind = NeighbourKind::Ble;
        (self.events)(if appeared {
            HostEvent::NeighbourAppeared { id, kind }
        } else {
            HostEvent::NeighbourLeft { id, kind }
        });
    }
}

fn off(what: &str) {
    tracing::debug!(what, "BLE is off (no radio set); callback ignored");
}

/// A radio that does nothing, for the driver's last calls while stopping.
struct Silent;

impl BleRadio for Silent {
    fn start_scan(&self) {}
    fn stop_scan(&self) {}
    fn advertise(&self, _: Vec<u8>, _: String, _: u32) {}
    fn stop_advertising(&self) {}
    fn connect(&self, _: String) {}
    fn disconnect(&self, _: LinkId) {}
    fn send(&self, _: LinkId, _: Vec<u8>) {}
}

/// The node as a sync store, noting whether a session changed what it holds
/// (so the UI refreshes while a session runs, not only when it ends).
struct Watched<'a> {
    node: &'a mut Node,
    changed: bool,
}

impl<'a> Watched<'a> {
    fn new(node: &'a mut Node) -> Self {
        Watched {
            node,
            changed: false,
        }
    }
}

impl SyncStore for Watched<'_> {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        self.node.items()
    }
    fn items_matching(
        &mut self,
        wanted: &mut dyn FnMut(&RoutingTag) -> bool,
    ) -> Result<Vec<LocalItem>, SyncStoreError> {
        self.node.items_matching(wanted)
    }
    fn offer_to(&mut self, item: &LocalItem, to: Toward) -> Result<bool, SyncStoreError> {
        self.node.offer_to(item, to)
    }
    fn handover(
        &mut self,
        items: &[(EnvelopeId, Toward)],
    ) -> Result<Vec<Option<u32>>, SyncStoreError> {
        self.node.handover(items)
    }
    fn encounter_summary(&mut self) -> Result<Option<EncounterSummary>, SyncStoreError> {
        self.node.encounter_summary()
    }
    fn met(&mut self, summary: &EncounterSummary) -> Result<(), SyncStoreError> {
        self.node.met(summary)
    }
    fn handed_over(&mut self, ids: &[EnvelopeId]) -> Result<(), SyncStoreError> {
        self.node.handed_over(ids)
    }
    fn refund(&mut self, id: &EnvelopeId, copies: u32) -> Result<(), SyncStoreError> {
        self.node.refund(id, copies)
    }
    fn refund_chunk(&mut self, id: &[u8; 32], copies: u32) -> Result<(), SyncStoreError> {
        self.node.refund_chunk(id, copies)
    }
    fn chunks_handed_over(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        self.node.chunks_handed_over(ids)
    }
    fn chunk(&mut self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.node.chunk(id)
    }
    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        self.node.interests()
    }
    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.node.envelope(id)
    }
    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        self.node.proof(commitment)
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
        let out = self.node.ingest(items, origin)?;
        self.changed |= out.0.iter().any(|r| {
            matches!(
                r,
                Received::Opened | Received::Carried | Received::Proof { .. }
            )
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_node::node::SystemClock;
    use pollen_node::store::StoreLimits;
    use pollen_proto::sync::store::PeerRole;

    /// The wrapper must hand the node's routing decisions through: a budget
    /// that is not taken on hand-over would let a phone spray without end.
    #[test]
    fn the_watched_store_routes_like_the_node() {
        let mut me = Node::in_memory("Ada", StoreLimits::default(), Box::new(SystemClock)).unwrap();
        let zed = Node::in_memory("Zed", StoreLimits::default(), Box::new(SystemClock)).unwrap();
        me.add_contact(&zed.card(), None).unwrap();
        let id = me.send_direct("Zed", "hello").unwrap().envelope;
        let item = me
            .items()
            .unwrap()
            .into_iter()
            .find(|i| i.id == id.0)
            .unwrap();
        let mut store = Watched::new(&mut me);
        let carrier = Toward::blind(PeerRole::Carrier);
        assert!(store.offer_to(&item, carrier).unwrap());
        assert_eq!(store.handover(&[(id, carrier)]).unwrap(), [Some(8)]);
        assert_eq!(store.handover(&[(id, carrier)]).unwrap(), [Some(4)]);
        // And the encounter summaries, both ways.
        let told = store
            .encounter_summary()
            .unwrap()
            .expect("encounter routing is on");
        assert_eq!(
            told.met.len(),
            pollen_proto::sync::encounter::MET_DAYS as usize
        );
        store.met(&told).unwrap();
        assert!(!store.changed, "a hand-over changes nothing the UI shows");
        assert_eq!(me.store().envelope_copies(&id).unwrap(), Some(4));
    }
}
