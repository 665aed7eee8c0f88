//! The started runtime: the LAN mesh (TCP + mDNS + relays, [`run_mesh`]) and
//! the platform links, each running one sync session through
//! [`crate::drive_with`], the same driver as every TCP link.

use super::ble_ctl::BleCtl;
use super::platform::{LinkSpec, PlatformStream};
use super::{Core, EventSink, HostError, HostEvent, HostOptions, NeighbourKind, Shared, lock};
use crate::mesh::{
    IDLE_UPKEEP_MS, MeshConfig, MeshEvent, MeshStatus, Nudge, RunningStore, run_mesh,
};
use crate::{LinkClock, LinkOutcome, drive_with};
use pollen_node::neighbours::{PlatformPeers, Presence};
use pollen_node::node::Node;
use pollen_proto::sync::{Session, SessionConfig, SessionEvent};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

/// How often the runtime asks for platform links that are due.
const TICK: Duration = Duration::from_millis(200);
/// How long stopping waits for platform sessions to commit and close.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Everything a running runtime's tasks share (all on the host thread).
struct Ctx {
    node: Rc<RefCell<Node>>,
    shared: Arc<Shared>,
    events: EventSink,
    view: Rc<Notify>,
    nudge: Nudge,
    peers: RefCell<PlatformPeers>,
    lan: RefCell<Option<MeshStatus>>,
    live: Cell<usize>,
    clock: LinkClock,
    stop: watch::Receiver<bool>,
    /// BLE neighbours hear what LAN and platform sessions brought.
    ble: Rc<BleCtl>,
    /// Local writes, counted, for the platform sessions running now.
    news: watch::Sender<u64>,
}

impl Ctx {
    fn neighbour(&self, presence: Presence, id: &str) {
        let (id, kind) = (id.to_owned(), NeighbourKind::Platform);
        match presence {
            Presence::Same => {}
            Presence::Appeared => (self.events)(HostEvent::NeighbourAppeared { id, kind }),
            Presence::Left => (self.events)(HostEvent::NeighbourLeft { id, kind }),
        }
    }

    /// A session brought something: tell the UI, and every other neighbour
    /// (on every transport) that there is news for it. `from` is the platform
    /// peer it came from; `None` for a LAN session, whose mesh already told
    /// its other LAN neighbours (and not the one it came from).
    fn session_brought(&self, outcome: &LinkOutcome, from: Option<&str>) {
        let s = &outcome.stats;
        if s.opened + s.carried + s.new_proofs > 0 {
            self.peers.borrow_mut().mark_dirty(from);
            if from.is_some() {
                self.nudge.poke();
            }
            self.ble.note_news();
        }
        // Whatever the session taught the node (messages, proofs, hand-overs
        // of this node's own messages) is in its events.
        if self.node.borrow().has_events() {
            self.view.notify_one();
        }
    }
}

/// Completes when the runtime stops.
pub type Stopped = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// The runtime while started.
pub(super) struct Running {
    ctx: Rc<Ctx>,
    stop: watch::Sender<bool>,
    mesh: Option<JoinHandle<()>>,
    helpers: Vec<JoinHandle<()>>,
    /// Tasks the stop waits for (transports the app brought).
    awaited: Vec<JoinHandle<()>>,
}

impl Running {
    /// Starts the LAN mesh (if asked) and the platform-link scheduler.
    pub fn start(core: &Core, options: HostOptions) -> Result<Running, HostError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = Rc::new(Ctx {
            node: core.node.clone(),
            shared: core.shared.clone(),
            events: core.events.clone(),
            view: core.view.clone(),
            nudge: Nudge::default(),
            peers: RefCell::new(PlatformPeers::default()),
            lan: RefCell::new(None),
            live: Cell::new(0),
            clock: LinkClock::new(),
            stop: stop_rx,
            ble: core.ble.clone(),
            news: watch::channel(0).0,
        });
        let mesh = if options.lan {
            Some(start_mesh(&ctx, options)?)
        } else {
            None
        };
        let helpers = vec![tokio::task::spawn_local(schedule(ctx.clone()))];
        // What a BLE session brought goes on to the LAN and platform peers.
        let weak = Rc::downgrade(&ctx);
        core.ble.set_on_news(Some(Box::new(move || {
            if let Some(ctx) = weak.upgrade() {
                ctx.peers.borrow_mut().mark_dirty(None);
                ctx.nudge.poke();
            }
        })));

