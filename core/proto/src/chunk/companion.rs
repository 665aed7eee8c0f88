//! One chunk as carriers hold it and sessions send it: a cleartext header
//! naming the blob and the chunk's place in it, then the bao slice of that
//! range (the BLAKE3 tree nodes from the root down, interleaved with the
//! ciphertext). Anyone can check a chunk against its blob id without the key;
//! only the recipients (who hold the reference) can decrypt it.

use super::layout::{CHUNK_BYTES, check_blob_len, chunk_len};
use super::{BlobId, ChunkError, VERSION};
use crate::codec::{DecodeError, Reader, Writer};
use std::io::Read;

/// Header: version, expiry, blob id, blob length, index.
pub const HEADER_BYTES: usize = 1 + 8 + 32 + 4 + 2;
/// Most bao overhead a chunk's slice can have: its 8-byte length header and
/// 64-byte parent nodes (at most 15 above a chunk in the largest blob, 63
/// inside it).
pub const MAX_SLICE_OVERHEAD: usize = 8 + 64 * 80;
/// Largest encoded chunk.
pub const MAX_CHUNK_WIRE_BYTES: usize = HEADER_BYTES + MAX_SLICE_OVERHEAD + CHUNK_BYTES;

/// The reconciliation id of a chunk: the same on every node that holds it,
/// and distinct from every envelope and proof id.
pub fn chunk_item_id(blob: &BlobId, blob_len: u64, index: u16) -> [u8; 32] {
    let mut m = [0u8; 38];
    m[..32].copy_from_slice(&blob.0);
    m[32..36].copy_from_slice(&(blob_len as u32).to_le_bytes());
    m[36..].copy_from_slice(&index.to_le_bytes());
    blake3::derive_key("pollen v1 chunk item", &m)
}

/// A chunk whose slice has been verified against its blob id.
#[derive(Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Unix seconds after which nobody should carry it.
    pub expires_at: u64,
    /// The blob it belongs to.
    pub blob: BlobId,
    /// The blob's padded length.
    pub blob_len: u64,
    /// Its place in the blob.
    pub index: u16,
    slice: Vec<u8>,
    data: Vec<u8>,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("blob", &self.blob)
            .field("blob_len", &self.blob_len)
            .field("index", &self.index)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Chunk {
    /// Builds a chunk from a slice the sender extracted (verifying it, so a
    /// bug cannot put a bad chunk on the wire).
    pub(super) fn from_slice(
        expires_at: u64,
        blob: BlobId,
        blob_len: u64,
        index: u16,
        slice: Vec<u8>,
    ) -> Result<Chunk, ChunkError> {
        let data = verify(&blob, blob_len, index, &slice)?;
        Ok(Chunk {
            expires_at,
            blob,
            blob_len,
            index,
            slice,
            data,
        })
    }

    /// Decodes untrusted bytes and verifies the slice against the blob id:
    /// a wrong hash, a lying length or a chunk of the wrong size is refused.
    pub fn decode(bytes: &[u8]) -> Result<Chunk, ChunkError> {
        if bytes.len() > MAX_CHUNK_WIRE_BYTES {
            return Err(DecodeError::TooLong {
                what: "chunk",
                len: bytes.len(),
                max: MAX_CHUNK_WIRE_BYTES,
            }
            .into());
        }
        let mut r = Reader::new(bytes);
        let version = r.u8("chunk version")?;
        if version != VERSION {
            return Err(ChunkError::UnsupportedVersion(version));
        }
        let expires_at = r.u64("chunk expiry")?;
        let blob = BlobId(r.array("blob id")?);
        let blob_len = u64::from(r.u32("blob length")?);
        let index = r.u16("chunk index")?;
        let slice = r.rest().to_vec();
        Chunk::from_slice(expires_at, blob, blob_len, index, slice)
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(HEADER_BYTES + self.slice.len());
        w.u8(VERSION)
            .u64(self.expires_at)
            .bytes(&self.blob.0)
            .u32(self.blob_len as u32)
            .u16(self.index)
            .bytes(&self.slice);
        w.finish()
    }

    /// Encoded length.
    pub fn wire_len(&self) -> usize {
        HEADER_BYTES + self.slice.len()
    }

    /// Its reconciliation id (see [`chunk_item_id`]).
    pub fn item_id(&self) -> [u8; 32] {
        chunk_item_id(&self.blob, self.blob_len, self.index)
    }

    /// The verified ciphertext of this chunk.
    pub fn ciphertext(&self) -> &[u8] {
        &self.data
    }
}

/// Verifies `slice` as chunk `index` of the blob `blob` of `blob_len` bytes;
/// returns the chunk's ciphertext.
fn verify(blob: &BlobId, blob_len: u64, index: u16, slice: &[u8]) -> Result<Vec<u8>, ChunkError> {
    let count = check_blob_len(blob_len)?;
    if index >= count {
        return Err(ChunkError::BadIndex { index, count });
    }
    let header: [u8; 8] =
        slice
            .get(..8)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecodeError::Truncated {
                what: "slice length",
            })?;
    let sliced = u64::from_le_bytes(header);
    if sliced != blob_len {
        return Err(ChunkError::LyingLength {
            declared: blob_len,
            sliced,
        });
    }
    let len = chunk_len(blob_len) as u64;
    let start = u64::from(index) * len;
    let mut input = slice;
    let mut decoder =
        bao::decode::SliceDecoder::new(&mut input, &blake3::Hash::from(blob.0), start, len);
    let mut data = Vec::with_capacity(len as usize);
    match decoder.read_to_end(&mut data) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(ChunkError::WrongSize {
                expected: len,
                got: data.len() as u64,
            });
        }
        Err(_) => return Err(ChunkError::HashMismatch { blob: *blob, index }),
    }
    drop(decoder);
    if data.len() as u64 != len || !input.is_empty() {
        return Err(ChunkError::WrongSize {
            expected: len,
            got: data.len() as u64 + input.len() as u64,
        });
    }
    Ok(data)
}
