//! The radio's link table wired to its node, for iOS's Bluetooth code: each
//! CoreBluetooth event goes in with the platform's handle, the bridge looks
//! the link up in [`BleLinks`] and tells the node (`ble_link_up`,
//! `ble_received`, `ble_ready`, `ble_link_down`, `ble_connect_failed`),
//! logging a call the node refuses (a value over the contract's size, a node
//! shut down) instead of throwing it into CoreBluetooth's queue. What is left
//! to the platform is what only it can do: keep its objects by handle, hand
//! values to the stack, cancel connections.
//!
//! The rules it holds, once: a connection dropped before its link came up is
//! a failed connect (central role only: a peripheral never asked for it); a
//! value or a hang-up for a link that is not live is ignored; the node hears
//! `ble_ready` only for a value the table had handed out; a link is drained
//! into the stack until it has no room (`pump`), and a peripheral, which
//! cannot hang up on its central, hangs up by no longer serving the link.

use crate::ble_links::{BleLinks, BleStep};
use crate::error::PollenError;
use crate::node::PollenNode;
use std::sync::Arc;

/// The node's BLE entry points the bridge calls: the node itself, a
/// recorder in the tests.
pub(crate) trait BleNodeCalls: Send + Sync {
    fn advertisement(
        &self,
        handle: String,
        service_data: Option<Vec<u8>>,
        local_name: Option<String>,
    ) -> Result<(), PollenError>;
    fn link_up(
        &self,
        link_id: u64,
        handle: String,
        central: bool,
        att_mtu: u16,
    ) -> Result<(), PollenError>;
    fn connect_failed(&self, handle: String) -> Result<(), PollenError>;
    fn received(&self, link_id: u64, value: Vec<u8>) -> Result<(), PollenError>;
    fn ready(&self, link_id: u64) -> Result<(), PollenError>;
    fn link_down(&self, link_id: u64) -> Result<(), PollenError>;
}

impl BleNodeCalls for PollenNode {
    fn advertisement(
        &self,
        handle: String,
        service_data: Option<Vec<u8>>,
        local_name: Option<String>,
    ) -> Result<(), PollenError> {
        self.ble_advertisement(handle, service_data, local_name)
    }
    fn link_up(
        &self,
        link_id: u64,
        handle: String,
        central: bool,
        att_mtu: u16,
    ) -> Result<(), PollenError> {
        self.ble_link_up(link_id, handle, central, att_mtu)
    }
    fn connect_failed(&self, handle: String) -> Result<(), PollenError> {
        self.ble_connect_failed(handle)
    }
    fn received(&self, link_id: u64, value: Vec<u8>) -> Result<(), PollenError> {
        self.ble_received(link_id, value)
    }
    fn ready(&self, link_id: u64) -> Result<(), PollenError> {
        self.ble_ready(link_id, 1)
    }
    fn link_down(&self, link_id: u64) -> Result<(), PollenError> {
        self.ble_link_down(link_id)
    }
}

/// What the bridge asks of the platform's Bluetooth stack while it drains a
/// link (`BleBridge::pump`), called back on the caller's queue.
#[uniffi::export(with_foreign)]
pub trait BleStack: Send + Sync {
    /// Hands `value` to the stack on the connection with `handle`: a write
    /// without response (`central`) or a notification. False when it has no
    /// room now: the value comes again once the stack says it is ready.
    fn push(&self, handle: String, central: bool, value: Vec<u8>) -> bool;
    /// Cancels the connection to the peripheral `handle` (this phone is its
    /// central); false when there is none. The link goes down when the
    /// stack reports the disconnection.
    fn cancel(&self, handle: String) -> bool;
}

/// One radio's link table and its node. Called from the radio's queue.
#[derive(uniffi::Object)]
pub struct BleBridge {
    links: Arc<BleLinks>,
    node: Arc<dyn BleNodeCalls>,
}

