//! The running runtime: the LAN mesh (TCP + mDNS, `run_mesh` from the core)
//! and the platform links, each driving one sans-IO sync session over the
//! app's [`PlatformTransport`](crate::PlatformTransport) exactly as
//! `runtime::drive` does over TCP.

use crate::ble::BleCtl;
use crate::core_thread::{Core, Shared, lock};
use crate::error::PollenError;
use crate::events::{Event, EventSink};
use crate::platform_peers::{PlatformPeers, Presence};
use crate::records::{LinkKind, NeighbourInfo, RunOptions};
use pollen_node::node::Node;
use pollen_proto::sync::{Session, SessionConfig, SessionEvent};
use pollen_runtime::LinkClock;
use pollen_runtime::mesh::{MeshConfig, MeshEvent, MeshStatus, Nudge, run_mesh};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

/// Smallest write a link may declare: ATT MTU 23 less the 3-byte header.
pub const MIN_WRITE: u32 = 20;
/// How often the runtime asks for links that are due.
const TICK: Duration = Duration::from_millis(200);
/// How long stopping waits for platform sessions to commit and close.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the platform hands a link.
#[derive(Debug)]
pub(crate) enum LinkInput {
    /// Bytes read from the link.
    Bytes(Vec<u8>),
    /// The platform lost the link.
    Down,
}

/// Everything a running runtime's tasks share (all on the core thread).
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
}

impl Ctx {
    fn neighbour(&self, presence: Presence, id: &str) {
        let n = NeighbourInfo {
            id: id.to_owned(),
            kind: LinkKind::Platform,
        };
        let event = match presence {
            Presence::Same => return,
            Presence::Appeared => Event::NeighbourAppeared(n),
            Presence::Left => Event::NeighbourLeft(n),
        };
        let _ = self.events.send(event);
    }
}

