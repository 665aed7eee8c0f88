//! `pollen run`: the long-running node. Listens, finds neighbours (mDNS and
//! `--peer`), and keeps every neighbour in sync: a session at once when there
//! is news (a local write, or items another neighbour brought), and a quiet
//! re-sync every half minute otherwise.

use super::discovery::{Discovery, Found};
use super::gate::{Gate, GateConfig, Ticket};
use super::{LinkClock, LinkOutcome, News, RuntimeError, drive_with};
use pollen_node::neighbours::{Peers, Source};
use pollen_proto::sync::{Session, SessionConfig, SyncStore};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// How often the runtime looks for local writes and due neighbours.
const TICK: Duration = Duration::from_millis(200);
/// Dial timeout on a LAN.
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
/// How long shutdown waits for running sessions to commit and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How often a node with no session running does its upkeep.
pub(crate) const IDLE_UPKEEP_MS: u64 = 1000;

/// What a running node needs beyond sync: a way to notice writes by other
/// processes on the same data directory, and upkeep while no session runs.
pub trait RunningStore {
    /// A number that changes whenever another process committed a write.
    fn change_counter(&mut self) -> u64;
    /// Called about once a second while no session is running: work that a
    /// sync should not wait for (the database's WAL checkpoint).
    fn idle_upkeep(&mut self);
}

impl RunningStore for pollen_node::Node {
    fn change_counter(&mut self) -> u64 {
        self.data_version()
    }

    fn idle_upkeep(&mut self) {
        match self.checkpoint() {
            Ok(c) if c.copied > 0 => {
                tracing::debug!(pages = c.copied, "idle: WAL copied into the database")
            }
            Ok(_) => {}
            // Not fatal: the next commit past the backstop checkpoints anyway.
            Err(e) => tracing::warn!(error = %e, "idle checkpoint failed"),
        }
    }
}

/// How `run` behaves.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// Advertise and browse with mDNS.
    pub mdns: bool,
    /// Neighbours given by address (`host:port`), for networks without multicast.
    pub peers: Vec<String>,
    /// Most sessions at once (both directions).
    pub max_links: usize,
    /// Relays to sync with whenever they can be reached (this node is then a
    /// gateway for everything it carries).
    pub relays: Vec<super::relay::RelayAddress>,
    /// Run [`RunningStore::idle_upkeep`] when no LAN session runs. Off
    /// where the caller runs other links too and does it itself when all of
    /// them are idle (the phones' host, which also runs Bluetooth sessions).
    pub idle_upkeep: bool,
}

impl Default for MeshConfig {
    fn default() -> Self {
        MeshConfig {
            mdns: true,
            peers: Vec::new(),
            max_links: 16,
            relays: Vec::new(),
            idle_upkeep: true,
        }
    }
}

/// Live figures of a running node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeshStatus {
    /// The address sessions are accepted on.
    pub listen: String,
    /// Neighbours with a good session in the last minute or so.
    pub neighbours: usize,
    /// Neighbours known (advertised or given).
    pub known: usize,
    /// Relays reached in the last minute or so.
    pub relays: usize,
    /// Sessions running now.
    pub links: usize,
    /// Sessions completed since start.
    pub sessions: u64,
    /// Sessions that ended early since start.
    pub failed: u64,
    /// Milliseconds since start.
    pub up_ms: u64,
}

/// Something that happened, for the UI and the logs.
#[derive(Debug)]
pub enum MeshEvent {
    /// A neighbour was found or refreshed.
    Found(String, Vec<SocketAddr>),
    /// A neighbour withdrew.
    Lost(String),
    /// A session ended.
    Session {
        /// Neighbour (name or address).
        peer: String,
        /// Whether this side dialled.
        outgoing: bool,
        /// What it did.
        outcome: LinkOutcome,
    },
    /// Figures, once a second.
    Status(MeshStatus),
    /// Another process wrote to the store (a `pollen send` beside `pollen
    /// run`): the neighbours on other transports have news too.
    StoreChanged,
}

