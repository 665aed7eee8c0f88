//! Links the platform opens (Bonjour, a test loopback; phones' BLE has its
//! own radio trait): a byte stream in each direction that the platform moves
//! and the host runs an ordinary sync session over, with [`crate::drive`]
//! exactly as over TCP.

use super::{HostError, Shared};
use pollen_proto::sync::frame::MAX_RECORD;
use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

/// Smallest write a link may declare: ATT MTU 23 less the 3-byte header.
pub const MIN_WRITE: u32 = 20;

/// The platform's side of its links. Called on the host thread:
/// implementations queue the work and return at once.
pub trait PlatformLinks: Send + Sync {
    /// Writes `bytes` (at most the link's `max_write`) to the link, in order.
    fn send(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), String>;
    /// Closes the link; the host already treats it as gone.
    fn disconnect(&self, link_id: u64) -> Result<(), String>;
    /// Asks for a link to `peer` (a name the platform gave in `link_up`); the
    /// platform answers with a link up as initiator if it can.
    fn connect(&self, peer: String) -> Result<(), String>;
}

/// What the platform hands a link.
#[derive(Debug)]
pub enum LinkInput {
    /// Bytes read from the link.
    Bytes(Vec<u8>),
    /// The platform lost the link.
    Down,
}

/// A link the platform opened.
#[derive(Debug)]
pub struct LinkSpec {
    /// The platform's id for the link.
    pub id: u64,
    /// The platform's name for the peer (used to ask for links later).
    pub peer: String,
    /// This side connected (it speaks first).
    pub initiator: bool,
    /// Most bytes per `send`.
    pub max_write: u32,
    input: Option<mpsc::UnboundedReceiver<LinkInput>>,
}

impl LinkSpec {
    /// A link as the platform describes it.
    pub fn new(id: u64, peer: String, initiator: bool, max_write: u32) -> LinkSpec {
        LinkSpec {
            id,
            peer,
            initiator,
            max_write,
            input: None,
        }
    }

    /// Refuses a write size no session can work with.
    pub fn check(&self) -> Result<(), HostError> {
        if (MIN_WRITE as usize..=MAX_RECORD).contains(&(self.max_write as usize)) {
            Ok(())
        } else {
            Err(HostError::InvalidLink(format!(
                "max_write {} is outside {MIN_WRITE}..={MAX_RECORD}",
                self.max_write
            )))
        }
    }

    pub(super) fn with_input(mut self, rx: mpsc::UnboundedReceiver<LinkInput>) -> LinkSpec {
        self.input = Some(rx);
        self
    }

    pub(super) fn take_input(&mut self) -> Option<mpsc::UnboundedReceiver<LinkInput>> {
        self.input.take()
    }
}

/// A platform link as an async byte stream: reads come from what the
/// platform handed over, writes go out through [`PlatformLinks::send`] in
/// pieces of at most `max_write`.
pub struct PlatformStream {
    id: u64,
    input: mpsc::UnboundedReceiver<LinkInput>,
    pending: Vec<u8>,
    pos: usize,
    shared: Arc<Shared>,
    max_write: usize,
    /// Set once the platform reported the link gone.
    lost: Rc<Cell<bool>>,
}

impl PlatformStream {
    /// The stream of link `id`; `lost` is set when the platform drops it.
    pub(super) fn new(
        id: u64,
        input: mpsc::UnboundedReceiver<LinkInput>,
        shared: Arc<Shared>,
        max_write: u32,
        lost: Rc<Cell<bool>>,
    ) -> PlatformStream {
        PlatformStream {
            id,
            input,
            pending: Vec::new(),
            pos: 0,
            shared,
            max_write: max_write as usize,
            lost,
        }
    }
}

impl AsyncRead for PlatformStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pos == this.pending.len() {
            match this.input.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(LinkInput::Bytes(b))) => {
                    this.pending = b;
                    this.pos = 0;
                }
                // End of stream: the session treats it as a lost link.
                Poll::Ready(Some(LinkInput::Down) | None) => {
                    this.lost.set(true);
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let n = buf.remaining().min(this.pending.len() - this.pos);
        buf.put_slice(&this.pending[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for PlatformStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(transport) = self.shared.transport() else {
            return Poll::Ready(Err(io::Error::other("no platform transport set")));
        };
        let n = buf.len().min(self.max_write);
        Poll::Ready(
            transport
                .send(self.id, buf[..n].to_vec())
                .map(|()| n)
                .map_err(io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
