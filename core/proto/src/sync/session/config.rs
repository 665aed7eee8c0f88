//! Session settings, limits, statistics, events and errors.

use crate::sync::frame::{FrameError, MAX_RECORD, MIN_RECORD, ReassemblyLimits};
use crate::sync::handshake::HandshakeError;
use crate::sync::message::MessageError;
use crate::sync::recon::{ReconError, ReconLimits};
use crate::sync::store::SyncStoreError;
use std::collections::BTreeMap;
use thiserror::Error;

/// Everything a peer can make this side spend, per link.
#[derive(Clone, Debug)]
pub struct SessionLimits {
    /// Time from the start of the link to an encrypted session.
    pub handshake_timeout_ms: u64,
    /// Longest silence from the peer before giving up on it.
    pub idle_timeout_ms: u64,
    /// Total bytes accepted from the peer in one session.
    pub max_bytes_in: u64,
    /// Sustained bytes per second accepted from the peer (one second of burst).
    pub max_bytes_per_s: u64,
    /// Sustained records per second accepted from the peer (one second of burst).
    pub max_records_per_s: u64,
    /// Caps on messages being reassembled.
    pub reassembly: ReassemblyLimits,
    /// Caps on reconciliation.
    pub recon: ReconLimits,
    /// Received items committed per transaction, at most.
    pub commit_batch: usize,
    /// Longest wait before committing a partial batch.
    pub commit_delay_ms: u64,
    /// Records each direction may carry before the session closes: the Noise
    /// nonce is a 64-bit counter that must never wrap or repeat under one key.
    pub max_records: u64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            handshake_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            max_bytes_in: 2 << 30,
            max_bytes_per_s: 256 << 20,
            max_records_per_s: 100_000,
            reassembly: ReassemblyLimits {
                max_concurrent: 4,
                max_message: 128 << 10,
                timeout_ms: 30_000,
            },
            recon: ReconLimits {
                max_message: 32 << 10,
                ..ReconLimits::default()
            },
            commit_batch: 1024,
            commit_delay_ms: 10,
            // 2^40 records: years of traffic, and 2^24 times short of a wrap.
            max_records: 1 << 40,
        }
    }
}

/// How one side of a link runs its session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// True on the side that opened the link: it drives reconciliation.
    pub initiator: bool,
    /// Largest record this side accepts ([`MIN_RECORD`] for BLE, up to [`MAX_RECORD`]).
    pub max_record: usize,
    /// Bytes of envelopes and proofs the peer may send before this side acknowledges.
    pub window: u32,
    /// Name of the link for per-origin storage quotas and logs.
    pub origin: String,
    /// The TCP port this node accepts sessions on (0: none), told to the peer.
    pub listen_port: u16,
    /// Initiator: the relay's public key from its address; the handshake
    /// (Noise NK) fails unless the peer holds the matching private key.
    pub relay_key: Option<[u8; 32]>,
    /// Responder: this relay's private key, which lets clients authenticate it.
    pub static_key: Option<[u8; 32]>,
    /// What this side offers the peer.
    pub offer: Offer,
    /// What the peer may make this side spend.
    pub limits: SessionLimits,
    /// The highest session version this side offers (the build's newest
    /// unless set lower, e.g. to stand in for an older build in tests).
    pub max_version: u8,
    /// A slow link (Bluetooth): the store names only the blobs it fetches
    /// over slow links too ([`SyncStore::wanted_blobs`](crate::sync::store::SyncStore::wanted_blobs)).
    pub slow_link: bool,
}

impl SessionConfig {
    /// Settings for a fast link (TCP on a LAN or loopback).
    pub fn tcp(initiator: bool, origin: impl Into<String>) -> SessionConfig {
        SessionConfig {
            initiator,
            max_record: MAX_RECORD,
            window: 4 << 20,
            origin: origin.into(),
            listen_port: 0,
            relay_key: None,
            static_key: None,
            offer: Offer::All,
            limits: SessionLimits::default(),
            max_version: crate::sync::handshake::VERSION,
            slow_link: false,
        }
    }

    /// The same settings between neighbours: send what the store's routing
    /// policy picks for the peer ([`Offer::Routed`]). Not towards a relay,
    /// which should get everything.
    pub fn routed(mut self) -> SessionConfig {
        self.offer = Offer::Routed;
        self
    }

    /// Settings for a small-record link (BLE): `max_record` bytes per record.
    pub fn small(initiator: bool, origin: impl Into<String>, max_record: usize) -> SessionConfig {
        SessionConfig {
            max_record: max_record.clamp(MIN_RECORD, MAX_RECORD),
            window: 64 << 10,
            slow_link: max_record < SLOW_LINK_RECORD,
            ..SessionConfig::tcp(initiator, origin)
        }
    }
}

