//! Runs one accepted TCP link under the [`Gate`]: the peer must start its
//! handshake before the deadline, its address must be under the handshake
//! rate, and until the handshake completes a newer connection may push it
//! out.

use crate::gate::{Gate, Refusal, Ticket};
use crate::link::{LinkClock, LinkOutcome, News, drive_with};
use pollen_proto::sync::{Session, SessionConfig, SessionError, SessionEvent, SyncStore};
use std::cell::RefCell;
use std::future::Future;
use tokio::net::TcpStream;

/// Drives the session of an accepted link admitted by `gate` with `ticket`,
/// and gives its slot back when the link ends.
pub async fn drive_accepted<S: SyncStore>(
    (gate, ticket): (&RefCell<Gate>, Ticket),
    stream: TcpStream,
    mut config: SessionConfig,
    store: &RefCell<S>,
    clock: LinkClock,
    stop: impl Future<Output = ()>,
    news: Option<News>,
) -> LinkOutcome {
    let Ticket { id, mut evicted } = ticket;
    let outcome = async {
        let deadline = gate.borrow().config().handshake_deadline;
        let deadline_ms = deadline.as_millis() as u64;
        let accepted_ms = clock.now_ms();
        tokio::pin!(stop);
        // Wait for the peer's first bytes without reading them: a silent
        // link costs no handshake and holds its slot only until the deadline.
        let mut probe = [0u8; 1];
        let first = tokio::select! {
            r = tokio::time::timeout(deadline, stream.peek(&mut probe)) => match r {
                Ok(Ok(n)) if n > 0 => Ok(()),
                Ok(_) => Err(SessionError::LinkLost),
                Err(_) => Err(SessionError::HandshakeTimeout(deadline_ms)),
            },
            _ = &mut evicted => Err(evicted_error()),
            _ = &mut stop => Err(SessionError::LinkLost),
        };
        first?;
        let ip = stream
            .peer_addr()
            .map(|a| a.ip())
            .map_err(|_| SessionError::LinkLost)?;
        if !gate.borrow_mut().handshake(ip, clock.now_ms()) {
            tracing::debug!(%ip, "handshake rate exceeded; closing");
            return Err(SessionError::Refused(Refusal::HandshakeRate.to_string()));
        }
        let spent = clock.now_ms().saturating_sub(accepted_ms);
        config.limits.handshake_timeout_ms = deadline_ms.saturating_sub(spent).max(1);
        let session = Session::new(config, clock.now_ms());
        let mut established = false;
        // Until established, an eviction closes the link; afterwards the gate
        // keeps the slot until this task gives it back.
        let stop = async {
            tokio::select! {
                _ = &mut evicted => {}
                _ = &mut stop => {}
            }
        };
        Ok(drive_with(stream, session, store, clock, stop, news, |e| {
            if let SessionEvent::Established { .. } = e
                && !established
            {
                established = true;
                gate.borrow_mut().established(id);
            }
        })
        .await)
    }
    .await;
    gate.borrow_mut().close(id);
    outcome.unwrap_or_else(LinkOutcome::failed)
}

fn evicted_error() -> SessionError {
    SessionError::Refused("closed for a newer link: every slot was taken".into())
}