impl BleBridge {
    pub(crate) fn with(node: Arc<dyn BleNodeCalls>) -> Arc<BleBridge> {
        Arc::new(BleBridge {
            links: BleLinks::new(),
            node,
        })
    }

    /// Makes one node call; a refusal is logged, never thrown.
    fn tell(&self, what: &str, result: Result<(), PollenError>) {
        if let Err(error) = result {
            tracing::warn!(what, %error, "BLE call refused by the node");
        }
    }

    fn down(&self, link_id: u64) {
        self.tell("link down", self.node.link_down(link_id));
    }

    /// The link is gone without a disconnection to wait for (a peripheral
    /// stops serving a central it cannot hang up on): down, if it was live.
    pub(crate) fn gone(&self, link_id: u64) {
        if self.links.gone(link_id) {
            self.down(link_id);
        }
    }

    /// What to do next on the link: see [`BleLinks::next`].
    pub(crate) fn next(&self, link_id: u64) -> BleStep {
        self.links.next(link_id)
    }

    /// The stack took the value `next` gave: the node hears `ble_ready`.
    pub(crate) fn sent(&self, link_id: u64) {
        if self.links.sent(link_id) {
            self.tell("ready", self.node.ready(link_id));
        }
    }
}

#[uniffi::export]
impl BleBridge {
    /// An empty table for `node`'s radio.
    #[uniffi::constructor]
    pub fn new(node: Arc<PollenNode>) -> Arc<BleBridge> {
        BleBridge::with(node)
    }

    /// An advertisement of the Pollen service was heard from `handle`.
    pub fn advertisement(
        &self,
        handle: String,
        service_data: Option<Vec<u8>>,
        local_name: Option<String>,
    ) {
        let result = self.node.advertisement(handle, service_data, local_name);
        self.tell("advertisement", result);
    }

    /// A connect the node asked for could not even start (the handle was
    /// never heard, the radio is off).
    pub fn connect_failed(&self, handle: String) {
        self.tell("connect failed", self.node.connect_failed(handle));
    }

    /// A connection can carry values (see [`BleLinks::up`]): the node hears
    /// `ble_link_up`, unless a link to `handle` in this role is already up.
    pub fn up(&self, handle: String, central: bool, max_value: Option<u32>) {
        if let Some(up) = self.links.up(handle.clone(), central, max_value) {
            let result = self.node.link_up(up.link_id, handle, central, up.att_mtu);
            self.tell("link up", result);
        }
    }

    /// A value arrived from `handle` in this role: the node hears it on the
    /// live link. False (answer the request with an error) when no link is
    /// up there.
    pub fn received(&self, handle: String, central: bool, value: Vec<u8>) -> bool {
        let Some(id) = self.links.find(handle, central) else {
            return false;
        };
        self.tell("received", self.node.received(id, value));
        true
    }

    /// The connection to `handle` in this role dropped: its link goes down,
    /// or, as central with no link up yet, the connect failed.
    pub fn disconnected(&self, handle: String, central: bool) {
        match self.links.gone_handle(handle.clone(), central) {
            Some(id) => self.down(id),
            None if central => self.connect_failed(handle),
            None => {}
        }
    }

    /// The radio in one role (or, `None`, both) went off: every link there
    /// goes down.
    pub fn gone_all(&self, central: Option<bool>) {
        for id in self.links.gone_all(central) {
            self.down(id);
        }
    }

    /// The node's `BleRadio::send`: see [`BleLinks::queue`].
    pub fn queue(&self, link_id: u64, value: Vec<u8>) -> bool {
        self.links.queue(link_id, value)
    }

    /// The node's `BleRadio::disconnect`: see [`BleLinks::hang_up`].
    pub fn hang_up(&self, link_id: u64) {
        self.links.hang_up(link_id);
    }

