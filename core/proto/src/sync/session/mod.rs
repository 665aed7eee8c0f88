//! One sync session per link, for both roles, sans-IO.
//!
//! The runtime feeds bytes read from the link with [`Session::handle_input`],
//! writes what [`Session::poll_transmit`] returns, calls
//! [`Session::handle_timeout`] at [`Session::poll_timeout`], and reads
//! [`Session::poll_event`]. Nothing here opens a socket, reads a clock or
//! sleeps, so the same code runs over TCP, BLE, in-memory links and the
//! simulator.
//!
//! Lifecycle: preamble (version and record size) → Noise NN handshake →
//! `Hello` both ways → reconciliation driven by the initiator → transfer in
//! priority order with acknowledgements → `Done` both ways.

mod config;
mod ending;
mod transfer;

pub use config::{Offer, SessionConfig, SessionError, SessionEvent, SessionLimits, SessionStats};

use super::frame::{self, Fragmenter, MIN_RECORD, Reassembler, RecordDecoder};
use super::handshake::{
    self, HS_CLOSE, HS_NOISE, HS_NOISE_NK, HandshakeError, PREAMBLE_LEN, Preamble,
};
use super::message::{Blinded, Message, SHORT_BLINDED_LEN};
use super::store::SyncStore;
use std::collections::VecDeque;
use transfer::Transfer;

/// Bytes handed to the runtime per [`Session::poll_transmit`] call, at most
/// (plus one record), so a fast link gets large writes and a slow one is
/// never handed more than it asked for.
const TRANSMIT_CHUNK: usize = 64 << 10;
/// Longest Noise handshake message (NN: ephemeral key plus tag and margin).
const MAX_HANDSHAKE_MSG: usize = 128;

enum Phase {
    /// Waiting for the peer's preamble.
    Preamble,
    /// Noise handshake in progress (a responder builds its state when the
    /// first handshake record says which pattern the initiator chose).
    Handshake(Option<Box<snow::HandshakeState>>),
    /// Encrypted; messages flow.
    Transport(Box<snow::TransportState>),
    /// Ended (finished or failed); only queued output remains.
    Closed,
}

/// The sans-IO state machine of one side of one link.
pub struct Session {
    config: SessionConfig,
    ours: Preamble,
    phase: Phase,
    preamble_buf: Vec<u8>,
    prologue: Vec<u8>,
    decoder: RecordDecoder,
    max_record: usize,
    /// The negotiated session version (known after the preambles).
    version: u8,
    fragmenter: Fragmenter,
    reassembler: Reassembler,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<SessionEvent>,
    transfer: Transfer,
    stats: SessionStats,
    started_ms: u64,
    last_input_ms: u64,
    rate: Bucket,
    records: Bucket,
    finished: bool,
}

/// A token bucket holding one second of allowance.
struct Bucket {
    per_s: u64,
    tokens: f64,
    at_ms: u64,
}

impl Bucket {
    fn new(per_s: u64, now_ms: u64) -> Bucket {
        Bucket {
            per_s,
            tokens: per_s as f64,
            at_ms: now_ms,
        }
    }

    /// Takes `n`; false when the peer is over the rate.
    fn take(&mut self, n: u64, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64 / 1000.0;
        self.at_ms = self.at_ms.max(now_ms);
        self.tokens = (self.tokens + elapsed * self.per_s as f64).min(self.per_s as f64);
        self.tokens -= n as f64;
        self.tokens >= 0.0
    }
}

impl Session {
    /// Starts a session at `now_ms`; the preamble is queued at once.
    pub fn new(config: SessionConfig, now_ms: u64) -> Session {
        let mut ours = Preamble::ours(config.max_record);
        ours.max_version = config
            .max_version
            .clamp(handshake::MIN_VERSION, handshake::VERSION);
        let limits = &config.limits;
        let mut s = Session {
            ours,
            phase: Phase::Preamble,
            preamble_buf: Vec::with_capacity(PREAMBLE_LEN),
            prologue: Vec::new(),
            decoder: RecordDecoder::new(MIN_RECORD),
            max_record: MIN_RECORD,
            version: handshake::MIN_VERSION,
            fragmenter: Fragmenter::new(),
            reassembler: Reassembler::new(limits.reassembly),
            out: VecDeque::new(),
            events: VecDeque::new(),
            transfer: Transfer::new(&config),
            stats: SessionStats::default(),
            started_ms: now_ms,
            last_input_ms: now_ms,
            rate: Bucket::new(limits.max_bytes_per_s, now_ms),
            records: Bucket::new(limits.max_records_per_s, now_ms),
            finished: false,
            config,
        };
        let preamble = ours.encode().to_vec();
        s.count("preamble", preamble.len());
        s.out.push_back(preamble);
        s
    }

