//! The phone radio's own link table, sans-IO: what the platform's Bluetooth
//! code (Swift's and Kotlin's) would otherwise keep by hand. It numbers each
//! connection that can carry values (a subscribed GATT client, or a central
//! subscribed to our server), finds a connection's link again from the
//! platform's callbacks (by handle and role), holds the values the driver
//! handed over ([`BleRadio::send`](super::BleRadio::send)) until the
//! platform's stack takes them, counts them back with "sent" (what the
//! driver's [`ready`](super::BleDriver::ready) wants), and says when a link
//! the driver asked to close has drained and may be hung up.
//!
//! The platform asks [`RadioLinks::next`] what to do on a link after every
//! change (a value queued, a value sent, the stack ready again) and does it:
//! - iOS takes values at once while its buffer has room and says "ready"
//!   when it has room again: it answers [`RadioLinks::sent`] or
//!   [`RadioLinks::refused`] straight away;
//! - Android takes one value at a time and confirms it in a callback: it
//!   answers [`RadioLinks::sent`] from that callback, and
//!   [`RadioLinks::abort`] when the stack will not take a value at all.
//!
//! Nothing here touches the node: the platform tells the node
//! (`ble_link_up`, `ble_ready`, `ble_link_down`) what these calls return.

use super::manager::LinkId;
use pollen_proto::ble::profile::{ATT_HEADER, MAX_ATT_MTU, MIN_ATT_MTU};
use std::collections::{BTreeMap, VecDeque};

/// Values one link may hold for the platform at most. The driver hands over
/// at most [`MAX_QUEUED`](super::driver::MAX_QUEUED) before a "ready", so
/// this is only reached by a driver that misbehaves.
pub const MAX_HELD: usize = 64;

/// A link that came up: its id, and the ATT MTU to tell the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The new link's id.
    pub link: LinkId,
    /// The ATT MTU of the connection.
    pub att_mtu: u16,
}

/// What the platform does next on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Hand this value to the stack (write without response as central,
    /// notify as peripheral), then answer `sent`, `refused` or `abort`.
    Send(Vec<u8>),
    /// The driver asked to close and everything queued went out: hang up
    /// (cancel the connection) and report the link down.
    HangUp,
    /// Nothing to do until a value is queued or the stack is ready again.
    Wait,
}

#[derive(Debug)]
struct Entry {
    handle: String,
    central: bool,
    held: VecDeque<Vec<u8>>,
    /// The first held value is with the stack, not yet confirmed.
    in_flight: bool,
    /// The driver asked to close once `held` is empty.
    closing: bool,
    /// `HangUp` was returned once; the link waits for `gone`.
    hung_up: bool,
}

/// Every live link of one radio, either role.
#[derive(Debug)]
pub struct RadioLinks {
    next_id: LinkId,
    links: BTreeMap<LinkId, Entry>,
    /// ATT MTUs the stack reported before the link came up (Android).
    mtus: BTreeMap<(String, bool), u16>,
}

impl Default for RadioLinks {
    fn default() -> Self {
        RadioLinks::new()
    }
}

impl RadioLinks {
    /// An empty table; ids start at 1.
    pub fn new() -> RadioLinks {
        RadioLinks {
            next_id: LinkId::FIRST,
            links: BTreeMap::new(),
            mtus: BTreeMap::new(),
        }
    }

    /// The stack reported the ATT MTU of a connection to `handle` in this
    /// role before its link is up (Android's `onMtuChanged`).
    pub fn note_mtu(&mut self, handle: &str, central: bool, att_mtu: u16) {
        self.mtus.insert((handle.to_owned(), central), att_mtu);
    }

    /// A connection to `handle` in this role can carry values now (central:
    /// connected and subscribed; peripheral: the central subscribed). The
    /// ATT MTU is `max_value` plus the ATT header when the platform reports
    /// the largest value it takes (iOS), else what [`Self::note_mtu`] noted,
    /// else the smallest; clamped to what ATT allows. `None` when a link to
    /// `handle` in this role is already up (a second subscription).
    pub fn open(&mut self, handle: &str, central: bool, max_value: Option<u32>) -> Option<Opened> {
        if self.find(handle, central).is_some() {
            return None;
        }
        let noted = self.mtus.remove(&(handle.to_owned(), central));
        let att_mtu = match (max_value, noted) {
            (Some(v), _) => v.saturating_add(ATT_HEADER as u32).min(u32::from(u16::MAX)) as u16,
            (None, Some(m)) => m,
            (None, None) => MIN_ATT_MTU,
        }
        .clamp(MIN_ATT_MTU, MAX_ATT_MTU);
        let link = self.next_id.take();
        self.links.insert(
            link,
            Entry {
                handle: handle.to_owned(),
                central,
                held: VecDeque::new(),
                in_flight: false,
                closing: false,
                hung_up: false,
            },
        );
        Some(Opened { link, att_mtu })
    }