/// Lets the owner of the store (the demo, the app API) say "I just wrote".
#[derive(Clone, Default)]
pub struct Nudge(Rc<std::cell::Cell<bool>>);

impl Nudge {
    /// Marks every neighbour as having news.
    pub fn poke(&self) {
        self.0.set(true);
    }

    fn take(&self) -> bool {
        self.0.replace(false)
    }
}

struct Done {
    key: Option<String>,
    peer: String,
    outgoing: bool,
    outcome: LinkOutcome,
}

/// Runs the node until `stop` completes, then lets running sessions commit
/// what they received and closes. Must run inside a `LocalSet`.
pub async fn run_mesh<S>(
    listener: TcpListener,
    store: Rc<RefCell<S>>,
    config: MeshConfig,
    nudge: Nudge,
    events: impl Fn(MeshEvent),
    stop: impl Future<Output = ()>,
) -> Result<(), RuntimeError>
where
    S: SyncStore + RunningStore + 'static,
{
    let clock = LinkClock::new();
    let start_ms = clock.now_ms();
    let local = listener
        .local_addr()
        .map_err(|e| RuntimeError::Listen("bound socket".into(), e))?;
    let mut status = MeshStatus {
        listen: local.to_string(),
        ..MeshStatus::default()
    };
    let mut peers = Peers::default();
    for p in &config.peers {
        use std::net::ToSocketAddrs;
        let addrs: Vec<SocketAddr> = p
            .to_socket_addrs()
            .map_err(|e| RuntimeError::Address(p.clone(), e.to_string()))?
            .filter(SocketAddr::is_ipv4)
            .collect();
        peers.upsert(p, addrs, Source::Static, start_ms);
    }
    // Relays are dialled like neighbours, with their key checked; an
    // unreachable one (no internet) just backs off.
    for r in &config.relays {
        use std::net::ToSocketAddrs;
        match r.host_port.to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<SocketAddr> = addrs.filter(SocketAddr::is_ipv4).collect();
                peers.upsert(&r.to_string(), addrs, Source::Relay(r.key), start_ms);
            }
            Err(e) => tracing::warn!(relay = %r, error = %e, "relay address does not resolve now"),
        }
    }
    let discovery = if config.mdns {
        Some(Discovery::start(local.port())?)
    } else {
        None
    };
    let own_addrs: HashSet<SocketAddr> = HashSet::from([local]);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // Local writes, for the sessions running now to take in.
    let (news_tx, news_rx) = watch::channel(0u64);
    // Outgoing sessions by neighbour address, with the handle that cancels one.
    let mut dialing: HashMap<SocketAddr, oneshot::Sender<()>> = HashMap::new();
    let mut links = 0usize;
    let gate = Gate::shared(GateConfig::node(config.max_links));
    let mut version = store.borrow_mut().change_counter();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_status_ms = 0;
    let mut last_upkeep_ms = 0;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            found = next_found(discovery.as_ref(), &own_addrs) => match found {
                Some(Found::Up(name, addrs)) => {
                    tracing::info!(neighbour = %short(&name), ?addrs, "neighbour advertised");
                    peers.upsert(&name, addrs.clone(), Source::Mdns(name.clone()), clock.now_ms());
                    events(MeshEvent::Found(name, addrs));
                }
                Some(Found::Down(name)) => {
                    tracing::info!(neighbour = %short(&name), "neighbour withdrew");
                    peers.remove(&name);
                    events(MeshEvent::Lost(name));
                }
                None => {}
            },
            accepted = listener.accept() => {
                let Ok((stream, remote)) = accepted else { continue };
                // Accepted links go through the gate: slots, per-address caps,
                // a short handshake deadline and a handshake rate.
                let ticket = match gate.borrow_mut().admit(remote.ip()) {
                    Ok(t) => t,
                    Err(why) => {
                        tracing::warn!(%remote, %why, "refusing a connection");
                        continue;
                    }
                };
                // Both sides dialled at once: keep the session dialled by the
                // smaller address, on both sides alike. (Nodes sharing one
                // address, as on loopback, cannot be told apart: keep both.)
                let mine = stream.local_addr().map(|a| a.ip()).unwrap_or(local.ip());
                let ours = dialing.keys().find(|a| a.ip() == remote.ip()).copied();
                if let Some(ours) = ours && mine != remote.ip() {
                    if mine < remote.ip() {
                        tracing::debug!(%remote, "simultaneous dial: keeping ours");
                        continue;
                    }
                    if let Some(cancel) = dialing.remove(&ours) {
                        tracing::debug!(%remote, "simultaneous dial: keeping theirs");
                        let _ = cancel.send(());
                    }
                }
                let _ = stream.set_nodelay(true);
                links += 1;
                spawn_session(SessionTask {
                    listen_port: local.port(),
                    relay_key: None,
                    link: Link::Accepted(stream, gate.clone(), ticket),
                    key: None,
                    peer: remote.to_string(),
                    outgoing: false,
                    store: store.clone(),
                    clock,
                    done: done_tx.clone(),
                    cancel: None,
                    shutdown: shutdown_rx.clone(),
                    news: news_rx.clone(),
                });
            }
            Some(done) = done_rx.recv() => {
                links -= 1;
                let ok = done.outcome.error.is_none();
                if done.outgoing && let Ok(addr) = done.peer.parse::<SocketAddr>() {
                    dialing.remove(&addr);
                }
                let mut key = done.key.clone();
                // A neighbour that dialled us and said where it listens can be
                // dialled back when there is news for it.
                if !done.outgoing
                    && let (Some(port), Ok(remote)) = (done.outcome.peer_port, done.peer.parse::<SocketAddr>())
                {
                    let back = SocketAddr::new(remote.ip(), port);
                    key = Some(match peers.key_of(back) {
                        Some(k) => k.to_owned(),
                        None => {
                            let k = back.to_string();
                            peers.upsert(&k, vec![back], Source::Learned, clock.now_ms());
                            k
                        }
                    });
                }
                if let Some(key) = &key {
                    peers.finished(key, ok, clock.now_ms());
                }
                let s = &done.outcome.stats;
                if s.opened + s.carried + s.new_proofs > 0 {
                    // News travels on: everyone else should hear it now.
                    peers.mark_dirty(key.as_deref());
                }
                if ok {
                    status.sessions += 1;
                } else {
                    status.failed += 1;
                }
                events(MeshEvent::Session {
                    peer: done.peer,
                    outgoing: done.outgoing,
                    outcome: done.outcome,
                });
            }
            _ = tick.tick() => {
                let now = clock.now_ms();
                let v = store.borrow_mut().change_counter();
                let external = v != version;
                if external || nudge.take() {
                    version = v;
                    peers.mark_dirty(None);
                    news_tx.send_modify(|n| *n += 1);
                }
                if external {
                    events(MeshEvent::StoreChanged);
                }
                for (key, addr) in peers.due(now, config.max_links.saturating_sub(links)) {
                    let relay_key = peers.relay_key(&key);
                    let (cancel_tx, cancel_rx) = oneshot::channel();
                    dialing.insert(addr, cancel_tx);
                    links += 1;
                    spawn_session(SessionTask {
                        listen_port: local.port(),
                        relay_key,
                        link: Link::Dial(addr),
                        key: Some(key),
                        peer: addr.to_string(),
                        outgoing: true,
                        store: store.clone(),
                        clock,
                        done: done_tx.clone(),
                        cancel: Some(cancel_rx),
                        shutdown: shutdown_rx.clone(),
                        news: news_rx.clone(),
                    });
                }
                if config.idle_upkeep && links == 0 && now >= last_upkeep_ms + IDLE_UPKEEP_MS {
                    last_upkeep_ms = now;
                    store.borrow_mut().idle_upkeep();
                }
                if now >= last_status_ms + 1000 {
                    last_status_ms = now;
                    status.neighbours = peers.present(now);
                    status.relays = peers.relays_reached(now);
                    status.known = peers.len();
                    status.links = links;
                    status.up_ms = now - start_ms;
                    events(MeshEvent::Status(status.clone()));
                }
            }
        }
    }
    // Let running sessions commit what they received, then close.
    let _ = shutdown_tx.send(true);
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while links > 0 {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(done)) => {
                links -= 1;
                events(MeshEvent::Session {
                    peer: done.peer,
                    outgoing: done.outgoing,
                    outcome: done.outcome,
                });
            }
            _ => break,
        }
    }
    if let Some(d) = discovery {
        d.shutdown();
    }
    Ok(())
}

