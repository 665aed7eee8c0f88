//! The node host: one thread that owns the [`Node`] (one SQLite connection,
//! shared with the sessions through `Rc<RefCell<_>>`) and a tokio
//! current-thread runtime, and runs every transport around it: the LAN mesh
//! (TCP + mDNS, relays), links the platform opens, and a Bluetooth LE radio.
//! Apps (the bindings, `pollen run`) send it closures and wait for the answer,
//! so every caller on every thread is serialised without a lock on the node.
//!
//! - [`running`]: the started runtime (LAN mesh, platform-link scheduler);
//! - [`platform`]: a platform link as a byte stream, driven by [`crate::drive`];
//! - [`ble_ctl`]: a BLE radio behind the node's BLE driver.

pub mod ble_ctl;
pub mod platform;
pub mod running;

pub use running::Stopped;

use crate::mesh::MeshStatus;
use ble_ctl::BleCtl;
use platform::{LinkInput, PlatformLinks};
use pollen_node::node::{Node, NodeError};
use pollen_proto::sync::SessionStats;
use running::Running;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};

/// What a call on the host can fail with.
#[derive(Debug, Error)]
pub enum HostError {
    /// The node refused or failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A transport or the async runtime failed.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The runtime is not started.
    #[error("the node runtime is not running")]
    NotRunning,
    /// The runtime is already started.
    #[error("the node runtime is already running")]
    AlreadyRunning,
    /// No live platform link has this id.
    #[error("no live link {0}")]
    UnknownLink(u64),
    /// A platform link with this id is already up.
    #[error("link {0} is already up")]
    DuplicateLink(u64),
    /// The platform described a link that cannot work.
    #[error("invalid link: {0}")]
    InvalidLink(String),
    /// The host was shut down.
    #[error("the node was shut down")]
    ShutDown,
    /// A bug: a panic on the host thread, or a call that would deadlock.
    #[error("internal error: {0}")]
    Internal(String),
}

/// How a neighbour is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighbourKind {
    /// TCP on the local network (found by mDNS, given, or a relay).
    Lan,
    /// A link the platform opened ([`PlatformLinks`]).
    Platform,
    /// A Bluetooth LE link run by the node's BLE driver.
    Ble,
}

/// What the host tells its app, in order, from the host thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostEvent {
    /// A neighbour was found (mDNS, a platform link's peer, a BLE link).
    NeighbourAppeared {
        /// mDNS instance name, the platform's peer name, or the BLE handle.
        id: String,
        /// How it is reached.
        kind: NeighbourKind,
    },
    /// A neighbour went away.
    NeighbourLeft {
        /// As in `NeighbourAppeared`.
        id: String,
        /// How it was reached.
        kind: NeighbourKind,
    },
    /// A LAN or platform session ended.
    Session {
        /// The neighbour's address or platform name.
        peer: String,
        /// This side opened the link.
        outgoing: bool,
        /// The link's transport.
        kind: NeighbourKind,
        /// What was exchanged.
        stats: SessionStats,
        /// Why it ended early, if it did.
        error: Option<String>,
    },
    /// The LAN mesh's figures, about once a second while it runs.
    LanStatus(MeshStatus),
}

/// Where the host puts its events (called on the host thread; must not block).
pub type EventSink = Rc<dyn Fn(HostEvent)>;

/// How the runtime runs once started.
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// Listen on TCP and find neighbours with mDNS (or `peers`).
    pub lan: bool,
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Advertise and browse with mDNS (with `lan`); off, only `peers` are dialled.
    pub mdns: bool,
    /// Neighbours given by address (`host:port`), for networks without multicast.
    pub peers: Vec<String>,
    /// Relays to sync with whenever they can be reached (with `lan`).
    pub relays: Vec<crate::relay::RelayAddress>,
    /// Most LAN sessions at once; `None` for the mesh's default.
    pub max_links: Option<usize>,
}

