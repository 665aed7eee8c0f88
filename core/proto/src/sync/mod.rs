//! Sync sessions between two neighbours, sans-IO: bytes and time in, bytes,
//! events and deadlines out (see `docs/PROTOCOL.md`, "Sync sessions").
//!
//! - [`frame`]: records on the byte stream, fragmentation and reassembly;
//! - [`encounter`]: encounter summaries (version 5), daily-keyed Bloom bands;
//! - [`handshake`]: preamble (version, record size) and the Noise NN handshake;
//! - [`message`]: the session messages;
//! - [`recon`]: range-based set reconciliation over envelope ids;
//! - [`store`]: what a session needs from storage, as a trait;
//! - [`session`]: the state machine that ties them together.

pub mod encounter;
pub mod frame;
pub mod handshake;
pub mod message;
pub mod pump;
pub mod recon;
pub mod session;
pub mod store;

pub use session::{
    Offer, Session, SessionConfig, SessionError, SessionEvent, SessionLimits, SessionStats,
};
pub use store::SyncStore;