    /// Does what the table says on the link until the stack has no room or
    /// nothing is left: each value goes to `stack.push` (the node hears
    /// `ble_ready` for each one taken); a hang-up cancels the connection as
    /// central, and otherwise takes the link down at once. Call it after
    /// `queue`, `hang_up`, and when the stack is ready again.
    pub fn pump(&self, link_id: u64, stack: Arc<dyn BleStack>) {
        loop {
            match self.next(link_id) {
                BleStep::Send { value } => {
                    let taken = self
                        .links
                        .peer(link_id)
                        .is_some_and(|p| stack.push(p.handle, p.central, value));
                    if !taken {
                        return self.links.refused(link_id);
                    }
                    self.sent(link_id);
                }
                BleStep::HangUp => {
                    let cancelled = self
                        .links
                        .peer(link_id)
                        .is_some_and(|p| p.central && stack.cancel(p.handle));
                    if !cancelled {
                        self.gone(link_id);
                    }
                    return;
                }
                BleStep::Wait => return,
            }
        }
    }

    /// The live link to `handle` in this role.
    pub fn find(&self, handle: String, central: bool) -> Option<u64> {
        self.links.find(handle, central)
    }

    /// Live links in one role, or (`None`) both.
    pub fn ids(&self, central: Option<bool>) -> Vec<u64> {
        self.links.ids(central)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records the node calls, and refuses them all when told to.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
        refuse: bool,
    }