    /// Statistics so far.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// True once both sides have finished; the runtime closes the link after
    /// writing what [`Session::poll_transmit`] still returns.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// True once the session ended, finished or not.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// This node wrote something while the session runs: its own envelopes
    /// that the session did not start with are queued at once (the peer
    /// cannot hold what was written after the session began), so a text
    /// written during a long transfer goes before the chunks still to come.
    /// Returns whether anything was queued; if not (a session not yet past
    /// the Hellos, or already settled), the next session carries it.
    pub fn take_news(&mut self, store: &mut dyn SyncStore) -> bool {
        if self.is_closed() || self.finished || !matches!(self.phase, Phase::Transport(_)) {
            return false;
        }
        match self.transfer.take_news(store) {
            Ok(queued) => queued,
            Err(e) => {
                self.fail(e);
                self.release_if_failed(store);
                false
            }
        }
    }

    /// The port the peer said it accepts sessions on, once known.
    pub fn peer_port(&self) -> Option<u16> {
        self.transfer.peer_port()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.is_closed() {
            return None;
        }
        let limits = &self.config.limits;
        let mut next = self.last_input_ms + limits.idle_timeout_ms;
        if !matches!(self.phase, Phase::Transport(_)) {
            next = next.min(self.started_ms + limits.handshake_timeout_ms);
        }
        if let Some(d) = self.reassembler.next_deadline() {
            next = next.min(d);
        }
        if let Some(d) = self.transfer.commit_deadline() {
            next = next.min(d);
        }
        Some(next)
    }

    /// Handles the passage of time: timeouts and delayed commits.
    pub fn handle_timeout(&mut self, now_ms: u64, store: &mut dyn SyncStore) {
        self.on_time(now_ms, store);
        self.release_if_failed(store);
    }

    fn on_time(&mut self, now_ms: u64, store: &mut dyn SyncStore) {
        if self.is_closed() {
            return;
        }
        let limits = &self.config.limits;
        if !matches!(self.phase, Phase::Transport(_))
            && now_ms >= self.started_ms + limits.handshake_timeout_ms
        {
            let ms = limits.handshake_timeout_ms;
            return self.fail(SessionError::HandshakeTimeout(ms));
        }
        if now_ms >= self.last_input_ms + limits.idle_timeout_ms {
            let ms = limits.idle_timeout_ms;
            return self.fail(SessionError::Idle(ms));
        }
        if let Err(e) = self.reassembler.check_timeouts(now_ms) {
            return self.fail(e.into());
        }
        if self.transfer.commit_due(now_ms)
            && let Err(e) = self.commit(store)
        {
            self.fail(e);
        }
    }

    /// Handles bytes read from the link at `now_ms`.
    pub fn handle_input(&mut self, input: &[u8], now_ms: u64, store: &mut dyn SyncStore) {
        self.on_input(input, now_ms, store);
        self.release_if_failed(store);
    }

