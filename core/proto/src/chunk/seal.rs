//! Splitting a file into sealed chunks, and opening them again.
//!
//! Each chunk is sealed like a shared envelope body: XChaCha20-Poly1305
//! under `HKDF-SHA256(no salt, attachment key, "pollen v1 chunk aead")`, with
//! the chunk index as nonce (the key is fresh for every attachment, so a
//! nonce never repeats under one key) and `"pollen v1 chunk" || blob_len u32`
//! as associated data.

use super::companion::Chunk;
use super::layout::{CHUNK_TAG_BYTES, blob_len_for, chunk_count, chunk_len};
use super::reference::{AttachmentKey, AttachmentRef, Preview};
use super::{BlobId, ChunkError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use std::io::{Cursor, Read};
use zeroize::{Zeroize, Zeroizing};

const CHUNK_AEAD_INFO: &[u8] = b"pollen v1 chunk aead";
const CHUNK_AAD: &[u8] = b"pollen v1 chunk";

/// A sealed attachment: the reference for the message, and the chunks.
#[derive(Clone, Debug)]
pub struct SealedAttachment {
    /// What the message carries.
    pub reference: AttachmentRef,
    /// The chunks, in order.
    pub chunks: Vec<Chunk>,
}

fn cipher(key: &AttachmentKey) -> XChaCha20Poly1305 {
    let mut k = [0u8; 32];
    Hkdf::<Sha256>::new(None, &key.0)
        .expand(CHUNK_AEAD_INFO, &mut k)
        // 32 bytes is far below HKDF-SHA256's output limit.
        .expect("32-byte HKDF output is always valid");
    let c = XChaCha20Poly1305::new(&k.into());
    k.zeroize();
    c
}

fn nonce(index: u16) -> XNonce {
    let mut n = [0u8; 24];
    n[..2].copy_from_slice(&index.to_le_bytes());
    XNonce::from(n)
}

fn aad(blob_len: u64) -> Vec<u8> {
    let mut a = CHUNK_AAD.to_vec();
    a.extend_from_slice(&(blob_len as u32).to_le_bytes());
    a
}

/// Seals `data` under a fresh random key (see [`seal_attachment_with_key`]).
pub fn seal_attachment(
    data: &[u8],
    preview: Preview,
    expires_at: u64,
) -> Result<SealedAttachment, ChunkError> {
    let mut key = AttachmentKey([0u8; 32]);
    crate::random::fill(&mut key.0).map_err(|e| ChunkError::Random(e.to_string()))?;
    seal_attachment_with_key(key, data, preview, expires_at)
}

/// Pads `data` to its blob's capacity, seals each chunk under `key`, hashes
/// the blob and cuts it into verified slices. `preview.size` is set to
/// `data.len()`.
pub fn seal_attachment_with_key(
    key: AttachmentKey,
    data: &[u8],
    mut preview: Preview,
    expires_at: u64,
) -> Result<SealedAttachment, ChunkError> {
    preview.size = data.len() as u64;
    preview.check()?;
    let blob_len = blob_len_for(preview.size)?;
    let count = chunk_count(blob_len);
    let ct_len = chunk_len(blob_len);
    let pt_len = ct_len - CHUNK_TAG_BYTES;
    let c = cipher(&key);
    let ad = aad(blob_len);
    let mut blob = Vec::with_capacity(blob_len as usize);
    let mut plain = Zeroizing::new(vec![0u8; pt_len]);
    for index in 0..count {
        let start = (index as usize * pt_len).min(data.len());
        let end = (start + pt_len).min(data.len());
        plain.fill(0);
        plain[..end - start].copy_from_slice(&data[start..end]);
        let ct = c
            .encrypt(
                &nonce(index),
                Payload {
                    msg: &plain,
                    aad: &ad,
                },
            )
            .map_err(|_| ChunkError::Decrypt(index))?;
        blob.extend_from_slice(&ct);
    }
    debug_assert_eq!(blob.len() as u64, blob_len);
    let (outboard, hash) = bao::encode::outboard(&blob);
    let blob_id = BlobId(*hash.as_bytes());
    let mut chunks = Vec::with_capacity(count as usize);
    for index in 0..count {
        let start = index as u64 * ct_len as u64;
        let mut slice = Vec::with_capacity(ct_len + 1024);
        bao::encode::SliceExtractor::new_outboard(
            Cursor::new(&blob),
            Cursor::new(&outboard),
            start,
            ct_len as u64,
        )
        .read_to_end(&mut slice)
        .map_err(|_| ChunkError::HashMismatch {
            blob: blob_id,
            index,
        })?;
        chunks.push(Chunk::from_slice(
            expires_at, blob_id, blob_len, index, slice,
        )?);
    }
    Ok(SealedAttachment {
        reference: AttachmentRef {
            blob: blob_id,
            blob_len,
            key,
            expires_at,
            preview,
        },
        chunks,
    })
}

/// Opens one verified chunk of `reference`: its plaintext part (before
/// the file is cut to its true size).
pub fn open_chunk(
    reference: &AttachmentRef,
    chunk: &Chunk,
) -> Result<Zeroizing<Vec<u8>>, ChunkError> {
    if chunk.blob != reference.blob || chunk.blob_len != reference.blob_len {
        return Err(ChunkError::WrongBlob);
    }
    cipher(&reference.key)
        .decrypt(
            &nonce(chunk.index),
            Payload {
                msg: chunk.ciphertext(),
                aad: &aad(reference.blob_len),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| ChunkError::Decrypt(chunk.index))
}

/// Opens every chunk of `reference` (in any order, each exactly once) and
/// returns the file.
pub fn assemble(reference: &AttachmentRef, chunks: &[Chunk]) -> Result<Vec<u8>, ChunkError> {
    let count = reference.chunk_count() as usize;
    let mut slots: Vec<Option<&Chunk>> = vec![None; count];
    for c in chunks {
        if c.blob != reference.blob || c.blob_len != reference.blob_len {
            return Err(ChunkError::WrongBlob);
        }
        if let Some(slot) = slots.get_mut(c.index as usize) {
            *slot = Some(c);
        }
    }
    let have = slots.iter().filter(|s| s.is_some()).count();
    if have < count {
        return Err(ChunkError::Incomplete { have, need: count });
    }
    let mut out = Vec::with_capacity(reference.preview.size as usize);
    for c in slots.into_iter().flatten() {
        let plain = open_chunk(reference, c)?;
        let take = (reference.preview.size as usize - out.len()).min(plain.len());
        out.extend_from_slice(&plain[..take]);
    }
    Ok(out)
}
