//! The link table of a platform transport that finds its peers itself (iOS's
//! Bonjour through Network.framework), wired to its node: it names this
//! phone's service, picks link ids, remembers who each link is with and which
//! side dialled, and tells the node (`peer_discovered`, `peer_lost`,
//! `link_up`, `link_received`, `link_down`), logging what the node refuses.
//! The platform keeps only its own objects (endpoints by service name,
//! connections by link id) and moves bytes.
//!
//! The rules it holds, once: our own service is not a peer; a connection
//! this phone accepted is named `in:<endpoint>` and cannot be dialled back
//! (the core forgets such a name after its connect back-off); a link is up
//! for the node from `ready` until it is closed, and `link_down` is told
//! once, only for a link that was up and that the core did not close itself.

use crate::callbacks::CallbackError;
use crate::error::PollenError;
use crate::node::PollenNode;
use pollen_runtime::host::lock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes per `send` the core may hand over: a TCP stream takes any size.
pub const MAX_WRITE: u32 = 16_384;

/// Prefix of the names of connections this phone accepted.
const ACCEPTED: &str = "in:";

/// The node's platform-link entry points the table calls: the node itself,
/// a recorder in the tests.
pub(crate) trait LinkNodeCalls: Send + Sync {
    fn peer_discovered(&self, peer: String) -> Result<(), PollenError>;
    fn peer_lost(&self, peer: String) -> Result<(), PollenError>;
    fn link_up(&self, link_id: u64, peer: String, initiator: bool) -> Result<(), PollenError>;
    fn link_received(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), PollenError>;
    fn link_down(&self, link_id: u64);
    /// Whether the user allows Wi-Fi (`set_transports`): Bonjour is Wi-Fi.
    fn wifi_allowed(&self) -> bool;
}

impl LinkNodeCalls for PollenNode {
    fn peer_discovered(&self, peer: String) -> Result<(), PollenError> {
        PollenNode::peer_discovered(self, peer)
    }
    fn peer_lost(&self, peer: String) -> Result<(), PollenError> {
        PollenNode::peer_lost(self, peer)
    }
    fn link_up(&self, link_id: u64, peer: String, initiator: bool) -> Result<(), PollenError> {
        PollenNode::link_up(self, link_id, peer, initiator, MAX_WRITE)
    }
    fn link_received(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), PollenError> {
        PollenNode::link_received(self, link_id, bytes)
    }
    fn link_down(&self, link_id: u64) {
        PollenNode::link_down(self, link_id);
    }
    fn wifi_allowed(&self) -> bool {
        // A failed read (a node shut down) allows: the link then fails on its own.
        self.read(|n| Ok(pollen_app::transports::transports(n)?.wifi))
            .unwrap_or(true)
    }
}

/// One link: who it is with, whether this phone dialled, whether it is up.
struct Link {
    peer: String,
    initiator: bool,
    up: bool,
}

#[derive(Default)]
struct Table {
    next: u64,
    links: HashMap<u64, Link>,
}

impl Table {
    fn open(&mut self, peer: String, initiator: bool) -> u64 {
        self.next += 1;
        let link = Link {
            peer,
            initiator,
            up: false,
        };
        self.links.insert(self.next, link);
        self.next
    }
}

/// The link table of one platform transport and its node. Any thread.
#[derive(uniffi::Object)]
pub struct PlatformLinks {
    node: Arc<dyn LinkNodeCalls>,
    name: String,
    table: Mutex<Table>,
}

impl PlatformLinks {
    pub(crate) fn with(node: Arc<dyn LinkNodeCalls>, name: String) -> Arc<PlatformLinks> {
        Arc::new(PlatformLinks {
            node,
            name,
            table: Mutex::default(),
        })
    }

    /// Makes one node call; a refusal is logged, never thrown.
    fn tell(&self, what: &str, result: Result<(), PollenError>) {
        if let Err(error) = result {
            tracing::info!(what, %error, "platform link call refused by the node");
        }
    }
}