/// Live figures of the host's transports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFigures {
    /// Whether the runtime is started.
    pub running: bool,
    /// The LAN address sessions are accepted on, while the LAN runs.
    pub lan_address: Option<String>,
    /// Neighbours with a recent good session or a live link, all transports.
    pub neighbours: u64,
    /// Live links, all transports.
    pub links: u64,
}

/// Work for the host thread.
type Job = Box<dyn FnOnce(&mut Core) + Send>;

/// State both sides see: the app (any thread) and the host thread.
#[derive(Default)]
pub struct Shared {
    /// The platform's link transport.
    transport: Mutex<Option<Arc<dyn PlatformLinks>>>,
    /// Live platform links: where their received bytes go. Kept here so
    /// `link_received` answers at once, without waiting for the host thread.
    links: Mutex<HashMap<u64, mpsc::UnboundedSender<LinkInput>>>,
    /// The runtime is running (platform links are accepted).
    running: AtomicBool,
}

/// Locks a mutex, taking over the data if a panicking thread poisoned it:
/// every value behind these locks stays valid between statements.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The transport, if the app set one.
    pub fn transport(&self) -> Option<Arc<dyn PlatformLinks>> {
        lock(&self.transport).clone()
    }

    /// Whether the runtime runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

/// What the host thread owns; jobs get it mutably.
pub struct Core {
    /// The node, shared with running sessions.
    pub node: Rc<RefCell<Node>>,
    /// Shared with the app's threads.
    pub shared: Arc<Shared>,
    /// Events for the app.
    pub events: EventSink,
    /// Notified whenever what the UI shows may have changed (a local write,
    /// a session that committed something).
    pub view: Rc<Notify>,
    /// The runtime, while started.
    run: Option<Running>,
    /// Bluetooth LE, on while the app set a radio.
    pub ble: Rc<BleCtl>,
    /// Callers waiting for the runtime to stop.
    stop_waiters: Vec<oneshot::Sender<()>>,
    /// Leave the loop after this job.
    exit: bool,
}

impl Core {
    /// Something local was written: the UI and the neighbours should hear.
    pub fn wrote(&mut self) {
        self.view.notify_one();
        if let Some(run) = &self.run {
            run.local_write();
        }
        self.ble.note_local_write();
    }

    /// Starts the runtime.
    pub fn start(&mut self, options: HostOptions) -> Result<(), HostError> {
        if self.run.is_some() {
            return Err(HostError::AlreadyRunning);
        }
        self.run = Some(Running::start(self, options)?);
        Ok(())
    }

    /// Stops the runtime after this job; `done` fires once it has stopped.
    pub fn request_stop(&mut self, done: oneshot::Sender<()>) {
        self.stop_waiters.push(done);
    }

    /// Figures of every transport.
    pub fn figures(&self) -> HostFigures {
        let mut f = HostFigures::default();
        if let Some(run) = &self.run {
            let (lan, neighbours, links) = run.figures();
            f.running = true;
            f.lan_address = lan;
            f.neighbours = neighbours;
            f.links = links;
        }
        let (neighbours, links) = self.ble.figures();
        f.neighbours += neighbours;
        f.links += links;
        f
    }

    /// The LAN mesh's own figures, while it runs.
    pub fn mesh_status(&self) -> Option<MeshStatus> {
        self.run.as_ref().and_then(Running::mesh_status)
    }

    /// Runs `task` on the host thread until the runtime stops: `task` gets a
    /// future that completes at the stop, and the stop waits (up to 5 s) for
    /// it to end. For a transport the app brings (the desktop BLE central).
    pub fn spawn_until_stop<F, Fut>(&mut self, task: F) -> Result<(), HostError>
    where
        F: FnOnce(Stopped) -> Fut,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let run = self.run.as_mut().ok_or(HostError::NotRunning)?;
        run.spawn_until_stop(task);
        Ok(())
    }

    /// Tells every LAN and platform neighbour there is news for it (a
    /// transport the app brings got something new).
    pub fn news_hook(&self) -> Box<dyn Fn()> {
        match &self.run {
            Some(run) => run.news_hook(),
            None => Box::new(|| {}),
        }
    }

    /// A platform link came up: runs a session over it (or closes it when
    /// the runtime stopped in between).
    pub fn platform_link_up(&mut self, link: platform::LinkSpec) {
        match &self.run {
            Some(run) => run.link_up(link),
            None => {
                lock(&self.shared.links).remove(&link.id);
                if let Some(t) = self.shared.transport()
                    && let Err(e) = t.disconnect(link.id)
                {
                    tracing::info!(link = link.id, error = %e, "platform disconnect failed");
                }
            }
        }
    }
}

