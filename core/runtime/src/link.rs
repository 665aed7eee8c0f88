//! Drives one sans-IO session over an async byte stream (TCP today).

use pollen_proto::sync::{Session, SessionError, SessionEvent, SessionStats, SyncStore};
use std::cell::RefCell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Session time: unix milliseconds at the start of the process, advanced by
/// the monotonic clock so a wall-clock jump cannot fire or stall timers.
#[derive(Clone, Copy, Debug)]
pub struct LinkClock {
    base_ms: u64,
    start: Instant,
}

impl LinkClock {
    /// A clock starting now.
    pub fn new() -> LinkClock {
        let base_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        LinkClock {
            base_ms,
            start: Instant::now(),
        }
    }

    /// Milliseconds now.
    pub fn now_ms(&self) -> u64 {
        self.base_ms + self.start.elapsed().as_millis() as u64
    }

    fn instant_at(&self, ms: u64) -> tokio::time::Instant {
        let offset = ms.saturating_sub(self.base_ms);
        tokio::time::Instant::from_std(self.start + Duration::from_millis(offset))
    }
}

impl LinkOutcome {
    /// A session that never started (the dial failed).
    pub fn failed(error: SessionError) -> LinkOutcome {
        LinkOutcome {
            stats: SessionStats::default(),
            error: Some(error),
            opened: 0,
            delivered: 0,
            peer_port: None,
        }
    }
}

impl Default for LinkClock {
    fn default() -> Self {
        LinkClock::new()
    }
}

/// How a session over a link ended.
#[derive(Debug)]
pub struct LinkOutcome {
    /// What was exchanged.
    pub stats: SessionStats,
    /// None when both sides finished; else why the session ended.
    pub error: Option<SessionError>,
    /// Envelopes that opened here (new messages), summed over commits.
    pub opened: u64,
    /// Own messages newly marked delivered.
    pub delivered: u64,
    /// The port the peer accepts sessions on, if it said.
    pub peer_port: Option<u16>,
}

/// Runs `session` over `stream` until it finishes, fails or the stream ends.
/// The store is borrowed only inside synchronous session calls, never across
/// an await, so several links can share one store on one thread.
/// When `stop` completes, what was received is committed and the link closed.
pub async fn drive<T, S>(
    stream: T,
    session: Session,
    store: &RefCell<S>,
    clock: LinkClock,
    stop: impl std::future::Future<Output = ()>,
) -> LinkOutcome
where
    T: AsyncRead + AsyncWrite + Unpin,
    S: SyncStore,
{
    drive_with(stream, session, store, clock, stop, None, |_| {}).await
}

/// Local writes, counted: a running session takes each one in
/// ([`Session::take_news`]) rather than leaving it to the next session.
pub type News = tokio::sync::watch::Receiver<u64>;

/// Like [`drive`], and shows `on_event` every session event as it happens
/// (a commit, for a UI that refreshes while a long transfer runs); with
/// `news`, a local write goes into the running session at once.
pub async fn drive_with<T, S>(
    stream: T,
    mut session: Session,
    store: &RefCell<S>,
    clock: LinkClock,
    stop: impl std::future::Future<Output = ()>,
    mut news: Option<News>,
    mut on_event: impl FnMut(&SessionEvent),
) -> LinkOutcome
where
    T: AsyncRead + AsyncWrite + Unpin,
    S: SyncStore,
{
    tokio::pin!(stop);
    let mut stopped = false;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut inbuf = vec![0u8; 64 << 10];
    let mut out: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let mut outcome = LinkOutcome {
        stats: SessionStats::default(),
        error: None,
        opened: 0,
        delivered: 0,
        peer_port: None,
    };
    let mut read_open = true;
    loop {
        if written == out.len() {
            out.clear();
            written = 0;
            if let Some(bytes) = session.poll_transmit(&mut *store.borrow_mut()) {
                out = bytes;
            }
        }
        while let Some(event) = session.poll_event() {
            on_event(&event);
            note(&mut outcome, event);
        }
        if session.is_closed() && out.is_empty() {
            break;
        }
        if !read_open && out.is_empty() {
            session.link_lost(&mut *store.borrow_mut());
            continue;
        }
        let deadline = session
            .poll_timeout()
            .map(|ms| clock.instant_at(ms))
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            r = rd.read(&mut inbuf), if read_open => match r {
                Ok(0) | Err(_) => {
                    read_open = false;
                    if out.is_empty() {
                        session.link_lost(&mut *store.borrow_mut());
                    }
                }
                Ok(n) => session.handle_input(&inbuf[..n], clock.now_ms(), &mut *store.borrow_mut()),
            },
            w = wr.write(&out[written..]), if written < out.len() => match w {
                Ok(0) | Err(_) => {
                    out.clear();
                    written = 0;
                    session.link_lost(&mut *store.borrow_mut());
                }
                Ok(n) => written += n,
            },
            _ = tokio::time::sleep_until(deadline) => {
                session.handle_timeout(clock.now_ms(), &mut *store.borrow_mut());
            }
            changed = async { news.as_mut()?.changed().await.ok() }, if news.is_some() => {
                match changed {
                    Some(()) => {
                        session.take_news(&mut *store.borrow_mut());
                    }
                    // The writer is gone: nothing more will come.
                    None => news = None,
                }
            }
            _ = &mut stop, if !stopped => {
                stopped = true;
                session.link_lost(&mut *store.borrow_mut());
                out.clear();
                written = 0;
            }
        }
    }
    while let Some(event) = session.poll_event() {
        on_event(&event);
        note(&mut outcome, event);
    }
    let _ = wr.flush().await;
    let _ = wr.shutdown().await;
    outcome.stats = session.stats().clone();
    outcome.peer_port = session.peer_port();
    outcome
}

fn note(outcome: &mut LinkOutcome, event: SessionEvent) {
    match event {
        SessionEvent::Committed { opened, delivered } => {
            outcome.opened += opened;
            outcome.delivered += delivered;
        }
        SessionEvent::Closed(e) => {
            if outcome.error.is_none() {
                outcome.error = Some(e);
            }
        }
        SessionEvent::Established { .. } | SessionEvent::Finished => {}
    }
}