    impl Recorder {
        fn note(&self, call: String) -> Result<(), PollenError> {
            self.calls.lock().unwrap().push(call);
            if self.refuse {
                return Err(PollenError::NotRunning);
            }
            Ok(())
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.calls.lock().unwrap())
        }
    }

    impl BleNodeCalls for Recorder {
        fn advertisement(
            &self,
            handle: String,
            _: Option<Vec<u8>>,
            name: Option<String>,
        ) -> Result<(), PollenError> {
            self.note(format!("advert {handle} {name:?}"))
        }
        fn link_up(
            &self,
            id: u64,
            handle: String,
            central: bool,
            mtu: u16,
        ) -> Result<(), PollenError> {
            self.note(format!("up {id} {handle} {central} {mtu}"))
        }
        fn connect_failed(&self, handle: String) -> Result<(), PollenError> {
            self.note(format!("failed {handle}"))
        }
        fn received(&self, id: u64, value: Vec<u8>) -> Result<(), PollenError> {
            self.note(format!("received {id} {value:?}"))
        }
        fn ready(&self, id: u64) -> Result<(), PollenError> {
            self.note(format!("ready {id}"))
        }
        fn link_down(&self, id: u64) -> Result<(), PollenError> {
            self.note(format!("down {id}"))
        }
    }

    fn bridge(refuse: bool) -> (Arc<Recorder>, Arc<BleBridge>) {
        let node = Arc::new(Recorder {
            refuse,
            ..Recorder::default()
        });
        (node.clone(), BleBridge::with(node))
    }

    #[test]
    fn a_link_comes_up_once_carries_values_both_ways_and_goes_down() {
        let (node, b) = bridge(false);
        b.up("P1".into(), true, Some(182));
        b.up("P1".into(), true, Some(182));
        let id = b.find("P1".into(), true).unwrap();
        assert_eq!(node.take(), [format!("up {id} P1 true 185")]);

        assert!(b.received("P1".into(), true, vec![7]));
        assert!(
            !b.received("P1".into(), false, vec![8]),
            "no link as peripheral"
        );
        assert!(b.queue(id, vec![1, 2]));
        assert_eq!(b.next(id), BleStep::Send { value: vec![1, 2] });
        b.sent(id);
        assert_eq!(b.next(id), BleStep::Wait);
        assert_eq!(
            node.take(),
            [format!("received {id} [7]"), format!("ready {id}")]
        );

        b.disconnected("P1".into(), true);
        assert_eq!(node.take(), [format!("down {id}")]);
        assert!(!b.queue(id, vec![3]), "not live any more");
    }

    /// A stack with room for `room` values; records what it took and cancelled.
    #[derive(Default)]
    struct Stack {
        room: Mutex<usize>,
        taken: Mutex<Vec<(String, bool, Vec<u8>)>>,
        cancelled: Mutex<Vec<String>>,
    }

    impl BleStack for Stack {
        fn push(&self, handle: String, central: bool, value: Vec<u8>) -> bool {
            let mut room = self.room.lock().unwrap();
            if *room == 0 {
                return false;
            }
            *room -= 1;
            self.taken.lock().unwrap().push((handle, central, value));
            true
        }
        fn cancel(&self, handle: String) -> bool {
            self.cancelled.lock().unwrap().push(handle);
            true
        }
    }

    #[test]
    fn pumping_fills_the_stack_until_it_has_no_room_then_resumes() {
        let (node, b) = bridge(false);
        b.up("P1".into(), true, Some(182));
        let id = b.ids(None)[0];
        node.take();
        for v in 1..=3u8 {
            assert!(b.queue(id, vec![v]));
        }
        let stack = Arc::new(Stack {
            room: Mutex::new(2),
            ..Stack::default()
        });
        b.pump(id, stack.clone());
        assert_eq!(node.take(), [format!("ready {id}"), format!("ready {id}")]);
        *stack.room.lock().unwrap() = 5;
        b.pump(id, stack.clone());
        assert_eq!(node.take(), [format!("ready {id}")]);
        let values: Vec<Vec<u8>> = stack
            .taken
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.2.clone())
            .collect();
        assert_eq!(values, [vec![1], vec![2], vec![3]], "in order, none lost");

        b.hang_up(id);
        b.pump(id, stack.clone());
        assert_eq!(
            *stack.cancelled.lock().unwrap(),
            ["P1"],
            "a central cancels"
        );
        assert!(node.take().is_empty(), "down comes with the disconnection");
    }

    #[test]
    fn a_peripheral_pumped_to_a_hang_up_goes_down_at_once() {
        let (node, b) = bridge(false);
        b.up("C1".into(), false, Some(20));
        let id = b.ids(None)[0];
        node.take();
        b.hang_up(id);
        let stack = Arc::new(Stack::default());
        b.pump(id, stack.clone());
        assert!(stack.cancelled.lock().unwrap().is_empty());
        assert_eq!(node.take(), [format!("down {id}")]);
    }

    #[test]
    fn a_drop_before_the_link_is_up_is_a_failed_connect_for_a_central_only() {
        let (node, b) = bridge(false);
        b.disconnected("P1".into(), true);
        b.disconnected("C1".into(), false);
        assert_eq!(node.take(), ["failed P1"]);
    }

    #[test]
    fn a_peripheral_hangs_up_by_forgetting_the_link_once() {
        let (node, b) = bridge(false);
        b.up("C1".into(), false, Some(20));
        let id = b.ids(Some(false))[0];
        node.take();
        b.hang_up(id);
        assert_eq!(b.next(id), BleStep::HangUp);
        b.gone(id);
        b.gone(id);
        assert_eq!(node.take(), [format!("down {id}")]);
    }

    #[test]
    fn a_radio_going_off_takes_the_links_of_its_role_down() {
        let (node, b) = bridge(false);
        b.up("P1".into(), true, None);
        b.up("C1".into(), false, None);
        node.take();
        let central = b.find("P1".into(), true).unwrap();
        b.gone_all(Some(true));
        assert_eq!(node.take(), [format!("down {central}")]);
        assert_eq!(b.ids(None).len(), 1, "the peripheral's link stays");
    }

    #[test]
    fn refused_node_calls_are_logged_not_returned() {
        let (node, b) = bridge(true);
        b.advertisement("P1".into(), None, Some("Pabc".into()));
        b.up("P1".into(), true, Some(182));
        assert_eq!(node.take().len(), 2);
        assert!(
            b.find("P1".into(), true).is_some(),
            "the table keeps the link"
        );
    }
}