async fn next_found(d: Option<&Discovery>, own: &HashSet<SocketAddr>) -> Option<Found> {
    match d {
        Some(d) => d.next(own).await,
        None => std::future::pending().await,
    }
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

enum Link {
    Accepted(TcpStream, Rc<RefCell<Gate>>, Ticket),
    Dial(SocketAddr),
}

struct SessionTask<S> {
    listen_port: u16,
    relay_key: Option<[u8; 32]>,
    link: Link,
    key: Option<String>,
    peer: String,
    outgoing: bool,
    store: Rc<RefCell<S>>,
    clock: LinkClock,
    done: mpsc::UnboundedSender<Done>,
    cancel: Option<oneshot::Receiver<()>>,
    shutdown: watch::Receiver<bool>,
    news: News,
}

fn spawn_session<S: SyncStore + 'static>(t: SessionTask<S>) {
    tokio::task::spawn_local(async move {
        let SessionTask {
            listen_port,
            relay_key,
            link,
            key,
            peer,
            outgoing,
            store,
            clock,
            done,
            cancel,
            mut shutdown,
            news,
        } = t;
        let mut gated = None;
        let stream = match link {
            Link::Accepted(s, gate, ticket) => {
                gated = Some((gate, ticket));
                Ok(s)
            }
            Link::Dial(addr) => {
                match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
                    Ok(Ok(s)) => Ok(s),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("connect timed out".to_owned()),
                }
            }
        };
        let outcome = match stream {
            Err(e) => {
                tracing::debug!(%peer, error = %e, "dial failed");
                LinkOutcome::failed(pollen_proto::sync::SessionError::Unreachable(e))
            }
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let ip = stream
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_else(|_| peer.clone());
                let mut config = SessionConfig::tcp(outgoing, format!("tcp:{ip}"));
                if relay_key.is_none() {
                    config = config.routed();
                }
                config.listen_port = listen_port;
                config.relay_key = relay_key;
                let stop = async move {
                    let cancelled = async {
                        // A dropped sender is not a cancellation.
                        let cancelled = match cancel {
                            Some(rx) => rx.await.is_ok(),
                            None => false,
                        };
                        if !cancelled {
                            std::future::pending::<()>().await;
                        }
                    };
                    tokio::select! {
                        _ = cancelled => {}
                        _ = shutdown.wait_for(|s| *s) => {}
                    }
                };
                match gated {
                    Some((gate, ticket)) => {
                        crate::accept::drive_accepted(
                            (&gate, ticket),
                            stream,
                            config,
                            &store,
                            clock,
                            stop,
                            Some(news),
                        )
                        .await
                    }
                    None => {
                        let session = Session::new(config, clock.now_ms());
                        drive_with(stream, session, &store, clock, stop, Some(news), |_| {}).await
                    }
                }
            }
        };
        let _ = done.send(Done {
            key,
            peer,
            outgoing,
            outcome,
        });
    });
}
