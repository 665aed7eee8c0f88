//! The node runtime: sockets, clocks and tasks around the sans-IO sessions.
//!
//! Everything runs on one thread (a tokio current-thread runtime with a
//! `LocalSet`): sessions share the node's SQLite store through a `RefCell`,
//! borrowed only inside synchronous session calls.

pub mod accept;
#[cfg(feature = "ble")]
pub mod ble;
pub mod discovery;
pub mod gate;
pub mod host;
pub mod link;
pub mod mesh;
pub mod relay;

pub use gate::{Gate, GateConfig};
pub use link::{LinkClock, LinkOutcome, News, drive, drive_with};

use pollen_proto::sync::{Session, SessionConfig, SyncStore};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};

/// Most sessions `serve` runs at once; beyond that a new connection pushes
/// out the oldest one still in its handshake, or is refused (see [`gate`]).
pub const MAX_LINKS: usize = 32;
/// How long `sync` waits for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A link could not be set up.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The address did not parse or resolve.
    #[error("bad address {0:?}: {1}")]
    Address(String, String),
    /// Connecting failed.
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    /// Connecting took too long.
    #[error("cannot connect to {0}: timed out after {1:?}")]
    ConnectTimeout(String, Duration),
    /// mDNS could not start.
    #[error("mDNS discovery: {0}")]
    Discovery(String),
    /// Binding the listening socket failed.
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
}

/// Connects to `addr` and runs one session as initiator.
pub async fn sync_once<S: SyncStore>(
    addr: &str,
    store: &RefCell<S>,
) -> Result<LinkOutcome, RuntimeError> {
    sync_once_with(addr, store, None).await
}

/// Like [`sync_once`]; with `relay_key`, the peer must prove it holds that
/// relay key (Noise NK) or the session is refused.
pub async fn sync_once_with<S: SyncStore>(
    addr: &str,
    store: &RefCell<S>,
    relay_key: Option<[u8; 32]>,
) -> Result<LinkOutcome, RuntimeError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| RuntimeError::ConnectTimeout(addr.to_owned(), CONNECT_TIMEOUT))?
        .map_err(|e| RuntimeError::Connect(addr.to_owned(), e))?;
    let _ = stream.set_nodelay(true);
    // Quotas are per device, not per connection: the port changes every time.
    let peer = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| addr.to_owned());
    let clock = LinkClock::new();
    let mut config = SessionConfig::tcp(true, format!("tcp:{peer}"));
    if relay_key.is_none() {
        config = config.routed();
    }
    config.relay_key = relay_key;
    let session = Session::new(config, clock.now_ms());
    Ok(drive(stream, session, store, clock, std::future::pending()).await)
}

/// Binds a listener on `addr` (port 0 picks a free port).
pub async fn listen(addr: &str) -> Result<TcpListener, RuntimeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| RuntimeError::Listen(addr.to_owned(), e))
}

/// Accepts sessions on `listener` until `stop` completes; calls `done` after
/// each session. Must run inside a `LocalSet`.
pub async fn serve<S, F>(
    listener: TcpListener,
    store: Rc<RefCell<S>>,
    done: F,
    stop: impl Future<Output = ()>,
) where
    S: SyncStore + 'static,
    F: Fn(SocketAddr, &LinkOutcome) + 'static,
{
    let options = ServeOptions {
        gate: GateConfig::node(MAX_LINKS),
        config: Rc::new(|peer: SocketAddr| {
            SessionConfig::tcp(false, format!("tcp:{}", peer.ip())).routed()
        }),
    };
    serve_with(listener, store, options, done, stop).await
}

/// How `serve_with` accepts sessions.
pub struct ServeOptions {
    /// Link slots, per-address caps, handshake deadline and rate.
    pub gate: GateConfig,
    /// The session settings for a connection from this address.
    pub config: Rc<dyn Fn(SocketAddr) -> SessionConfig>,
}

/// Accepts sessions until `stop` completes, then lets running sessions commit
/// what they received (up to 5 s) before returning.
pub async fn serve_with<S, F>(
    listener: TcpListener,
    store: Rc<RefCell<S>>,
    options: ServeOptions,
    done: F,
    stop: impl Future<Output = ()>,
) where
    S: SyncStore + 'static,
    F: Fn(SocketAddr, &LinkOutcome) + 'static,
{
    let done = Rc::new(done);
    let gate = Gate::shared(options.gate.clone());
    let live = Rc::new(Cell::new(0usize));
    let clock = LinkClock::new();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ticket = match gate.borrow_mut().admit(peer.ip()) {
            Ok(t) => t,
            Err(why) => {
                tracing::warn!(%peer, %why, "refusing a connection");
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        live.set(live.get() + 1);
        let (store, done, live, gate) = (store.clone(), done.clone(), live.clone(), gate.clone());
        let config = (options.config)(peer);
        let mut shutdown = shutdown_rx.clone();
        tokio::task::spawn_local(async move {
            let stop = async move {
                let _ = shutdown.wait_for(|s| *s).await;
            };
            let outcome =
                accept::drive_accepted((&gate, ticket), stream, config, &store, clock, stop, None)
                    .await;
            live.set(live.get() - 1);
            done(peer, &outcome);
        });
    }
    let _ = shutdown_tx.send(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while live.get() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Parses `host:port`, for a clear error before any socket is opened.
pub fn check_addr(addr: &str) -> Result<(), RuntimeError> {
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .map(|_| ())
        .map_err(|e| RuntimeError::Address(addr.to_owned(), e.to_string()))
}