/// Records smaller than this mean a Bluetooth link (an ATT MTU is at most
/// 517 bytes); platform links that write more at once (Bonjour) are fast.
pub const SLOW_LINK_RECORD: usize = 4096;

/// What a side offers in reconciliation and transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Everything held: a neighbour in the mesh carries for everyone.
    All,
    /// Only what matches the peer's interests (its own envelopes, its groups
    /// and channels): a relay holds everyone's mail and hands each client its own.
    Interests,
    /// Reconcile everything held, like [`Offer::All`], but send only what the
    /// store's routing policy chooses for this peer
    /// ([`SyncStore::offer_to`](crate::sync::store::SyncStore::offer_to)),
    /// knowing from its Hello which items are for it.
    Routed,
}

/// What one session did, for the CLI and the UI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Bytes written to the link.
    pub bytes_sent: u64,
    /// Bytes read from the link.
    pub bytes_received: u64,
    /// Envelopes sent to the peer.
    pub envelopes_sent: u64,
    /// Delivery proofs sent to the peer.
    pub proofs_sent: u64,
    /// Envelopes received from the peer.
    pub envelopes_received: u64,
    /// Delivery proofs received from the peer.
    pub proofs_received: u64,
    /// Attachment chunks sent.
    pub chunks_sent: u64,
    /// Attachment chunks received.
    pub chunks_received: u64,
    /// Received envelopes that opened here.
    pub opened: u64,
    /// Received envelopes stored to carry on.
    pub carried: u64,
    /// Received items already known.
    pub duplicates: u64,
    /// Refused envelopes by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Received delivery proofs that were new here.
    pub new_proofs: u64,
    /// Carried copies dropped because of received proofs.
    pub purged: u64,
    /// Own messages marked delivered by received proofs.
    pub delivered: u64,
    /// Reconciliation round trips.
    pub recon_rounds: u32,
    /// Bytes of reconciliation messages, both ways, before framing.
    pub recon_bytes: u64,
    /// Bytes this side wrote to the link by what they carried: each
    /// message type by [`Message::kind_name`](crate::sync::message::Message::kind_name)
    /// with its framing and encryption, plus `preamble` and `handshake`.
    /// They add up to `bytes_sent` once everything queued was sent.
    pub sent_by_kind: BTreeMap<&'static str, u64>,
}

/// Something the runtime or the UI should know.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The link is encrypted.
    Established {
        /// Negotiated protocol version.
        version: u8,
        /// Negotiated record size.
        max_record: usize,
    },
    /// Items from the peer were committed; some may be new messages.
    Committed {
        /// Envelopes that opened here in this commit.
        opened: u64,
        /// Own messages newly delivered in this commit.
        delivered: u64,
    },
    /// Both sides have everything the other offered; the link can be closed.
    Finished,
    /// The session ended early.
    Closed(SessionError),
}

/// Why a session ended early. The text is the logged disconnect reason.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SessionError {
    /// A framing rule was broken (oversized or lying length, reassembly abuse).
    #[error("framing: {0}")]
    Frame(#[from] FrameError),
    /// The preamble or Noise handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// A record did not decrypt (tampering or garbage after the handshake).
    #[error("record failed to decrypt")]
    Decrypt,
    /// A session message was malformed.
    #[error("message: {0}")]
    Message(#[from] MessageError),
    /// Reconciliation failed or went on too long.
    #[error("reconciliation: {0}")]
    Recon(#[from] ReconError),
    /// The peer broke the session protocol.
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// The peer sent more unacknowledged items than the window allows.
    #[error("peer exceeded the flow-control window of {0} bytes")]
    WindowExceeded(u32),
    /// The handshake took too long.
    #[error("handshake timed out after {0} ms")]
    HandshakeTimeout(u64),
    /// The peer went silent.
    #[error("peer idle for {0} ms")]
    Idle(u64),
    /// The peer sent faster than the per-link rate.
    #[error("peer flooded the link (over {0} per second)")]
    Flooding(String),
    /// The peer used up the session's byte budget.
    #[error("peer sent more than the session budget of {0} bytes")]
    BudgetExhausted(u64),
    /// A direction reached the session's record limit (its nonce counter
    /// must not wrap); a new session gets fresh keys.
    #[error("record limit of {0} reached; the session must be renewed")]
    RecordLimit(u64),
    /// Local storage failed.
    #[error(transparent)]
    Store(#[from] SyncStoreError),
    /// The peer closed the session with this reason.
    #[error("closed by peer: {0}")]
    ClosedByPeer(String),
    /// The link was cut before the session finished.
    #[error("link lost")]
    LinkLost,
    /// This side closed the link before its session began: its connection
    /// limits (slots, per-address caps, handshake rate) said no.
    #[error("refused: {0}")]
    Refused(String),
    /// The neighbour could not be reached (the session never started).
    #[error("cannot connect: {0}")]
    Unreachable(String),
}