        core.shared.running.store(true, Ordering::SeqCst);
        Ok(Running {
            ctx,
            stop: stop_tx,
            mesh,
            helpers,
            awaited: Vec::new(),
        })
    }

    /// See [`Core::spawn_until_stop`](super::Core::spawn_until_stop).
    pub fn spawn_until_stop<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(Stopped) -> Fut,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let mut stop = self.ctx.stop.clone();
        let stopped: Stopped = Box::pin(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        self.awaited.push(tokio::task::spawn_local(task(stopped)));
    }

    /// Marks every LAN and platform neighbour as having news.
    pub fn news_hook(&self) -> Box<dyn Fn()> {
        let weak = Rc::downgrade(&self.ctx);
        Box::new(move || {
            if let Some(ctx) = weak.upgrade() {
                ctx.peers.borrow_mut().mark_dirty(None);
                ctx.nudge.poke();
            }
        })
    }

    /// A local write: every neighbour should hear of it, and every session
    /// running now takes it in.
    pub fn local_write(&self) {
        self.ctx.news.send_modify(|n| *n += 1);
        self.ctx.nudge.poke();
        self.ctx.peers.borrow_mut().mark_dirty(None);
    }

    /// Runtime figures: (LAN address, neighbours, links).
    pub fn figures(&self) -> (Option<String>, u64, u64) {
        let lan = self.ctx.lan.borrow();
        let platform = self.ctx.peers.borrow().linked() as u64;
        let (addr, neighbours, links) = match &*lan {
            Some(s) => (Some(s.listen.clone()), s.neighbours as u64, s.links as u64),
            None => (None, 0, 0),
        };
        (
            addr,
            neighbours + platform,
            links + self.ctx.live.get() as u64,
        )
    }

    /// The LAN mesh's figures, while it runs.
    pub fn mesh_status(&self) -> Option<MeshStatus> {
        self.ctx.lan.borrow().clone()
    }

    /// Starts a session over a platform link the platform opened.
    pub fn link_up(&self, mut spec: LinkSpec) {
        let Some(input) = spec.take_input() else {
            return;
        };
        let presence = self.ctx.peers.borrow_mut().link_up(&spec.peer);
        self.ctx.neighbour(presence, &spec.peer);
        self.ctx.live.set(self.ctx.live.get() + 1);
        let lost = Rc::new(Cell::new(false));
        let stream = PlatformStream::new(
            spec.id,
            input,
            self.ctx.shared.clone(),
            spec.max_write,
            lost.clone(),
        );
        tokio::task::spawn_local(run_link(self.ctx.clone(), spec, stream, lost));
    }

    /// The platform found a peer (Bonjour): the scheduler asks for a link.
    pub fn peer_discovered(&self, peer: &str) {
        let now = self.ctx.clock.now_ms();
        if self.ctx.peers.borrow_mut().discovered(peer, now) {
            tracing::debug!(%peer, "platform discovered a peer");
        }
    }

    /// The platform lost sight of a peer.
    pub fn peer_lost(&self, peer: &str) {
        let presence = self.ctx.peers.borrow_mut().lost(peer);
        self.ctx.neighbour(presence, peer);
    }

    /// Stops everything; sessions get up to 5 s to commit what they received.
    pub async fn stop(self, core: &Core) {
        core.shared.running.store(false, Ordering::SeqCst);
        core.ble.set_on_news(None);
        let _ = self.stop.send(true);
        if let Some(mesh) = self.mesh
            && mesh.await.is_err()
        {
            tracing::error!("the LAN runtime panicked");
        }
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        for task in self.awaited {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("a transport did not stop in time");
            }
        }
        while self.ctx.live.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for h in self.helpers {
            h.abort();
        }
        lock(&core.shared.links).clear();
        for peer in self.ctx.peers.borrow().present() {
            self.ctx.neighbour(Presence::Left, &peer);
        }
        core.view.notify_one();
    }
}

