//! The radio's link table for the phones' Bluetooth code
//! (`pollen_node::ble::radio_links`): link ids for connections, the values
//! the node's driver handed to `BleRadio::send` until the platform's stack
//! takes them, the count to give back with `ble_ready`, and when a link the
//! driver closes may be hung up. Swift and Kotlin keep only the platform's
//! objects (peripherals, centrals, GATT clients) by handle.
//!
//! One table per radio, called from the radio's own queue or thread (a
//! lock makes any thread safe). It never calls the node: the platform tells
//! the node what the table returns.

use pollen_node::ble::LinkId;
use pollen_node::ble::radio_links::{RadioLinks, Step};
use pollen_runtime::host::lock;
use std::sync::{Arc, Mutex};

/// A link that came up: tell the node `ble_link_up(LinkId(link_id), handle,
/// central, att_mtu)`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BleLinkUp {
    /// The new link's id.
    pub link_id: u64,
    /// The connection's ATT MTU.
    pub att_mtu: u16,
}

/// Who a link is with.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BleLinkPeer {
    /// The platform's handle of the other device.
    pub handle: String,
    /// This phone is the central (GATT client) of the link.
    pub central: bool,
}

/// What the platform does next on a link.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum BleStep {
    /// Hand this value to the stack (write without response as central,
    /// notify as peripheral), then answer `sent`, `refused` or `abort`.
    Send {
        /// The value.
        value: Vec<u8>,
    },
    /// Everything queued went out and the node asked to close: cancel the
    /// connection, call `gone` and tell the node `ble_link_down`.
    HangUp,
    /// Nothing to do until a value is queued or the stack is ready again.
    Wait,
}

/// The link table of one radio.
#[derive(uniffi::Object)]
pub struct BleLinks(Mutex<RadioLinks>);

#[uniffi::export]
impl BleLinks {
    /// An empty table.
    #[uniffi::constructor]
    pub fn new() -> Arc<BleLinks> {
        Arc::new(BleLinks(Mutex::new(RadioLinks::new())))
    }

    /// The stack reported a connection's ATT MTU before its link is up
    /// (Android's `onMtuChanged`).
    pub fn note_mtu(&self, handle: String, central: bool, att_mtu: u16) {
        lock(&self.0).note_mtu(&handle, central, att_mtu);
    }

    /// A connection can carry values (central: subscribed; peripheral: the
    /// central subscribed). `max_value`: the largest value the platform
    /// takes, when it says (iOS); else the MTU noted, else the smallest.
    /// None when a link to `handle` in this role is already up.
    pub fn up(&self, handle: String, central: bool, max_value: Option<u32>) -> Option<BleLinkUp> {
        lock(&self.0)
            .open(&handle, central, max_value)
            .map(|o| BleLinkUp {
                link_id: o.link.0,
                att_mtu: o.att_mtu,
            })
    }

    /// The live link to `handle` in this role.
    pub fn find(&self, handle: String, central: bool) -> Option<u64> {
        lock(&self.0).find(&handle, central).map(|l| l.0)
    }

    /// Who a live link is with.
    pub fn peer(&self, link_id: u64) -> Option<BleLinkPeer> {
        lock(&self.0)
            .peer(LinkId(link_id))
            .map(|(h, c)| BleLinkPeer {
                handle: h.to_owned(),
                central: c,
            })
    }

    /// Live links in one role, or (`None`) both.
    pub fn ids(&self, central: Option<bool>) -> Vec<u64> {
        lock(&self.0)
            .ids(central)
            .into_iter()
            .map(|l| l.0)
            .collect()
    }

    /// The link is gone; true if it was live (then tell the node down).
    pub fn gone(&self, link_id: u64) -> bool {
        lock(&self.0).gone(LinkId(link_id))
    }

    /// The connection to `handle` in this role dropped: its link, to report
    /// down; None if no link was up (a central's connect failed).
    pub fn gone_handle(&self, handle: String, central: bool) -> Option<u64> {
        lock(&self.0).gone_handle(&handle, central).map(|l| l.0)
    }

    /// Every link in one role (or both) is gone: their ids, to report down.
    pub fn gone_all(&self, central: Option<bool>) -> Vec<u64> {
        lock(&self.0)
            .gone_all(central)
            .into_iter()
            .map(|l| l.0)
            .collect()
    }

    /// The node's `BleRadio::send`: holds the value; false (dropped) for a
    /// link that is not live or is closing.
    pub fn queue(&self, link_id: u64, value: Vec<u8>) -> bool {
        lock(&self.0).queue(LinkId(link_id), value)
    }

    /// The node's `BleRadio::disconnect`: hang up once what is queued went out.
    pub fn hang_up(&self, link_id: u64) {
        lock(&self.0).hang_up(LinkId(link_id));
    }

    /// What to do next on the link.
    pub fn next(&self, link_id: u64) -> BleStep {
        match lock(&self.0).next(LinkId(link_id)) {
            Step::Send(value) => BleStep::Send { value },
            Step::HangUp => BleStep::HangUp,
            Step::Wait => BleStep::Wait,
        }
    }

    /// The stack took (iOS) or confirmed (Android) the value `next` gave:
    /// true, then tell the node `ble_ready(LinkId(link_id), 1)` and ask `next`.
    pub fn sent(&self, link_id: u64) -> bool {
        lock(&self.0).sent(LinkId(link_id))
    }

    /// The stack has no room now: the value comes again from `next` once
    /// the stack is ready.
    pub fn refused(&self, link_id: u64) {
        lock(&self.0).refused(LinkId(link_id));
    }

    /// The stack will not take values on this link: drop them and hang up.
    pub fn abort(&self, link_id: u64) {
        lock(&self.0).abort(LinkId(link_id));
    }
}