    fn on_input(&mut self, mut input: &[u8], now_ms: u64, store: &mut dyn SyncStore) {
        if self.is_closed() || input.is_empty() {
            return;
        }
        self.last_input_ms = self.last_input_ms.max(now_ms);
        self.stats.bytes_received += input.len() as u64;
        if self.stats.bytes_received > self.config.limits.max_bytes_in {
            let max = self.config.limits.max_bytes_in;
            return self.fail(SessionError::BudgetExhausted(max));
        }
        if !self.rate.take(input.len() as u64, now_ms) {
            let per_s = format!("{} bytes", self.config.limits.max_bytes_per_s);
            return self.fail(SessionError::Flooding(per_s));
        }
        if matches!(self.phase, Phase::Preamble) {
            let take = (PREAMBLE_LEN - self.preamble_buf.len()).min(input.len());
            self.preamble_buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.preamble_buf.len() < PREAMBLE_LEN {
                return;
            }
            if let Err(e) = self.on_preamble() {
                return self.fail(e);
            }
        }
        if let Err(e) = self.decoder.push(input) {
            return self.fail(e.into());
        }
        loop {
            if self.is_closed() {
                return;
            }
            let record = match self.decoder.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return self.fail(e.into()),
            };
            if !self.records.take(1, now_ms) {
                let per_s = format!("{} records", self.config.limits.max_records_per_s);
                return self.fail(SessionError::Flooding(per_s));
            }
            if let Err(e) = self.on_record(&record, now_ms, store) {
                return self.fail(e);
            }
        }
        if self.transfer.commit_now(now_ms)
            && let Err(e) = self.commit(store)
        {
            return self.fail(e);
        }
        self.check_finished(store);
    }

    /// Bytes to write to the link next, or None when nothing is due. Pulls
    /// envelopes from the store only as the peer's window allows.
    pub fn poll_transmit(&mut self, store: &mut dyn SyncStore) -> Option<Vec<u8>> {
        if !self.is_closed() && matches!(self.phase, Phase::Transport(_)) {
            while self.queued_bytes() < TRANSMIT_CHUNK {
                match self.transfer.next_message(store, &mut self.stats) {
                    Ok(Some(msg)) => {
                        if let Err(e) = self.send(&msg) {
                            self.fail(e);
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.fail(e);
                        break;
                    }
                }
            }
            self.check_finished(store);
            self.release_if_failed(store);
        }
        let mut chunk = self.out.pop_front()?;
        while let Some(next) = self.out.front() {
            if chunk.len() + next.len() > TRANSMIT_CHUNK {
                break;
            }
            chunk.extend_from_slice(next);
            self.out.pop_front();
        }
        self.stats.bytes_sent += chunk.len() as u64;
        Some(chunk)
    }

    fn queued_bytes(&self) -> usize {
        self.out.iter().map(Vec::len).sum()
    }

    fn on_preamble(&mut self) -> Result<(), SessionError> {
        let mut raw = [0u8; PREAMBLE_LEN];
        raw.copy_from_slice(&self.preamble_buf);
        let peer = Preamble::decode(&raw)?;
        let (version, max_record) = self.ours.negotiate(&peer)?;
        self.version = version;
        self.max_record = max_record;
        self.decoder.set_max_record(max_record);
        let (init, resp) = if self.config.initiator {
            (self.ours, peer)
        } else {
            (peer, self.ours)
        };
        self.prologue = handshake::prologue(&init, &resp);
        if !self.config.initiator {
            self.phase = Phase::Handshake(None);
            return Ok(());
        }
        let (mut hs, kind) = match &self.config.relay_key {
            Some(key) => (handshake::noise_nk(true, &self.prologue, key)?, HS_NOISE_NK),
            None => (handshake::noise(true, &self.prologue)?, HS_NOISE),
        };
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = hs.write_message(&[], &mut buf).map_err(noise_err)?;
        self.send_handshake_record(kind, &buf[..n])?;
        self.phase = Phase::Handshake(Some(Box::new(hs)));
        Ok(())
    }

    fn send_handshake_record(&mut self, kind: u8, body: &[u8]) -> Result<(), SessionError> {
        let mut rec = Vec::with_capacity(body.len() + 1);
        rec.push(kind);
        rec.extend_from_slice(body);
        let record = frame::encode_record(&rec, self.max_record)?;
        self.count("handshake", record.len());
        self.out.push_back(record);
        Ok(())
    }

    /// Counts bytes queued for the link under what they carry.
    fn count(&mut self, kind: &'static str, bytes: usize) {
        *self.stats.sent_by_kind.entry(kind).or_default() += bytes as u64;
    }

    fn on_record(
        &mut self,
        record: &[u8],
        now_ms: u64,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        match &mut self.phase {
            Phase::Preamble | Phase::Closed => Ok(()),
            Phase::Handshake(_) => self.on_handshake_record(record, store),
            Phase::Transport(noise) => {
                let limit = self.config.limits.max_records;
                if noise.receiving_nonce() >= limit {
                    return Err(SessionError::RecordLimit(limit));
                }
                let mut plain = vec![0u8; record.len()];
                let n = noise
                    .read_message(record, &mut plain)
                    .map_err(|_| SessionError::Decrypt)?;
                plain.truncate(n);
                if let Some(msg) = self.reassembler.push(&plain, now_ms)? {
                    let msg = Message::decode(&msg)?;
                    self.on_message(msg, now_ms, store)?;
                }
                Ok(())
            }
        }
    }

    fn on_handshake_record(
        &mut self,
        record: &[u8],
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        let (&kind, body) = record
            .split_first()
            .ok_or(SessionError::Protocol("empty handshake record"))?;
        let to_relay = self.config.initiator && self.config.relay_key.is_some();
        match kind {
            HS_NOISE | HS_NOISE_NK => {}
            HS_CLOSE => {
                let reason = String::from_utf8_lossy(body).into_owned();
                // Only a failed Noise read means the key is wrong; a busy or
                // timed-out relay is just closed.
                let error = if to_relay && reason.contains("noise handshake failed") {
                    HandshakeError::RelayAuth(format!("it said: {reason}")).into()
                } else if to_relay && reason.contains("not a relay") {
                    HandshakeError::RelayAuth(reason).into()
                } else {
                    SessionError::ClosedByPeer(reason)
                };
                self.close(error);
                return Ok(());
            }
            other => return Err(HandshakeError::UnexpectedRecord(other).into()),
        }
        if body.len() > MAX_HANDSHAKE_MSG {
            return Err(SessionError::Protocol("handshake message too long"));
        }
        // The responder learns the pattern from the first record.
        if matches!(self.phase, Phase::Handshake(None)) {
            let hs = match (kind, &self.config.static_key) {
                (HS_NOISE, _) => handshake::noise(false, &self.prologue)?,
                (_, Some(key)) => handshake::noise_nk(false, &self.prologue, key)?,
                (_, None) => return Err(HandshakeError::NotARelay.into()),
            };
            self.phase = Phase::Handshake(Some(Box::new(hs)));
        }
        let Phase::Handshake(Some(hs)) = &mut self.phase else {
            return Ok(());
        };
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        if let Err(e) = hs.read_message(body, &mut buf) {
            return Err(if to_relay {
                HandshakeError::RelayAuth(e.to_string()).into()
            } else {
                noise_err(e)
            });
        }
        if !self.config.initiator {
            let n = hs.write_message(&[], &mut buf).map_err(noise_err)?;
            let reply = buf[..n].to_vec();
            self.send_handshake_record(kind, &reply)?;
        }
        let Phase::Handshake(Some(hs)) = &self.phase else {
            return Ok(());
        };
        if !hs.is_handshake_finished() {
            return Err(SessionError::Protocol(
                "handshake did not finish in two messages",
            ));
        }
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&hs.get_handshake_hash()[..32]);
        let Phase::Handshake(Some(hs)) = std::mem::replace(&mut self.phase, Phase::Closed) else {
            return Ok(());
        };
        let transport = hs.into_transport_mode().map_err(noise_err)?;
        self.phase = Phase::Transport(Box::new(transport));
        self.events.push_back(SessionEvent::Established {
            version: self.version,
            max_record: self.max_record,
        });
        tracing::debug!(origin = %self.config.origin, max_record = self.max_record, "link encrypted");
        self.transfer
            .start(hash, self.version, store, &mut self.stats)
    }

    fn on_message(
        &mut self,
        msg: Message,
        now_ms: u64,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        if let Message::Close(reason) = msg {
            self.close(SessionError::ClosedByPeer(reason));
            return Ok(());
        }
        self.transfer
            .on_message(msg, now_ms, store, &mut self.stats)
    }

    fn commit(&mut self, store: &mut dyn SyncStore) -> Result<(), SessionError> {
        if let Some(event) = self.transfer.commit(store, &mut self.stats)? {
            self.events.push_back(event);
        }
        Ok(())
    }

    /// Encrypts, fragments and queues one message.
    fn send(&mut self, msg: &Message) -> Result<(), SessionError> {
        let Phase::Transport(noise) = &mut self.phase else {
            return Ok(());
        };
        let max_plain = frame::max_plain(self.max_record);
        let limit = self.config.limits.max_records;
        for plain in self.fragmenter.split(&msg.encode(), max_plain)? {
            if noise.sending_nonce() >= limit {
                return Err(SessionError::RecordLimit(limit));
            }
            let mut body = vec![0u8; plain.len() + 16];
            let n = noise
                .write_message(&plain, &mut body)
                .map_err(|_| SessionError::Protocol("cannot encrypt a record"))?;
            body.truncate(n);
            let record = frame::encode_record(&body, self.max_record)?;
            *self.stats.sent_by_kind.entry(msg.kind_name()).or_default() += record.len() as u64;
            self.out.push_back(record);
        }
        Ok(())
    }

    fn check_finished(&mut self, store: &mut dyn SyncStore) {
        if !self.finished && self.transfer.finished() {
            // What arrived is held now; what the peer did not send after all
            // (its copies went elsewhere meanwhile) another neighbour may.
            if let Err(e) = self.transfer.unclaim(store) {
                tracing::warn!(error = %e, "could not free the items asked for");
            }
            self.finished = true;
            self.phase = Phase::Closed;
            self.events.push_back(SessionEvent::Finished);
            tracing::debug!(origin = %self.config.origin, "session finished");
        }
    }
}

fn noise_err(e: snow::Error) -> SessionError {
    HandshakeError::Noise(e.to_string()).into()
}

/// Blinds a wanted blob id with the session's handshake hash (the key of
/// [`blind`] over 32 bytes rather than 8, so a blob never matches a tag).
pub(crate) fn blind_blob(hash: &[u8; 32], blob: &[u8; 32]) -> Blinded {
    let full = blake3::keyed_hash(hash, blob);
    let mut out = [0u8; 8];
    out.copy_from_slice(&full.as_bytes()[..8]);
    out
}

/// Blinds a routing tag with the session's handshake hash; `short` (session
/// version 7) keeps only the first [`SHORT_BLINDED_LEN`] bytes, the rest
/// zero, as a short Hello carries them.
pub(crate) fn blind(hash: &[u8; 32], tag: &[u8; 8], short: bool) -> Blinded {
    let full = blake3::keyed_hash(hash, tag);
    let len = if short { SHORT_BLINDED_LEN } else { 8 };
    let mut out = [0u8; 8];
    out[..len].copy_from_slice(&full.as_bytes()[..len]);
    out
}

#[cfg(test)]
mod tests;
