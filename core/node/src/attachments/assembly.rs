//! An attachment from the chunks held: how far it got, and the file once
//! every chunk is here. Whatever was held survives restarts, and chunks may
//! come from any neighbour: assembly resumes from the store.

use crate::store::{Store, StoreError};
use pollen_proto::chunk::{AttachmentRef, Chunk, ChunkError, assemble};
use thiserror::Error;

/// Chunks held of an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Verified chunks held.
    pub have: u16,
    /// Chunks the blob has.
    pub need: u16,
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
        Ok(Progress {
            have,
            need: reference.chunk_count(),
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
