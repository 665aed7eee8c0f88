//! An attachment from the chunks held: how far it got, and the file once
//! every chunk is here. Whatever was held survives restarts, and chunks may
//! come from any neighbour: assembly resumes from the store.

use crate::store::{Store, StoreError};
use pollen_proto::chunk::{AttachmentRef, Chunk, ChunkError, assemble};
use rusqlite::OptionalExtension;
use thiserror::Error;

/// Chunks held of an attachment, and whether this node asks for the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Verified chunks held.
    pub have: u16,
    /// Chunks the blob has.
    pub need: u16,
    /// Whether, and over which links, its chunks are asked for.
    pub asked: Asked,
}

/// Whether this node asks its neighbours for a blob's chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Not asked for: too large to come on its own, or from a stranger.
    No,
    /// Fetched on its own over fast links only (over the Bluetooth limit).
    FastLinks,
    /// Asked for over every link (the user fetched it, or it is small), or
    /// this node's own.
    Everywhere,
}

impl Progress {
    /// Every chunk is here.
    pub fn complete(&self) -> bool {
        self.have >= self.need
    }
}

/// Why an attachment could not be assembled.
#[derive(Debug, Error)]
pub enum AssembleError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Chunks are missing, or a held chunk does not open.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
}

impl Store {
    /// Chunks held of `reference`'s blob.
    pub fn attachment_progress(&self, reference: &AttachmentRef) -> Result<Progress, StoreError> {
        let have = self
            .blob_chunks(&reference.blob, reference.blob_len)?
            .len()
            .min(u16::MAX as usize) as u16;
        let slow_ok: Option<bool> = self
            .conn()
            .prepare_cached("SELECT slow_ok FROM wanted_blobs WHERE blob = ?1 AND blob_len = ?2")?
            .query_row(
                rusqlite::params![&reference.blob.0[..], reference.blob_len as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Progress {
            have,
            need: reference.chunk_count(),
            asked: match slow_ok {
                None => Asked::No,
                Some(false) => Asked::FastLinks,
                Some(true) => Asked::Everywhere,
            },
        })
    }

    /// The file of `reference`, from the chunks held: each is verified again
    /// and decrypted; the result is cut to the preview's size.
    pub fn assemble_attachment(&self, reference: &AttachmentRef) -> Result<Vec<u8>, AssembleError> {
        let chunks = self
            .blob_chunks(&reference.blob, reference.blob_len)?
            .into_iter()
            .map(|(_, bytes)| Chunk::decode(&bytes))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(assemble(reference, &chunks)?)
    }
}