#[uniffi::export]
impl PlatformLinks {
    /// An empty table for `node`, with a fresh random service name.
    #[uniffi::constructor]
    pub fn new(node: Arc<PollenNode>) -> Result<Arc<PlatformLinks>, PollenError> {
        let name =
            pollen_runtime::discovery::instance_name().map_err(|e| PollenError::Runtime {
                detail: e.to_string(),
            })?;
        Ok(PlatformLinks::with(node, name))
    }

    /// This phone's service name (`pollen-` and random hex): it says nothing
    /// about who we are.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// A service was found or changed: the node hears of it, unless it is
    /// our own. True when it is a peer (keep its endpoint).
    pub fn discovered(&self, service: String) -> bool {
        if service == self.name {
            return false;
        }
        self.tell("peer discovered", self.node.peer_discovered(service));
        true
    }

    /// A service is gone: the node forgets it once its links end.
    pub fn lost(&self, service: String) {
        self.tell("peer lost", self.node.peer_lost(service));
    }

    /// The core asked for a link to `peer` (`PlatformTransport::connect`):
    /// the id of the connection to open. Refused for a connection this
    /// phone accepted, which has no address to dial.
    pub fn dial(&self, peer: String) -> Result<u64, CallbackError> {
        if peer.starts_with(ACCEPTED) {
            return Err(CallbackError::Failed {
                detail: "an accepted connection cannot be dialled back".into(),
            });
        }
        Ok(lock(&self.table).open(peer, true))
    }

    /// A connection came in from `endpoint` (as the platform prints it): the
    /// id of its link.
    pub fn accepted(&self, endpoint: String) -> u64 {
        lock(&self.table).open(format!("{ACCEPTED}{endpoint}"), false)
    }

    /// The connection is ready: the node hears `link_up`, and true is
    /// returned. False while the user has Wi-Fi switched off (the link is
    /// forgotten; cancel the connection) or for a link not in the table.
    pub fn ready(&self, link_id: u64) -> bool {
        if !self.node.wifi_allowed() {
            lock(&self.table).links.remove(&link_id);
            return false;
        }
        let Some((peer, initiator)) = lock(&self.table).links.get_mut(&link_id).map(|l| {
            l.up = true;
            (l.peer.clone(), l.initiator)
        }) else {
            return false;
        };
        self.tell("link up", self.node.link_up(link_id, peer, initiator));
        true
    }

    /// Bytes read from the link, in order.
    pub fn received(&self, link_id: u64, bytes: Vec<u8>) {
        self.tell("bytes", self.node.link_received(link_id, bytes));
    }

    /// The connection failed, ended or was cancelled: forgotten, and the
    /// node hears `link_down` if the link was up.
    pub fn closed(&self, link_id: u64) {
        let link = lock(&self.table).links.remove(&link_id);
        if link.is_some_and(|l| l.up) {
            self.node.link_down(link_id);
        }
    }

    /// The core closed the link (`PlatformTransport::disconnect`): forgotten
    /// without telling the node, which already considers it gone.
    pub fn disconnected(&self, link_id: u64) {
        lock(&self.table).links.remove(&link_id);
    }

