//! One engine: a phone node built through `pollen-ffi`, linked to a carrier
//! only by the platform's links (a loopback standing in for Bluetooth), and
//! a `pollen run` process on loopback TCP exchange messages both ways. The
//! carrier is a second `pollen-ffi` node with the LAN on, so each message
//! crosses a platform link and a TCP link, every hop run by the same runtime
//! (`pollen_runtime::host`) that `pollen run` uses.

mod ffi_support;

use ffi_support::{block_on, loopback, offline, status_of};
use pollen_ffi::records::MessageStatus;
use pollen_ffi::{CallbackError, PlatformTransport, PollenNode};
use pollen_tests::{Phone, Server, wait_for};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Largest write on the loopback: a BLE link with the typical iOS MTU.
const MAX_WRITE: u32 = 182;
const PATIENCE: Duration = Duration::from_secs(30);

/// Platform links between nodes in this process: what one writes, the other
/// reads, in order; `connect` opens a new pair of links.
#[derive(Default)]
struct Loopback {
    nodes: Mutex<HashMap<String, Weak<PollenNode>>>,
    /// link id -> (the node at the other end, its id for the same link).
    ends: Mutex<HashMap<u64, (String, u64)>>,
    next_id: Mutex<u64>,
    writes: Mutex<u64>,
}

impl Loopback {
    fn node(&self, name: &str) -> Option<Arc<PollenNode>> {
        self.nodes.lock().unwrap().get(name).and_then(Weak::upgrade)
    }

    /// Opens a link from `from` (the initiator) to `to`.
    fn open(&self, from: &str, to: &str) -> Result<(), CallbackError> {
        let failed = |detail: String| CallbackError::Failed { detail };
        let (a, b) = match (self.node(from), self.node(to)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err(failed(format!("no node {to}"))),
        };
        let (ia, ib) = {
            let mut next = self.next_id.lock().unwrap();
            *next += 2;
            (*next - 1, *next)
        };
        {
            let mut ends = self.ends.lock().unwrap();
            ends.insert(ia, (to.to_owned(), ib));
            ends.insert(ib, (from.to_owned(), ia));
        }
        b.link_up(ib, from.to_owned(), false, MAX_WRITE)
            .map_err(|e| failed(e.to_string()))?;
        a.link_up(ia, to.to_owned(), true, MAX_WRITE)
            .map_err(|e| failed(e.to_string()))
    }
}

/// One node's view of the loopback.
struct Port {
    hub: Arc<Loopback>,
    me: String,
}

impl PlatformTransport for Port {
    fn send(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), CallbackError> {
        assert!(bytes.len() <= MAX_WRITE as usize, "a write over max_write");
        *self.hub.writes.lock().unwrap() += 1;
        let end = self.hub.ends.lock().unwrap().get(&link_id).cloned();
        if let Some((peer, their_id)) = end
            && let Some(node) = self.hub.node(&peer)
        {
            // The other end may have closed already; then the bytes are lost.
            let _ = node.link_received(their_id, bytes);
        }
        Ok(())
    }

    fn disconnect(&self, link_id: u64) -> Result<(), CallbackError> {
        let end = self.hub.ends.lock().unwrap().remove(&link_id);
        if let Some((peer, their_id)) = end {
            self.hub.ends.lock().unwrap().remove(&their_id);
            if let Some(node) = self.hub.node(&peer) {
                node.link_down(their_id);
            }
        }
        Ok(())
    }

    fn connect(&self, peer: String) -> Result<(), CallbackError> {
        self.hub.open(&self.me, &peer)
    }
}

/// A phone node on the loopback, by name, under `root`.
fn phone(hub: &Arc<Loopback>, root: &std::path::Path, name: &str) -> Arc<PollenNode> {
    let node = PollenNode::create(
        root.join(name).to_string_lossy().into_owned(),
        name.to_owned(),
    )
    .expect("create");
    hub.nodes
        .lock()
        .unwrap()
        .insert(name.to_owned(), Arc::downgrade(&node));
    node.set_transport(Some(Arc::new(Port {
        hub: hub.clone(),
        me: name.to_owned(),
    })));
    node
}

