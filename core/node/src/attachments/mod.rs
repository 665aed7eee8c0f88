//! Attachment chunks on a node (see `docs/PROTOCOL.md`, "Storing and
//! fetching"): every chunk is verified against its blob id before it is
//! kept, chunks live apart from envelopes under their own quota, and a flood
//! of carried chunks can only evict other carried chunks, never the node's
//! own or wanted ones (nor any envelope, which are in another table).
//!
//! - [`store`]: insertion, eviction, promotion of wanted blobs, usage;
//! - [`assembly`]: progress of an attachment and opening it from what is held.

pub mod assembly;
pub mod store;

#[cfg(test)]
mod tests;

pub use assembly::{Asked, AssembleError, Progress};
pub use store::{
    ChunkClass, ChunkLimits, ChunkOutcome, ChunkRejection, ChunkUsage, HeldChunk, admit_chunk,
};