    /// The live link to `handle` in this role.
    pub fn find(&self, handle: &str, central: bool) -> Option<LinkId> {
        self.links
            .iter()
            .find(|(_, e)| e.central == central && e.handle == handle)
            .map(|(id, _)| *id)
    }

    /// The handle and role of a live link.
    pub fn peer(&self, link: LinkId) -> Option<(&str, bool)> {
        self.links
            .get(&link)
            .map(|e| (e.handle.as_str(), e.central))
    }

    /// Live links, in one role or (`None`) both, oldest first.
    pub fn ids(&self, central: Option<bool>) -> Vec<LinkId> {
        self.links
            .iter()
            .filter(|(_, e)| central.is_none_or(|c| e.central == c))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The link is gone: forgets it and what it held. `true` if it was
    /// live (then tell the node `ble_link_down`).
    pub fn gone(&mut self, link: LinkId) -> bool {
        self.links.remove(&link).is_some()
    }

    /// The connection to `handle` in this role is gone: forgets its link
    /// (returned, to report down) and any MTU noted for it. `None` when no
    /// link was up: a connection that failed before (`ble_connect_failed`
    /// for a central).
    pub fn gone_handle(&mut self, handle: &str, central: bool) -> Option<LinkId> {
        self.mtus.remove(&(handle.to_owned(), central));
        let link = self.find(handle, central)?;
        self.links.remove(&link);
        Some(link)
    }

    /// Every link in one role or (`None`) both is gone (the adapter went
    /// off, the radio stops): their ids, to report down.
    pub fn gone_all(&mut self, central: Option<bool>) -> Vec<LinkId> {
        let ids = self.ids(central);
        for id in &ids {
            self.links.remove(id);
        }
        self.mtus
            .retain(|(_, c), _| central.is_some_and(|want| *c != want));
        ids
    }

    /// The driver handed a value to send on `link`. `false` (dropped) for
    /// a link that is not live or is closing, or that holds [`MAX_HELD`].
    pub fn queue(&mut self, link: LinkId, value: Vec<u8>) -> bool {
        match self.links.get_mut(&link) {
            Some(e) if !e.closing && e.held.len() < MAX_HELD => {
                e.held.push_back(value);
                true
            }
            _ => false,
        }
    }

    /// The driver asked to close `link` after the values already handed over.
    pub fn hang_up(&mut self, link: LinkId) {
        if let Some(e) = self.links.get_mut(&link) {
            e.closing = true;
        }
    }

    /// What to do next on `link` (see [`Step`]).
    pub fn next(&mut self, link: LinkId) -> Step {
        let Some(e) = self.links.get_mut(&link) else {
            return Step::Wait;
        };
        if e.in_flight || e.hung_up {
            return Step::Wait;
        }
        if let Some(v) = e.held.front() {
            e.in_flight = true;
            return Step::Send(v.clone());
        }
        if e.closing {
            e.hung_up = true;
            return Step::HangUp;
        }
        Step::Wait
    }

    /// The stack took (iOS) or confirmed (Android) the value [`Self::next`]
    /// gave: `true` if one was in flight, then tell the node
    /// `ble_ready(link, 1)` and ask [`Self::next`] again.
    pub fn sent(&mut self, link: LinkId) -> bool {
        match self.links.get_mut(&link) {
            Some(e) if e.in_flight => {
                e.in_flight = false;
                e.held.pop_front();
                true
            }
            _ => false,
        }
    }

    /// The stack has no room for the value now (iOS: no room to write
    /// without response, or `updateValue` returned false): it is given again
    /// by the next [`Self::next`], after the stack says it is ready.
    pub fn refused(&mut self, link: LinkId) {
        if let Some(e) = self.links.get_mut(&link) {
            e.in_flight = false;
        }
    }

    /// The stack will not take values on `link` at all (Android: a write
    /// refused): drops what it holds and hangs up at the next [`Self::next`].
    pub fn abort(&mut self, link: LinkId) {
        if let Some(e) = self.links.get_mut(&link) {
            e.held.clear();
            e.in_flight = false;
            e.closing = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(n: u8) -> Vec<u8> {
        vec![n; 3]
    }

    #[test]
    fn ids_roles_and_one_link_per_handle_and_role() {
        let mut t = RadioLinks::new();
        let a = t.open("AA", true, None).unwrap();
        let b = t.open("AA", false, Some(182)).unwrap();
        assert_eq!((a.link, b.link), (LinkId(1), LinkId(2)));
        assert_eq!(a.att_mtu, MIN_ATT_MTU);
        assert_eq!(
            b.att_mtu, 185,
            "iOS reports the value length: the header is added"
        );
        assert_eq!(
            t.open("AA", true, None),
            None,
            "a second subscription is not a second link"
        );
        assert_eq!(t.find("AA", true), Some(LinkId(1)));
        assert_eq!(t.find("AA", false), Some(LinkId(2)));
        assert_eq!(t.find("BB", true), None);
        assert_eq!(t.peer(LinkId(2)), Some(("AA", false)));
        assert_eq!(t.ids(Some(true)), vec![LinkId(1)]);
        assert_eq!(t.ids(None), vec![LinkId(1), LinkId(2)]);
        assert_eq!(t.gone_handle("AA", false), Some(LinkId(2)));
        assert_eq!(t.gone_handle("AA", false), None, "reported down once");
        assert!(t.gone(LinkId(1)));
        assert!(!t.gone(LinkId(1)));
        // Ids are never reused while the radio lives.
        assert_eq!(t.open("AA", true, None).unwrap().link, LinkId(3));
    }

    #[test]
    fn mtus_noted_before_the_link_and_clamped() {
        let mut t = RadioLinks::new();
        t.note_mtu("AA", true, 247);
        t.note_mtu("BB", false, 5000);
        assert_eq!(
            t.open("AA", false, None).unwrap().att_mtu,
            MIN_ATT_MTU,
            "noted for the other role"
        );
        assert_eq!(t.open("AA", true, None).unwrap().att_mtu, 247);
        assert_eq!(t.open("BB", false, None).unwrap().att_mtu, MAX_ATT_MTU);
        assert_eq!(
            t.open("CC", true, Some(u32::MAX)).unwrap().att_mtu,
            MAX_ATT_MTU
        );
        assert_eq!(t.open("DD", true, Some(0)).unwrap().att_mtu, MIN_ATT_MTU);
        // A connection that drops before its link forgets its MTU.
        t.note_mtu("EE", true, 100);
        assert_eq!(t.gone_handle("EE", true), None);
        assert_eq!(t.open("EE", true, None).unwrap().att_mtu, MIN_ATT_MTU);
    }

    /// iOS: values go out while the stack has room; a refusal keeps the
    /// value for the next "ready"; each value taken is counted once.
    #[test]
    fn ios_takes_values_until_its_buffer_is_full() {
        let mut t = RadioLinks::new();
        let l = t.open("AA", true, Some(182)).unwrap().link;
        for n in 0..3 {
            assert!(t.queue(l, value(n)));
        }
        let mut room = 2;
        let mut out = Vec::new();
        let mut ready = 0;
        while let Step::Send(v) = t.next(l) {
            if room == 0 {
                t.refused(l);
                break;
            }
            room -= 1;
            out.push(v);
            if t.sent(l) {
                ready += 1;
            }
        }
        assert_eq!((out.len(), ready), (2, 2));
        assert!(!t.sent(l), "nothing in flight after a refusal");
        // "Ready to send" again: the refused value comes back first.
        assert_eq!(t.next(l), Step::Send(value(2)));
        assert!(t.sent(l));
        assert_eq!(t.next(l), Step::Wait);
    }

    /// Android: one value with the stack at a time, confirmed in a callback.
    #[test]
    fn android_one_value_in_flight() {
        let mut t = RadioLinks::new();
        let l = t.open("AA", false, None).unwrap().link;
        t.queue(l, value(1));
        t.queue(l, value(2));
        assert_eq!(t.next(l), Step::Send(value(1)));
        assert_eq!(t.next(l), Step::Wait, "the first is not confirmed yet");
        assert!(t.queue(l, value(3)));
        assert!(t.sent(l));
        assert_eq!(t.next(l), Step::Send(value(2)));
        assert!(t.sent(l));
        assert_eq!(t.next(l), Step::Send(value(3)));
        assert!(t.sent(l));
        assert_eq!(t.next(l), Step::Wait);
    }

    /// The driver's disconnect waits for what it handed over, then hangs up once.
    #[test]
    fn hang_up_after_the_queue_drains() {
        let mut t = RadioLinks::new();
        let l = t.open("AA", true, None).unwrap().link;
        t.queue(l, value(1));
        t.hang_up(l);
        assert!(!t.queue(l, value(2)), "nothing is queued after the close");
        assert_eq!(t.next(l), Step::Send(value(1)));
        assert_eq!(t.next(l), Step::Wait);
        assert!(t.sent(l));
        assert_eq!(t.next(l), Step::HangUp);
        assert_eq!(
            t.next(l),
            Step::Wait,
            "hung up once; the platform reports it gone"
        );
        assert!(t.gone(l));
        assert_eq!(t.next(l), Step::Wait);
    }

    #[test]
    fn abort_drops_what_is_held() {
        let mut t = RadioLinks::new();
        let l = t.open("AA", true, None).unwrap().link;
        t.queue(l, value(1));
        t.queue(l, value(2));
        assert_eq!(t.next(l), Step::Send(value(1)));
        t.abort(l);
        assert!(!t.sent(l));
        assert_eq!(t.next(l), Step::HangUp);
    }

    #[test]
    fn unknown_links_and_a_full_queue() {
        let mut t = RadioLinks::new();
        assert!(!t.queue(LinkId(9), value(1)));
        assert_eq!(t.next(LinkId(9)), Step::Wait);
        assert!(!t.sent(LinkId(9)));
        t.refused(LinkId(9));
        t.abort(LinkId(9));
        t.hang_up(LinkId(9));
        assert_eq!(t.peer(LinkId(9)), None);
        let l = t.open("AA", true, None).unwrap().link;
        for n in 0..MAX_HELD {
            assert!(t.queue(l, value(n as u8)));
        }
        assert!(!t.queue(l, value(0)), "held values are bounded");
    }

    #[test]
    fn the_adapter_going_off_takes_one_role_down() {
        let mut t = RadioLinks::new();
        t.open("AA", true, None);
        t.open("BB", false, None);
        t.open("CC", true, None);
        t.note_mtu("DD", true, 100);
        t.note_mtu("EE", false, 100);
        assert_eq!(t.gone_all(Some(true)), vec![LinkId(1), LinkId(3)]);
        assert_eq!(t.ids(None), vec![LinkId(2)]);
        assert_eq!(t.open("DD", true, None).unwrap().att_mtu, MIN_ATT_MTU);
        assert_eq!(t.open("EE", false, None).unwrap().att_mtu, 100);
        assert_eq!(t.gone_all(None), vec![LinkId(2), LinkId(4), LinkId(5)]);
        assert!(t.ids(None).is_empty());
    }

    /// Two tables back to back, values moved only as the tables say,
    /// iOS-style on one side and Android-style on the other: every value
    /// queued arrives once and in order, and the close reaches both ends.
    /// (With the node's driver in the loop: `driver::tests`.)
    #[test]
    fn every_value_arrives_once_in_order() {
        let mut a = RadioLinks::new();
        let mut b = RadioLinks::new();
        let la = a.open("B", true, Some(20)).unwrap().link;
        let lb = b.open("A", false, None).unwrap().link;
        let mut got_b = Vec::new();
        let mut got_a = Vec::new();
        let mut ready_a = 0;
        let mut ready_b = 0;
        for n in 0..20u8 {
            a.queue(la, vec![n]);
            b.queue(lb, vec![100 + n]);
            // A is iOS: room for two values per round.
            let mut room = 2;
            loop {
                match a.next(la) {
                    Step::Send(v) if room > 0 => {
                        room -= 1;
                        got_b.push(v[0]);
                        ready_a += u32::from(a.sent(la));
                    }
                    Step::Send(_) => {
                        a.refused(la);
                        break;
                    }
                    _ => break,
                }
            }
            // B is Android: one value, confirmed later in the round.
            if let Step::Send(v) = b.next(lb) {
                got_a.push(v[0]);
                ready_b += u32::from(b.sent(lb));
            }
        }
        a.hang_up(la);
        b.hang_up(lb);
        let mut ends = 0;
        for _ in 0..100 {
            match a.next(la) {
                Step::Send(v) => {
                    got_b.push(v[0]);
                    ready_a += u32::from(a.sent(la));
                }
                Step::HangUp => ends += 1,
                Step::Wait => {}
            }
            match b.next(lb) {
                Step::Send(v) => {
                    got_a.push(v[0]);
                    ready_b += u32::from(b.sent(lb));
                }
                Step::HangUp => ends += 1,
                Step::Wait => {}
            }
        }
        assert_eq!(got_b, (0..20).collect::<Vec<u8>>());
        assert_eq!(got_a, (100..120).collect::<Vec<u8>>());
        assert_eq!((ready_a, ready_b, ends), (20, 20, 2));
    }
}