    /// The transport stops: every link is forgotten, and the node hears
    /// `link_down` for each that was up.
    pub fn close_all(&self) {
        let links = std::mem::take(&mut lock(&self.table).links);
        for (id, link) in links {
            if link.up {
                self.node.link_down(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>, std::sync::atomic::AtomicBool);

    impl Recorder {
        fn note(&self, call: String) -> Result<(), PollenError> {
            self.0.lock().unwrap().push(call);
            Ok(())
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    impl LinkNodeCalls for Recorder {
        fn peer_discovered(&self, peer: String) -> Result<(), PollenError> {
            self.note(format!("discovered {peer}"))
        }
        fn peer_lost(&self, peer: String) -> Result<(), PollenError> {
            self.note(format!("lost {peer}"))
        }
        fn link_up(&self, id: u64, peer: String, initiator: bool) -> Result<(), PollenError> {
            self.note(format!("up {id} {peer} {initiator}"))
        }
        fn link_received(&self, id: u64, bytes: Vec<u8>) -> Result<(), PollenError> {
            self.note(format!("received {id} {bytes:?}"))
        }
        fn link_down(&self, id: u64) {
            let _ = self.note(format!("down {id}"));
        }
        fn wifi_allowed(&self) -> bool {
            // The flag says "switched off", so a default recorder allows.
            !self.1.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    fn table() -> (Arc<Recorder>, Arc<PlatformLinks>) {
        let node = Arc::new(Recorder::default());
        (
            node.clone(),
            PlatformLinks::with(node, "pollen-self".into()),
        )
    }

    #[test]
    fn our_own_service_is_not_a_peer() {
        let (node, t) = table();
        assert!(!t.discovered("pollen-self".into()));
        assert!(t.discovered("pollen-other".into()));
        t.lost("pollen-other".into());
        assert_eq!(
            node.take(),
            ["discovered pollen-other", "lost pollen-other"]
        );
    }

    #[test]
    fn a_dialled_link_is_up_when_ready_and_down_once_when_it_ends() {
        let (node, t) = table();
        let id = t.dial("pollen-other".into()).unwrap();
        t.ready(id);
        t.received(id, vec![1]);
        t.closed(id);
        t.closed(id);
        assert_eq!(
            node.take(),
            [
                format!("up {id} pollen-other true"),
                format!("received {id} [1]"),
                format!("down {id}")
            ]
        );
    }

    #[test]
    fn an_accepted_link_is_named_by_its_endpoint_and_cannot_be_dialled_back() {
        let (node, t) = table();
        let id = t.accepted("10.0.0.2:4000".into());
        t.ready(id);
        assert_eq!(node.take(), [format!("up {id} in:10.0.0.2:4000 false")]);
        assert!(t.dial("in:10.0.0.2:4000".into()).is_err());
        assert_ne!(t.dial("pollen-x".into()).unwrap(), id, "ids are not reused");
    }

    #[test]
    fn a_link_never_up_or_closed_by_the_core_is_not_reported_down() {
        let (node, t) = table();
        let failed = t.dial("pollen-a".into()).unwrap();
        t.closed(failed);
        let hung_up = t.dial("pollen-b".into()).unwrap();
        t.ready(hung_up);
        t.disconnected(hung_up);
        t.closed(hung_up);
        assert_eq!(node.take(), [format!("up {hung_up} pollen-b true")]);
    }

    #[test]
    fn stopping_takes_every_link_that_was_up_down() {
        let (node, t) = table();
        let up = t.accepted("a".into());
        t.ready(up);
        let _pending = t.dial("pollen-b".into()).unwrap();
        node.take();
        t.close_all();
        assert_eq!(node.take(), [format!("down {up}")]);
        t.ready(up);
        assert!(node.take().is_empty(), "forgotten");
    }

    #[test]
    fn the_service_name_is_random_and_anonymous() {
        let a = pollen_runtime::discovery::instance_name().unwrap();
        let b = pollen_runtime::discovery::instance_name().unwrap();
        assert!(a.starts_with("pollen-") && a.len() == 23, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn with_wifi_switched_off_no_link_comes_up() {
        let (node, t) = table();
        node.1.store(true, std::sync::atomic::Ordering::SeqCst);
        let dialled = t.dial("pollen-peer".into()).unwrap();
        let accepted = t.accepted("10.0.0.9:7".into());
        assert!(!t.ready(dialled));
        assert!(!t.ready(accepted));
        t.close_all();
        assert!(node.take().is_empty(), "the node heard of no link");
        node.1.store(false, std::sync::atomic::Ordering::SeqCst);
        let id = t.dial("pollen-peer".into()).unwrap();
        assert!(t.ready(id));
        assert_eq!(node.take(), [format!("up {id} pollen-peer true")]);
    }
}
