//! Pollen's protocol: everything two devices must agree on, with no I/O, no
//! storage and no async runtime (see `docs/ARCHITECTURE.md`, `docs/PROTOCOL.md`).
//!
//! Bottom up:
//! - [`id`]: the [`byte_id!`] newtypes (ids and keys that print as hex);
//! - [`codec`]: bounded binary reading/writing for every wire format;
//! - [`random`]: the one source of randomness (seedable for simulations);
//! - [`identity`]: keys, contact cards, fingerprints and safety numbers;
//! - [`envelope`]: sealed, signed, padded, content-addressed envelopes;
//! - [`payload`]: what travels inside an opened envelope;
//! - [`shared_doc`]: headers of shared documents (who created, who writes);
//! - [`bundle`]: sneakernet files of envelopes and delivery proofs;
//! - [`chunk`]: attachments as padded, encrypted, verifiable chunks;
//! - [`sync`]: the sync session state machine between two neighbours;
//! - [`ble`]: Bluetooth LE profile, rotating identifiers and link framing.

pub mod ble;
pub mod bundle;
pub mod chunk;
pub mod codec;
#[cfg(test)]
mod doc_vectors;
pub mod envelope;
pub mod id;
pub mod identity;
pub mod payload;
pub mod random;
pub mod shared_doc;
pub mod sync;