#[test]
fn a_phone_and_pollen_run_talk_through_a_carrier_both_ways() {
    let root = tempfile::tempdir().unwrap();
    let hub = Arc::new(Loopback::default());
    let ana = phone(&hub, root.path(), "ana");
    let bo = phone(&hub, root.path(), "bo");
    let chen = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    chen.ok(&["receipts", "immediate"]);
    ana.set_delivery_receipts(pollen_ffi::DeliveryReceipts::Immediate)
        .expect("receipts");
    ana.add_contact(chen.card(), Some("Chen".into()))
        .expect("ana pins chen");
    chen.ok(&["contact", "add", &ana.card().unwrap(), "--alias", "Ana"]);

    // Chen's laptop runs `pollen run`; Bo's phone (the carrier) reaches it
    // over TCP; Ana's phone reaches only Bo, over a platform link.
    let run = Server::start_with(&chen, &["run", "--listen", "127.0.0.1:0", "--no-mdns"]);
    block_on(bo.start(loopback(vec![run.addr.clone()]))).expect("bo starts");
    block_on(ana.start(offline())).expect("ana starts");
    hub.open("ana", "bo").expect("ana meets bo");
    // Ana's Nearby screen, from the host's events alone.
    wait_for("Ana's Nearby screen to show Bo", PATIENCE, || {
        ana.nearby().expect("nearby").lines[0] == "In reach: 1 over phone link"
    });

    let sent = ana
        .send_direct("Chen".into(), "from the phone".into())
        .expect("send");
    let took = wait_for("Chen to receive Ana's message", PATIENCE, || {
        chen.texts().contains(&"from the phone".to_owned())
    });
    eprintln!("phone -> carrier -> pollen run: {took:?}");
    let at_chen = chen.inbox();
    let got = at_chen
        .iter()
        .find(|m| m["text"] == "from the phone")
        .expect("in the inbox");
    // Bo carried it (and may already have dropped its copy on Chen's
    // delivery proof): two links, counted as at least one since Bo may keep
    // the maximum hop count (checklist P4).
    let hops = got["hops"].as_u64().expect("hops");
    assert!((1..=2).contains(&hops), "carried by Bo: {got}");

    // Written by another process on Chen's data directory while it runs.
    chen.ok(&["send", "--to", "Ana", "from the laptop"]);
    let took = wait_for("Ana to receive Chen's message", PATIENCE, || {
        status_of(&ana, "from the laptop").is_some()
    });
    eprintln!("pollen run -> carrier -> phone: {took:?}");
    assert_eq!(
        status_of(&ana, "from the laptop"),
        Some(MessageStatus::Received)
    );
    // Chen's delivery proof came back the same way.
    wait_for("Ana's message to show delivered", PATIENCE, || {
        status_of(&ana, "from the phone") == Some(MessageStatus::Delivered)
    });
    assert!(sent.message_id.len() == 32);
    assert!(
        *hub.writes.lock().unwrap() > 0,
        "bytes went through the platform"
    );

    block_on(ana.stop()).expect("ana stops");
    let hood = ana.nearby().expect("nearby");
    assert_eq!(
        (hood.neighbours, hood.lines[0].as_str()),
        (0, "Nobody in reach"),
        "a stopped runtime reaches nobody"
    );
    block_on(bo.stop()).expect("bo stops");
    assert!(run.stop().success(), "pollen run stops cleanly");
    ana.shutdown();
    bo.shutdown();
}

/// Ana's phone meets a carrier while Chen is away: her timeline says her
/// message is carried by one neighbour, which the carrier's acknowledgement
/// alone tells her.
#[test]
fn a_phone_sees_its_message_carried_while_the_recipient_is_away() {
    use pollen_ffi::app::{DeliveryState, TimelineEntry};
    let root = tempfile::tempdir().unwrap();
    let hub = Arc::new(Loopback::default());
    let ana = phone(&hub, root.path(), "ana");
    let bo = phone(&hub, root.path(), "bo");
    let chen = Phone::new(root.path(), "Chen");
    ana.add_contact(chen.card(), Some("Chen".into()))
        .expect("ana pins chen");
    block_on(bo.start(offline())).expect("bo starts");
    block_on(ana.start(offline())).expect("ana starts");
    ana.send_direct("Chen".into(), "water at the school".into())
        .expect("send");
    let chat = ana.chat_list(10).expect("chats")[0].conversation_id.clone();
    let state = || {
        ana.timeline(chat.clone(), 10, None, 0)
            .expect("timeline")
            .into_iter()
            .find_map(|e| match e {
                TimelineEntry::Message { message } => Some(message.delivery),
                _ => None,
            })
    };
    assert_eq!(state(), Some(DeliveryState::Queued));
    hub.open("ana", "bo").expect("ana meets bo");
    wait_for("Ana's message to show carried by Bo", PATIENCE, || {
        state() == Some(DeliveryState::Carried { by: 1 })
    });
    block_on(ana.stop()).expect("ana stops");
    block_on(bo.stop()).expect("bo stops");
    ana.shutdown();
    bo.shutdown();
}
