//! Pollen's shared core.
//!
//! Layers, bottom up (see `docs/ARCHITECTURE.md`):
//! - [`codec`]: bounded binary reading/writing for every wire format;
//! - [`identity`]: keys, contact cards, fingerprints and safety numbers;
//! - [`envelope`]: sealed, signed, padded, content-addressed envelopes;
//! - [`payload`]: what travels inside an opened envelope;
//! - [`conversation`]: Automerge state of one conversation;
//! - [`store`]: SQLite persistence, quotas and eviction;
//! - [`bundle`]: sneakernet files of envelopes and delivery proofs;
//! - [`sync`]: sans-IO sync sessions between two neighbours;
//! - [`ble`]: the Bluetooth LE transport, sans-IO (GATT profile, rotating
//!   identifiers, link framing, the link manager);
//! - [`node`]: the facade the CLI and the bindings drive;
//! - [`relay`]: relay storage (carrier checks; PostgreSQL behind the `postgres` feature);
//! - [`runtime`]: sockets, clocks and tasks around sync sessions.

pub mod ble;
pub mod bundle;
pub mod codec;
pub mod conversation;
#[cfg(test)]
mod doc_vectors;
pub mod envelope;
pub mod identity;
pub mod node;
pub mod payload;
pub mod random;
pub mod relay;
pub mod routing;
pub mod runtime;
pub mod store;
pub mod sync;