impl Core {
    /// The platform discovered a peer it can open a link to (Bonjour's
    /// service name): the runtime asks for one with `connect(peer)` as soon
    /// as it is due. Ignored while the runtime is stopped.
    pub fn platform_peer_discovered(&mut self, peer: &str) {
        if let Some(run) = &self.run {
            run.peer_discovered(peer);
        }
    }

    /// The platform lost sight of a discovered peer.
    pub fn platform_peer_lost(&mut self, peer: &str) {
        if let Some(run) = &self.run {
            run.peer_lost(peer);
        }
    }
}

/// The app's handle on the host thread.
pub struct NodeHost {
    jobs: mpsc::UnboundedSender<Job>,
    /// Shared with the host thread.
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    host_id: ThreadId,
}

impl NodeHost {
    /// Starts the host thread around `node`; `events` is built on that
    /// thread and receives every [`HostEvent`] there.
    pub fn spawn(
        node: Node,
        events: impl FnOnce() -> EventSink + Send + 'static,
    ) -> Result<NodeHost, HostError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HostError::Runtime(format!("cannot start the runtime: {e}")))?;
        let shared = Arc::new(Shared::default());
        let (jobs, jobs_rx) = mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("pollen-node".into())
            .spawn({
                let shared = shared.clone();
                move || run(runtime, node, jobs_rx, events(), shared)
            })
            .map_err(|e| HostError::Runtime(format!("cannot start a thread: {e}")))?;
        Ok(NodeHost {
            jobs,
            shared,
            host_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Shared state, for calls that must not wait for the host thread.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn wrap<T: Send + 'static>(
        f: impl FnOnce(&mut Core) -> Result<T, HostError> + Send + 'static,
        reply: impl FnOnce(Result<T, HostError>) + Send + 'static,
    ) -> Job {
        Box::new(move |core: &mut Core| {
            let result = catch_unwind(AssertUnwindSafe(|| f(core)))
                .unwrap_or_else(|panic| Err(internal(panic)));
            reply(result);
        })
    }

    /// Runs `f` on the host thread and waits for its result.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, HostError> + Send + 'static,
    ) -> Result<T, HostError> {
        if std::thread::current().id() == self.host_id {
            // A transport callback waiting on its own thread would never return.
            return Err(HostError::Internal(
                "blocking node call from a transport callback (host thread)".into(),
            ));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Self::wrap(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(|_| HostError::ShutDown)?;
        rx.recv().map_err(|_| HostError::ShutDown)?
    }

    /// Runs `f` on the host thread; the future resolves with its result and
    /// needs no particular executor.
    pub async fn call_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, HostError> + Send + 'static,
    ) -> Result<T, HostError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Self::wrap(f, move |r| {
                let _ = tx.send(r);
            }))
            .map_err(|_| HostError::ShutDown)?;
        rx.await.map_err(|_| HostError::ShutDown)?
    }

    /// Runs `f` on the host thread without waiting (transport-side calls).
    pub fn post(&self, f: impl FnOnce(&mut Core) + Send + 'static) -> Result<(), HostError> {
        self.jobs
            .send(Self::wrap(
                move |core| {
                    f(core);
                    Ok(())
                },
                |r: Result<(), HostError>| {
                    if let Err(e) = r {
                        tracing::error!(error = %e, "host job failed");
                    }
                },
            ))
            .map_err(|_| HostError::ShutDown)
    }

    /// Sets (or clears) the platform's link transport.
    pub fn set_transport(&self, transport: Option<Arc<dyn PlatformLinks>>) {
        *lock(&self.shared.transport) = transport;
    }

    /// Whether the runtime is running.
    pub fn is_running(&self) -> bool {
        self.shared.is_running()
    }

    /// Starts the runtime: the LAN (if `options.lan`) and platform links.
    pub async fn start(&self, options: HostOptions) -> Result<(), HostError> {
        self.call_async(move |core| core.start(options)).await
    }

    /// Stops the runtime; sessions get up to 5 s to commit what they received.
    pub async fn stop(&self) -> Result<(), HostError> {
        let (tx, rx) = oneshot::channel();
        self.call_async(move |core| {
            core.request_stop(tx);
            Ok(())
        })
        .await?;
        rx.await.map_err(|_| HostError::ShutDown)
    }

    /// The platform opened a link (see [`platform::LinkSpec`]).
    pub fn link_up(&self, spec: platform::LinkSpec) -> Result<(), HostError> {
        spec.check()?;
        if !self.shared.is_running() {
            return Err(HostError::NotRunning);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut links = lock(&self.shared.links);
            if links.contains_key(&spec.id) {
                return Err(HostError::DuplicateLink(spec.id));
            }
            links.insert(spec.id, tx);
        }
        self.post(move |core| core.platform_link_up(spec.with_input(rx)))
    }

    /// Bytes the platform read from a link, in order.
    pub fn link_received(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), HostError> {
        let links = lock(&self.shared.links);
        let tx = links.get(&link_id).ok_or(HostError::UnknownLink(link_id))?;
        tx.send(LinkInput::Bytes(bytes))
            .map_err(|_| HostError::UnknownLink(link_id))
    }

    /// The platform lost a link (unknown or already closed ids are ignored).
    pub fn link_down(&self, link_id: u64) {
        if let Some(tx) = lock(&self.shared.links).remove(&link_id) {
            let _ = tx.send(LinkInput::Down);
        }
    }

    /// Stops the runtime and the host thread; waits for it unless called
    /// from it (a listener may shut its node down).
    pub fn shutdown(&self, wait: bool) {
        let _ = self.jobs.send(Box::new(|core: &mut Core| core.exit = true));
        if !wait || std::thread::current().id() == self.host_id {
            return;
        }
        if let Some(t) = lock(&self.thread).take()
            && t.join().is_err()
        {
            tracing::error!("the pollen node thread panicked");
        }
    }
}