/// The runtime while started.
pub(crate) struct Running {
    ctx: Rc<Ctx>,
    stop: watch::Sender<bool>,
    mesh: Option<JoinHandle<()>>,
    helpers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Starts the LAN mesh (if asked) and the platform-link scheduler.
    pub fn start(core: &Core, options: RunOptions) -> Result<Running, PollenError> {
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
        })
    }

    /// A local write: every neighbour should hear of it.
    pub fn local_write(&self) {
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

    /// Starts a session over a platform link the platform opened.
    pub fn link_up(
        &self,
        id: u64,
        peer: String,
        initiator: bool,
        max_write: u32,
        input: mpsc::UnboundedReceiver<LinkInput>,
    ) {
        let presence = self.ctx.peers.borrow_mut().link_up(&peer);
        self.ctx.neighbour(presence, &peer);
        self.ctx.live.set(self.ctx.live.get() + 1);
        let link = Link {
            ctx: self.ctx.clone(),
            id,
            peer,
            initiator,
            max_write: max_write as usize,
        };
        tokio::task::spawn_local(link.run(input));
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

fn start_mesh(ctx: &Rc<Ctx>, options: RunOptions) -> Result<JoinHandle<()>, PollenError> {
    for p in &options.peers {
        pollen_runtime::check_addr(p)?;
    }
    let listen_failed = |e: std::io::Error| PollenError::Runtime {
        detail: format!("cannot listen on {}: {e}", options.listen),
    };
    let std_listener = std::net::TcpListener::bind(&options.listen).map_err(listen_failed)?;
    std_listener.set_nonblocking(true).map_err(listen_failed)?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(listen_failed)?;
    let addr = listener.local_addr().map_err(listen_failed)?;
    *ctx.lan.borrow_mut() = Some(MeshStatus {
        listen: addr.to_string(),
        ..MeshStatus::default()
    });
    let config = MeshConfig {
        mdns: options.mdns,
        peers: options.peers,
        ..MeshConfig::default()
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
    let lan = |id: String| NeighbourInfo {
        id,
        kind: LinkKind::Lan,
    };
    match event {
        MeshEvent::Found(name, _) => {
            let _ = ctx.events.send(Event::NeighbourAppeared(lan(name)));
        }
        MeshEvent::Lost(name) => {
            let _ = ctx.events.send(Event::NeighbourLeft(lan(name)));
        }
        MeshEvent::Session { outcome, .. } => {
            let s = &outcome.stats;
            if s.opened + s.carried + s.new_proofs > 0 {
                ctx.peers.borrow_mut().mark_dirty(None);
                ctx.ble.note_news();
            }
            if s.opened + s.new_proofs + s.delivered > 0 {
                ctx.view.notify_one();
            }
        }
        MeshEvent::Status(s) => *ctx.lan.borrow_mut() = Some(s),
    }
}

/// Asks the platform for links that are due, five times a second.
async fn schedule(ctx: Rc<Ctx>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = ctx.clock.now_ms();
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

/// One platform link and its session.
struct Link {
    ctx: Rc<Ctx>,
    id: u64,
    peer: String,
    initiator: bool,
    max_write: usize,
}

impl Link {
    /// Drives the session until it ends, then closes the link and reports.
    async fn run(self, mut input: mpsc::UnboundedReceiver<LinkInput>) {
        let ctx = &self.ctx;
        let origin = format!("link:{}", self.peer);
        // Records no larger than a write keep one record per write on BLE.
        let config = SessionConfig::small(self.initiator, origin, self.max_write).routed();
        let mut session = Session::new(config, ctx.clock.now_ms());
        let mut stop = ctx.stop.clone();
        let mut lost = false;
        let mut finished = false;
        loop {
            loop {
                // Bound first: the store must not stay borrowed during the write.
                let next = session.poll_transmit(&mut *ctx.node.borrow_mut());
                let Some(bytes) = next else { break };
                if let Err(e) = self.write(&bytes) {
                    tracing::info!(link = self.id, error = %e, "platform write failed");
                    session.link_lost(&mut *ctx.node.borrow_mut());
                    break;
                }
            }
            while let Some(event) = session.poll_event() {
                match event {
                    SessionEvent::Committed { .. } => ctx.view.notify_one(),
                    SessionEvent::Finished => finished = true,
                    SessionEvent::Closed(e) => {
                        tracing::info!(link = self.id, peer = %self.peer, reason = %e, "session ended early")
                    }
                    SessionEvent::Established { .. } => {}
                }
            }
            if session.is_closed() {
                break;
            }
            let wait = session
                .poll_timeout()
                .map(|ms| ms.saturating_sub(ctx.clock.now_ms()))
                .unwrap_or(3_600_000);
            let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
            tokio::select! {
                got = input.recv() => match got {
                    Some(LinkInput::Bytes(b)) => {
                        session.handle_input(&b, ctx.clock.now_ms(), &mut *ctx.node.borrow_mut());
                    }
                    Some(LinkInput::Down) | None => {
                        lost = true;
                        session.link_lost(&mut *ctx.node.borrow_mut());
                    }
                },
                _ = tokio::time::sleep_until(deadline) => {
                    session.handle_timeout(ctx.clock.now_ms(), &mut *ctx.node.borrow_mut());
                }
                _ = stop.wait_for(|s| *s) => session.link_lost(&mut *ctx.node.borrow_mut()),
            }
        }
        self.end(&session, finished, lost);
    }

    /// Hands bytes to the platform in writes of at most `max_write`.
    fn write(&self, bytes: &[u8]) -> Result<(), PollenError> {
        let transport = self.ctx.shared.transport().ok_or(PollenError::Runtime {
            detail: "no platform transport set".into(),
        })?;
        for chunk in bytes.chunks(self.max_write) {
            transport
                .send(self.id, chunk.to_vec())
                .map_err(|e| PollenError::Runtime {
                    detail: e.to_string(),
                })?;
        }
        Ok(())
    }

    fn end(&self, session: &Session, finished: bool, lost: bool) {
        let ctx = &self.ctx;
        lock(&ctx.shared.links).remove(&self.id);
        if !lost
            && let Some(t) = ctx.shared.transport()
            && let Err(e) = t.disconnect(self.id)
        {
            tracing::info!(link = self.id, error = %e, "platform disconnect failed");
        }
        let s = session.stats();
        tracing::debug!(link = self.id, peer = %self.peer, finished, sent = s.envelopes_sent, received = s.envelopes_received, "platform session over");
        if s.opened + s.carried + s.new_proofs > 0 {
            // News travels on: every other neighbour should hear it now.
            ctx.peers.borrow_mut().mark_dirty(Some(&self.peer));
            ctx.nudge.poke();
            ctx.ble.note_news();
        }
        if s.opened + s.new_proofs + s.delivered > 0 {
            ctx.view.notify_one();
        }
        let presence =
            ctx.peers
                .borrow_mut()
                .link_ended(&self.peer, finished, lost, ctx.clock.now_ms());
        ctx.neighbour(presence, &self.peer);
        ctx.live.set(ctx.live.get().saturating_sub(1));
    }
}
