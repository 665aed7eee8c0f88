//! Attachments: a file split into content-addressed, individually encrypted
//! chunks that travel beside envelopes (see `docs/PROTOCOL.md`, "Attachments").
//!
//! - [`layout`]: chunk sizes and the padding buckets of a blob's length;
//! - [`reference`]: what the message itself carries (blob id, key, preview);
//! - [`companion`]: one chunk as carriers hold and sessions send it, with the
//!   BLAKE3 (bao) verified slice that lets anyone check it against the blob id;
//! - [`seal`]: splitting and encrypting a file, and opening chunks again.
//!
//! Everything is sans-IO and decodes untrusted bytes into typed
//! [`ChunkError`]s.

pub mod companion;
pub mod layout;
pub mod reference;
pub mod seal;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use companion::{Chunk, chunk_item_id};
pub use layout::{
    CHUNK_BYTES, CHUNK_TAG_BYTES, MAX_ATTACHMENT_BYTES, MAX_BLOB_BYTES, MAX_CHUNKS, blob_len_for,
    capacity, check_blob_len, chunk_count, chunk_len, padme,
};
pub use reference::{AttachmentKey, AttachmentRef, MAX_REFERENCE_BYTES, Preview};
pub use seal::{SealedAttachment, assemble, open_chunk, seal_attachment, seal_attachment_with_key};

use crate::codec::DecodeError;
use thiserror::Error;

/// Version of the chunk companion and attachment reference layouts.
pub const VERSION: u8 = 1;

crate::byte_id!(
    /// BLAKE3 of a whole encrypted blob (all its chunks' ciphertexts in
    /// order), which is also the root of the bao tree every chunk's slice is
    /// verified against.
    BlobId,
    32,
    "blob id"
);

/// Why an attachment, reference or chunk could not be built, decoded or opened.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// A field is malformed.
    #[error("malformed chunk: {0}")]
    Decode(#[from] DecodeError),
    /// A format version this build does not speak.
    #[error("chunk format version {0} is not supported (this build speaks {VERSION})")]
    UnsupportedVersion(u8),
    /// The file is larger than an attachment may be.
    #[error("file is {0} bytes, more than the limit of {MAX_ATTACHMENT_BYTES}")]
    TooLarge(u64),
    /// A blob length that is not one of the padding buckets.
    #[error("blob length {0} is not a valid padded attachment size")]
    BadBlobLength(u64),
    /// A chunk index past the blob's last chunk.
    #[error("chunk {index} is past the end of a blob of {count} chunks")]
    BadIndex {
        /// The index claimed.
        index: u16,
        /// Chunks in the blob.
        count: u16,
    },
    /// The slice's own length header disagrees with the declared blob length.
    #[error(
        "chunk lies about its blob's length: declared {declared} bytes, its slice says {sliced}"
    )]
    LyingLength {
        /// The blob length in the chunk header.
        declared: u64,
        /// The length in the bao slice header.
        sliced: u64,
    },
    /// The slice is longer or shorter than a chunk of this blob.
    #[error("chunk data is {got} bytes where the blob needs {expected}")]
    WrongSize {
        /// Bytes the blob layout requires.
        expected: u64,
        /// Bytes the slice holds.
        got: u64,
    },
    /// The chunk's data does not hash to the blob id.
    #[error("chunk {index} does not match blob {blob}: wrong hash")]
    HashMismatch {
        /// The blob it claimed to belong to.
        blob: BlobId,
        /// Its index.
        index: u16,
    },
    /// The chunk belongs to another attachment than the one being opened.
    #[error("chunk belongs to another attachment")]
    WrongBlob,
    /// The chunk does not decrypt under the attachment's key.
    #[error("chunk {0} does not decrypt under the attachment key")]
    Decrypt(u16),
    /// The preview breaks a limit (name, type, thumbnail) or is inconsistent.
    #[error("invalid attachment preview: {0}")]
    BadPreview(String),
    /// Chunks are missing for assembly.
    #[error("attachment is incomplete: {have} of {need} chunks")]
    Incomplete {
        /// Chunks given.
        have: usize,
        /// Chunks needed.
        need: usize,
    },
    /// The OS random generator failed.
    #[error("random generator failed: {0}")]
    Random(String),
}