fn start_mesh(ctx: &Rc<Ctx>, options: HostOptions) -> Result<JoinHandle<()>, HostError> {
    for p in &options.peers {
        crate::check_addr(p).map_err(|e| HostError::Runtime(e.to_string()))?;
    }
    let listen_failed =
        |e: std::io::Error| HostError::Runtime(format!("cannot listen on {}: {e}", options.listen));
    let std_listener = std::net::TcpListener::bind(&options.listen).map_err(listen_failed)?;
    std_listener.set_nonblocking(true).map_err(listen_failed)?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(listen_failed)?;
    let addr = listener.local_addr().map_err(listen_failed)?;
    *ctx.lan.borrow_mut() = Some(MeshStatus {
        listen: addr.to_string(),
        ..MeshStatus::default()
    });
    let defaults = MeshConfig::default();
    let config = MeshConfig {
        mdns: options.mdns,
        peers: options.peers,
        relays: options.relays,
        max_links: options.max_links.unwrap_or(defaults.max_links),
        // `schedule` does it once neither kind of link has a session.
        idle_upkeep: false,
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<MeshEvent>();
    // Mesh events are handled outside run_mesh's own call stack.
    let handler = {
        let ctx = ctx.clone();
        tokio::task::spawn_local(async move {
            while let Some(event) = rx.recv().await {
                on_mesh_event(&ctx, event);
            }
        })
    };
    let mut stop = ctx.stop.clone();
    let node = ctx.node.clone();
    let nudge = ctx.nudge.clone();
    Ok(tokio::task::spawn_local(async move {
        let events = move |e: MeshEvent| {
            let _ = tx.send(e);
        };
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = run_mesh(listener, node, config, nudge, events, stopped).await {
            tracing::warn!(error = %e, "LAN runtime stopped");
        }
        // Let the handler see the last session reports, then end it.
        tokio::task::yield_now().await;
        handler.abort();
    }))
}

fn on_mesh_event(ctx: &Ctx, event: MeshEvent) {
    let kind = NeighbourKind::Lan;
    match event {
        MeshEvent::Found(id, _) => (ctx.events)(HostEvent::NeighbourAppeared { id, kind }),
        MeshEvent::Lost(id) => (ctx.events)(HostEvent::NeighbourLeft { id, kind }),
        // The mesh marks its own neighbours; the others hear it from here.
        MeshEvent::Session {
            peer,
            outgoing,
            outcome,
        } => {
            ctx.session_brought(&outcome, None);
            (ctx.events)(HostEvent::Session {
                peer,
                outgoing,
                kind,
                stats: outcome.stats,
                error: outcome.error.map(|e| e.to_string()),
            });
        }
        MeshEvent::Status(s) => {
            *ctx.lan.borrow_mut() = Some(s.clone());
            (ctx.events)(HostEvent::LanStatus(s));
        }
        MeshEvent::StoreChanged => {
            ctx.news.send_modify(|n| *n += 1);
            ctx.peers.borrow_mut().mark_dirty(None);
            ctx.ble.note_local_write();
            ctx.view.notify_one();
        }
    }
}

/// Asks the platform for links that are due, five times a second.
async fn schedule(ctx: Rc<Ctx>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_upkeep_ms = 0;
    loop {
        tick.tick().await;
        let now = ctx.clock.now_ms();
        // The LAN mesh leaves it to this (`MeshConfig::idle_upkeep`): it
        // waits for both kinds of link to be idle.
        let lan_links = ctx.lan.borrow().as_ref().map_or(0, |s| s.links);
        if ctx.live.get() == 0 && lan_links == 0 && now >= last_upkeep_ms + IDLE_UPKEEP_MS {
            last_upkeep_ms = now;
            ctx.node.borrow_mut().idle_upkeep();
        }
        let due = ctx.peers.borrow_mut().due(now);
        for (peer, present) in due.gone {
            if present {
                ctx.neighbour(Presence::Left, &peer);
            }
        }
        if due.connect.is_empty() {
            continue;
        }
        let Some(transport) = ctx.shared.transport() else {
            continue;
        };
        for peer in due.connect {
            tracing::debug!(%peer, "asking the platform for a link");
            if let Err(e) = transport.connect(peer.clone()) {
                tracing::info!(%peer, error = %e, "platform cannot connect");
                ctx.peers.borrow_mut().connect_failed(&peer, now);
            }
        }
    }
}

/// Runs one platform link's session to its end, then closes the link and
/// reports what it brought.
async fn run_link(ctx: Rc<Ctx>, spec: LinkSpec, stream: PlatformStream, lost: Rc<Cell<bool>>) {
    let origin = format!("link:{}", spec.peer);
    // Records no larger than a write keep one record per write on BLE.
    let config = SessionConfig::small(spec.initiator, origin, spec.max_write as usize).routed();
    let session = Session::new(config, ctx.clock.now_ms());
    let mut stop = ctx.stop.clone();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let view = ctx.view.clone();
    // The UI refreshes as each batch commits, not only when the link ends.
    let on_event = move |e: &SessionEvent| {
        if matches!(e, SessionEvent::Committed { .. }) {
            view.notify_one();
        }
    };
    let news = Some(ctx.news.subscribe());
    let outcome = drive_with(
        stream, session, &ctx.node, ctx.clock, stopped, news, on_event,
    )
    .await;
    let lost = lost.get();
    lock(&ctx.shared.links).remove(&spec.id);
    if !lost
        && let Some(t) = ctx.shared.transport()
        && let Err(e) = t.disconnect(spec.id)
    {
        tracing::info!(link = spec.id, error = %e, "platform disconnect failed");
    }
    let finished = outcome.error.is_none();
    match &outcome.error {
        None => {
            tracing::debug!(link = spec.id, peer = %spec.peer, sent = outcome.stats.envelopes_sent, received = outcome.stats.envelopes_received, "platform session over")
        }
        Some(e) => {
            tracing::info!(link = spec.id, peer = %spec.peer, reason = %e, "session ended early")
        }
    }
    ctx.session_brought(&outcome, Some(&spec.peer));
    let presence =
        ctx.peers
            .borrow_mut()
            .link_ended(&spec.peer, finished, lost, ctx.clock.now_ms());
    ctx.neighbour(presence, &spec.peer);
    (ctx.events)(HostEvent::Session {
        peer: spec.peer,
        outgoing: spec.initiator,
        kind: NeighbourKind::Platform,
        stats: outcome.stats,
        error: outcome.error.map(|e| e.to_string()),
    });
    ctx.live.set(ctx.live.get().saturating_sub(1));
}
