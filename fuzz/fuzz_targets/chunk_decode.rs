//! Chunk and attachment-reference decoding on arbitrary bytes: must never
//! panic, and whatever decodes (and so verified against its blob id) must
//! re-encode to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::chunk::{AttachmentRef, Chunk};

fuzz_target!(|data: &[u8]| {
    if let Ok(chunk) = Chunk::decode(data) {
        assert_eq!(chunk.encode(), data);
        assert_eq!(
            chunk.ciphertext().len(),
            pollen_proto::chunk::chunk_len(chunk.blob_len)
        );
    }
    if let Ok(reference) = AttachmentRef::decode(data) {
        assert_eq!(reference.encode(), data);
    }
});
