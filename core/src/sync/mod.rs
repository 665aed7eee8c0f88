//! Sync sessions between two neighbours, sans-IO: bytes and time in, bytes,
//! events and deadlines out (see `docs/PROTOCOL.md`, "Sync sessions").

pub mod frame;
pub mod recon;
