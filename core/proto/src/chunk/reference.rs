//! The attachment reference: what the message itself carries, sealed inside
//! its envelope. It names the blob, holds the key that opens its chunks, and
//! a small preview shown before (or instead of) fetching.

use super::layout::{MAX_ATTACHMENT_BYTES, check_blob_len};
use super::{BlobId, ChunkError, VERSION};
use crate::codec::{Reader, Writer};
use std::fmt;
use zeroize::Zeroize;

/// Longest file name.
pub const MAX_NAME_BYTES: usize = 255;
/// Longest media type.
pub const MAX_MIME_BYTES: usize = 127;
/// Largest inline thumbnail.
pub const MAX_THUMBNAIL_BYTES: usize = 8 * 1024;
/// Largest encoded reference (fits a conversation change beside a 4 KiB text).
pub const MAX_REFERENCE_BYTES: usize =
    1 + 32 + 4 + 32 + 8 + 4 + 1 + MAX_NAME_BYTES + 1 + MAX_MIME_BYTES + 4 + 2 + MAX_THUMBNAIL_BYTES;

/// The random key an attachment's chunks are sealed under; zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentKey(pub [u8; 32]);

impl Drop for AttachmentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttachmentKey(..)")
    }
}

/// What the recipient sees before fetching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// File name as the sender gave it (no path).
    pub name: String,
    /// Media type, e.g. `image/jpeg` ("" when unknown).
    pub mime: String,
    /// The file's true size in bytes.
    pub size: u64,
    /// Length of a voice note or video, in milliseconds.
    pub duration_ms: Option<u32>,
    /// A small inline image (empty when none).
    pub thumbnail: Vec<u8>,
}

impl Preview {
    /// Checks the limits a sender must keep and a receiver enforces.
    pub fn check(&self) -> Result<(), ChunkError> {
        let bad = |s: String| Err(ChunkError::BadPreview(s));
        if self.name.len() > MAX_NAME_BYTES {
            return bad(format!(
                "name is {} bytes, more than {MAX_NAME_BYTES}",
                self.name.len()
            ));
        }
        if self.name.contains(['/', '\\', '\0']) || self.name == "." || self.name == ".." {
            return bad(format!("name {:?} is not a plain file name", self.name));
        }
        if self.mime.len() > MAX_MIME_BYTES {
            return bad(format!(
                "type is {} bytes, more than {MAX_MIME_BYTES}",
                self.mime.len()
            ));
        }
        if self.thumbnail.len() > MAX_THUMBNAIL_BYTES {
            return bad(format!(
                "thumbnail is {} bytes, more than {MAX_THUMBNAIL_BYTES}",
                self.thumbnail.len()
            ));
        }
        if self.size > MAX_ATTACHMENT_BYTES {
            return Err(ChunkError::TooLarge(self.size));
        }
        Ok(())
    }
}

/// An attachment as its message names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRef {
    /// BLAKE3 of the encrypted blob (the bao root).
    pub blob: BlobId,
    /// Padded length of the blob.
    pub blob_len: u64,
    /// The key its chunks are sealed under.
    pub key: AttachmentKey,
    /// When its chunks expire (unix seconds).
    pub expires_at: u64,
    /// Name, type, size and thumbnail.
    pub preview: Preview,
}

impl AttachmentRef {
    /// Chunks of its blob.
    pub fn chunk_count(&self) -> u16 {
        super::layout::chunk_count(self.blob_len)
    }

    /// Encodes the reference.
    pub fn encode(&self) -> Vec<u8> {
        let p = &self.preview;
        let mut w = Writer::with_capacity(128 + p.thumbnail.len());
        w.u8(VERSION)
            .bytes(&self.blob.0)
            .u32(self.blob_len as u32)
            .bytes(&self.key.0)
            .u64(self.expires_at)
            .u32(p.size as u32)
            .short_bytes(p.name.as_bytes())
            .short_bytes(p.mime.as_bytes())
            .u32(p.duration_ms.unwrap_or(0))
            .u16(p.thumbnail.len() as u16)
            .bytes(&p.thumbnail);
        w.finish()
    }

    /// Decodes and checks untrusted reference bytes.
    pub fn decode(bytes: &[u8]) -> Result<AttachmentRef, ChunkError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("reference version")?;
        if version != VERSION {
            return Err(ChunkError::UnsupportedVersion(version));
        }
        let blob = BlobId(r.array("blob id")?);
        let blob_len = u64::from(r.u32("blob length")?);
        check_blob_len(blob_len)?;
        let key = AttachmentKey(r.array("attachment key")?);
        let expires_at = r.u64("chunk expiry")?;
        let size = u64::from(r.u32("file size")?);
        let name = r.short_str(MAX_NAME_BYTES, "file name")?.to_owned();
        let mime = r.short_str(MAX_MIME_BYTES, "media type")?.to_owned();
        let duration_ms = Some(r.u32("duration")?).filter(|&d| d != 0);
        let thumb_len = r.u16("thumbnail length")? as usize;
        if thumb_len > MAX_THUMBNAIL_BYTES {
            return Err(crate::codec::DecodeError::TooLong {
                what: "thumbnail",
                len: thumb_len,
                max: MAX_THUMBNAIL_BYTES,
            }
            .into());
        }
        let thumbnail = r.bytes(thumb_len, "thumbnail")?.to_vec();
        r.finish()?;
        let preview = Preview {
            name,
            mime,
            size,
            duration_ms,
            thumbnail,
        };
        preview.check()?;
        // The padding is canonical: a sender cannot pick an odd bucket that
        // would single its attachments out.
        if super::layout::blob_len_for(size)? != blob_len {
            return Err(ChunkError::BadPreview(format!(
                "a {size}-byte file is not padded to a blob of {blob_len} bytes"
            )));
        }
        Ok(AttachmentRef {
            blob,
            blob_len,
            key,
            expires_at,
            preview,
        })
    }
}
