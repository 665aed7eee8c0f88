//! One BLE link, sans-IO: the HELLO exchange, the session's byte stream cut
//! into GATT values, and the sync session itself.

use super::advert::AdvertId;
use super::chunk::{self, Chunk, ChunkError, ChunkReader, ChunkWriter};
use super::profile::{payload_len, record_size};
use crate::sync::{Session, SessionConfig, SessionEvent, SessionStats, SyncStore};
use std::collections::VecDeque;

/// Which end of the GATT connection this side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Connected out, writes to the write characteristic, initiates the session.
    Central,
    /// Accepted the connection, notifies on the notify characteristic.
    Peripheral,
}

/// Something a link reports to its owner.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// The peer's HELLO arrived with its advertised identifier.
    Identified(AdvertId),
    /// The session reported this.
    Session(SessionEvent),
}

/// The sans-IO state of one BLE link.
pub struct BleLink {
    role: Role,
    payload: usize,
    own: AdvertId,
    hello_sent: bool,
    peer: Option<AdvertId>,
    reader: ChunkReader,
    writer: ChunkWriter,
    session: Session,
    /// Session bytes not yet cut into values; `pending[start..]` is due.
    pending: Vec<u8>,
    start: usize,
    /// The session closed and has handed out its last bytes.
    flushed: bool,
    events: VecDeque<LinkEvent>,
    error: Option<ChunkError>,
}

impl BleLink {
    /// A link that came up at `now_ms` with this ATT MTU; `own` is the
    /// identifier this side advertises now, sent in its HELLO.
    pub fn new(role: Role, att_mtu: u16, own: AdvertId, origin: String, now_ms: u64) -> BleLink {
        let config =
            SessionConfig::small(role == Role::Central, origin, record_size(att_mtu)).routed();
        BleLink::with_config(role, att_mtu, own, config, now_ms)
    }

    /// Like [`BleLink::new`] with explicit session settings (limits, offer).
    pub fn with_config(
        role: Role,
        att_mtu: u16,
        own: AdvertId,
        config: SessionConfig,
        now_ms: u64,
    ) -> BleLink {
        BleLink {
            role,
            payload: payload_len(att_mtu),
            own,
            hello_sent: false,
            peer: None,
            reader: ChunkReader::new(),
            writer: ChunkWriter::new(),
            session: Session::new(config, now_ms),
            pending: Vec::new(),
            start: 0,
            flushed: false,
            events: VecDeque::new(),
            error: None,
        }
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The identifier this side sent in its HELLO.
    pub fn own_id(&self) -> AdvertId {
        self.own
    }

    /// The peer's identifier, once its HELLO arrived.
    pub fn peer_id(&self) -> Option<AdvertId> {
        self.peer
    }

    /// What the session exchanged so far.
    pub fn stats(&self) -> &SessionStats {
        self.session.stats()
    }

    /// True once both sides finished their sessions.
    pub fn is_finished(&self) -> bool {
        self.session.is_finished()
    }

    /// True once nothing more will be sent or received: the platform may
    /// disconnect after [`BleLink::poll_value`] returns `None`.
    pub fn is_closed(&self) -> bool {
        self.flushed && self.start == self.pending.len()
    }

    /// The framing error that broke the link, if one did.
    pub fn error(&self) -> Option<&ChunkError> {
        self.error.as_ref()
    }

    /// Takes one value written or notified by the peer.
    pub fn handle_value(&mut self, value: &[u8], now_ms: u64, store: &mut dyn SyncStore) {
        if self.error.is_some() {
            return;
        }
        match self.reader.push(value) {
            Ok(Chunk::Hello(id)) => {
                self.peer = Some(id);
                self.events.push_back(LinkEvent::Identified(id));
            }
            Ok(Chunk::Data(bytes)) => self.session.handle_input(bytes, now_ms, store),
            Err(e) => {
                tracing::debug!(error = %e, "BLE link framing failed");
                self.error = Some(e);
                self.session.link_lost(store);
                self.pending.clear();
                self.start = 0;
                self.flushed = true;
            }
        }
        self.drain_session();
    }

    /// The next value to write or notify, `None` when nothing is due.
    /// Call it whenever the platform can take another value.
    pub fn poll_value(&mut self, store: &mut dyn SyncStore) -> Option<Vec<u8>> {
        if !self.hello_sent {
            self.hello_sent = true;
            return Some(chunk::hello(self.own));
        }
        if self.error.is_some() {
            return None;
        }
        while self.pending.len() - self.start < self.payload {
            let Some(bytes) = self.session.poll_transmit(store) else {
                self.flushed = self.session.is_closed();
                break;
            };
            if self.start > 0 {
                self.pending.drain(..self.start);
                self.start = 0;
            }
            self.pending.extend_from_slice(&bytes);
        }
        self.drain_session();
        if self.start == self.pending.len() {
            return None;
        }
        let end = (self.start + self.payload).min(self.pending.len());
        let value = self.writer.data(&self.pending[self.start..end]);
        self.start = end;
        if self.start == self.pending.len() {
            self.pending.clear();
            self.start = 0;
        }
        Some(value)
    }

    /// When [`BleLink::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.session.poll_timeout()
    }

    /// Timeouts and delayed commits of the session.
    pub fn handle_timeout(&mut self, now_ms: u64, store: &mut dyn SyncStore) {
        self.session.handle_timeout(now_ms, store);
        self.drain_session();
    }

    /// This node wrote something: the session takes it now
    /// ([`crate::sync::Session::take_news`]); whether it did.
    pub fn take_news(&mut self, store: &mut dyn SyncStore) -> bool {
        self.session.take_news(store)
    }

    /// The connection went away: commit what arrived, end the session.
    pub fn link_lost(&mut self, store: &mut dyn SyncStore) {
        self.session.link_lost(store);
        self.pending.clear();
        self.start = 0;
        self.flushed = true;
        self.drain_session();
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.drain_session();
        self.events.pop_front()
    }

    fn drain_session(&mut self) {
        while let Some(e) = self.session.poll_event() {
            self.events.push_back(LinkEvent::Session(e));
        }
    }
}
