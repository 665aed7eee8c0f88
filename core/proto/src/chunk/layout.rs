//! Sizes: how a file of `n` bytes becomes a padded blob of chunks.
//!
//! A blob is the concatenation of its chunks' ciphertexts. A small file makes
//! a one-chunk blob of 4, 16 or 64 KiB; a larger one a blob of `k` chunks of
//! exactly [`CHUNK_BYTES`], with `k` rounded up by Padmé (at most 12 %
//! overhead, and the rounded count leaks O(log log k) bits). Every chunk of
//! a large blob is the same size on the wire, whichever file it came from.

use super::ChunkError;

/// Ciphertext bytes of every chunk of a multi-chunk blob (a power of two,
/// so chunks line up with BLAKE3's 1 KiB leaves).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Poly1305 tag at the end of every chunk's ciphertext.
pub const CHUNK_TAG_BYTES: usize = 16;
/// Plaintext bytes a full chunk carries.
const CHUNK_PLAIN: usize = CHUNK_BYTES - CHUNK_TAG_BYTES;
/// The lengths a one-chunk blob may have.
pub const SMALL_BLOBS: [usize; 3] = [4 * 1024, 16 * 1024, CHUNK_BYTES];
/// Largest file an attachment carries.
pub const MAX_ATTACHMENT_BYTES: u64 = 16 * 1024 * 1024;
/// Most chunks of a blob: Padmé of the chunks a maximal file needs.
pub const MAX_CHUNKS: usize = padme(MAX_ATTACHMENT_BYTES.div_ceil(CHUNK_PLAIN as u64) as usize);
/// Longest blob.
pub const MAX_BLOB_BYTES: u64 = (MAX_CHUNKS * CHUNK_BYTES) as u64;

/// Padmé (Nikitin et al., PETS 2019): rounds `n` up so that only its
/// top `floor(log2(floor(log2 n))) + 1` bits may be non-zero.
pub const fn padme(n: usize) -> usize {
    if n <= 2 {
        return n;
    }
    let e = usize::BITS - 1 - n.leading_zeros(); // floor(log2 n), >= 1
    let s = u32::BITS - 1 - e.leading_zeros() + 1; // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (n + mask) & !mask
}

/// The padded blob length for a file of `size` bytes.
pub fn blob_len_for(size: u64) -> Result<u64, ChunkError> {
    if size > MAX_ATTACHMENT_BYTES {
        return Err(ChunkError::TooLarge(size));
    }
    let sealed = size + CHUNK_TAG_BYTES as u64;
    if let Some(&small) = SMALL_BLOBS.iter().find(|&&b| b as u64 >= sealed) {
        return Ok(small as u64);
    }
    let k = size.div_ceil(CHUNK_PLAIN as u64) as usize;
    Ok((padme(k) * CHUNK_BYTES) as u64)
}

/// Checks that `blob_len` is a length [`blob_len_for`] can produce; returns
/// its chunk count.
pub fn check_blob_len(blob_len: u64) -> Result<u16, ChunkError> {
    let bad = ChunkError::BadBlobLength(blob_len);
    if SMALL_BLOBS.iter().any(|&b| b as u64 == blob_len) {
        return Ok(1);
    }
    if blob_len == 0 || blob_len > MAX_BLOB_BYTES || !blob_len.is_multiple_of(CHUNK_BYTES as u64) {
        return Err(bad);
    }
    let k = (blob_len / CHUNK_BYTES as u64) as usize;
    if padme(k) != k {
        return Err(bad);
    }
    Ok(k as u16)
}

/// Chunks of a valid blob (0 for an invalid length).
pub fn chunk_count(blob_len: u64) -> u16 {
    check_blob_len(blob_len).unwrap_or(0)
}

/// Ciphertext bytes of each chunk of a valid blob.
pub fn chunk_len(blob_len: u64) -> usize {
    if chunk_count(blob_len) == 1 {
        blob_len as usize
    } else {
        CHUNK_BYTES
    }
}

/// Plaintext bytes a valid blob carries.
pub fn capacity(blob_len: u64) -> u64 {
    let k = chunk_count(blob_len) as u64;
    k * (chunk_len(blob_len) - CHUNK_TAG_BYTES) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_matches_the_paper() {
        let got: Vec<usize> = [1, 2, 3, 5, 8, 9, 17, 33, 81, 257]
            .iter()
            .map(|&n| padme(n))
            .collect();
        assert_eq!(got, [1, 2, 3, 5, 8, 10, 18, 36, 88, 272]);
        for n in 1..2000 {
            let p = padme(n);
            assert!(p >= n && (p - n) * 100 <= n * 12 + 100, "{n} -> {p}");
            assert_eq!(padme(p), p, "a bucket is its own bucket");
        }
    }

    #[test]
    fn blob_lengths_are_buckets_and_fit() {
        assert_eq!(MAX_CHUNKS, 272);
        for size in [
            0u64,
            1,
            4080,
            4081,
            16368,
            65520,
            65521,
            5 << 20,
            MAX_ATTACHMENT_BYTES,
        ] {
            let len = blob_len_for(size).unwrap();
            check_blob_len(len).unwrap();
            assert!(capacity(len) >= size, "{size} in {len}");
        }
        assert_eq!(blob_len_for(5 << 20).unwrap(), 88 * CHUNK_BYTES as u64);
        assert!(blob_len_for(MAX_ATTACHMENT_BYTES + 1).is_err());
        for bad in [
            0,
            1000,
            9 * CHUNK_BYTES as u64,
            MAX_BLOB_BYTES + CHUNK_BYTES as u64,
        ] {
            assert_eq!(check_blob_len(bad), Err(ChunkError::BadBlobLength(bad)));
        }
    }
}