impl Drop for NodeHost {
    fn drop(&mut self) {
        self.shutdown(false);
    }
}

fn internal(panic: Box<dyn std::any::Any + Send>) -> HostError {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    tracing::error!(%detail, "panic on the node thread");
    HostError::Internal(detail)
}

/// The host thread's loop: jobs in order; stopping the runtime is awaited
/// between jobs so sessions can commit what they received.
fn run(
    runtime: tokio::runtime::Runtime,
    node: Node,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    events: EventSink,
    shared: Arc<Shared>,
) {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let node = Rc::new(RefCell::new(node));
        let view = Rc::new(Notify::new());
        let ble = Rc::new(BleCtl::new(node.clone(), view.clone(), events.clone()));
        let mut core = Core {
            node,
            shared,
            events,
            view,
            run: None,
            ble: ble.clone(),
            stop_waiters: Vec::new(),
            exit: false,
        };
        let ble_timer = tokio::task::spawn_local(ble.run_timer());
        while let Some(job) = jobs.recv().await {
            job(&mut core);
            if !core.stop_waiters.is_empty() || core.exit {
                if let Some(run) = core.run.take() {
                    run.stop(&core).await;
                }
                for w in core.stop_waiters.drain(..) {
                    let _ = w.send(());
                }
            }
            if core.exit {
                break;
            }
        }
        if let Some(run) = core.run.take() {
            run.stop(&core).await;
        }
        ble_timer.abort();
        if catch_unwind(AssertUnwindSafe(|| core.ble.stop())).is_err() {
            tracing::error!("panic while stopping BLE");
        }
        // Later calls fail with ShutDown rather than wait forever.
        jobs.close();
        lock(&core.shared.links).clear();
    });
}
