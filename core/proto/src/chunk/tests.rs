use super::companion::{HEADER_BYTES, MAX_CHUNK_WIRE_BYTES};
use super::*;
use proptest::prelude::*;

const EXPIRES: u64 = 1_700_604_800;

fn file(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn sealed(n: usize) -> SealedAttachment {
    let preview = Preview {
        name: "map.jpg".into(),
        mime: "image/jpeg".into(),
        ..Preview::default()
    };
    seal_attachment(&file(n), preview, EXPIRES).unwrap()
}

#[test]
fn files_round_trip_through_chunks_in_any_order() {
    for n in [0, 1, 4080, 4081, 70_000, 300_000] {
        let s = sealed(n);
        assert_eq!(s.chunks.len(), s.reference.chunk_count() as usize);
        let mut wire: Vec<Chunk> = s
            .chunks
            .iter()
            .map(|c| Chunk::decode(&c.encode()).unwrap())
            .rev()
            .collect();
        let half = wire.len() / 2;
        wire.rotate_left(half);
        assert_eq!(assemble(&s.reference, &wire).unwrap(), file(n), "{n} bytes");
        let r = AttachmentRef::decode(&s.reference.encode()).unwrap();
        assert_eq!(r, s.reference);
        assert_eq!(r.preview.size, n as u64);
    }
}

#[test]
fn every_chunk_of_a_large_blob_is_the_same_size_on_the_wire() {
    let s = sealed(300_000);
    assert_eq!(s.reference.blob_len, 5 * CHUNK_BYTES as u64);
    // The slice's tree nodes depend on the position, the data does not.
    for c in &s.chunks {
        assert_eq!(c.ciphertext().len(), CHUNK_BYTES);
        assert!(c.wire_len() <= MAX_CHUNK_WIRE_BYTES);
    }
}

#[test]
fn a_wrong_hash_is_refused() {
    let s = sealed(70_000);
    let mut bytes = s.chunks[1].encode();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert_eq!(
        Chunk::decode(&bytes),
        Err(ChunkError::HashMismatch {
            blob: s.reference.blob,
            index: 1
        })
    );
    // Claiming another blob id is a wrong hash too.
    let mut other = s.chunks[0].encode();
    other[9] ^= 0x80;
    assert!(matches!(
        Chunk::decode(&other),
        Err(ChunkError::HashMismatch { index: 0, .. })
    ));
}

#[test]
fn a_lying_length_is_refused() {
    let s = sealed(70_000);
    let good = s.chunks[0].encode();
    // The header claims a 4-chunk blob while the slice says 2.
    let mut lie = good.clone();
    lie[41..45].copy_from_slice(&(4 * CHUNK_BYTES as u32).to_le_bytes());
    assert_eq!(
        Chunk::decode(&lie),
        Err(ChunkError::LyingLength {
            declared: 4 * CHUNK_BYTES as u64,
            sliced: 2 * CHUNK_BYTES as u64
        })
    );
    // A length that is no padding bucket at all.
    let mut odd = good.clone();
    odd[41..45].copy_from_slice(&100_000u32.to_le_bytes());
    assert_eq!(Chunk::decode(&odd), Err(ChunkError::BadBlobLength(100_000)));
    // Too short, too long, past the end.
    assert!(matches!(
        Chunk::decode(&good[..good.len() - 10]),
        Err(ChunkError::WrongSize { .. } | ChunkError::HashMismatch { .. })
    ));
    let mut long = good.clone();
    long.extend_from_slice(&[0; 7]);
    assert!(matches!(
        Chunk::decode(&long),
        Err(ChunkError::WrongSize { .. })
    ));
    let mut past = good.clone();
    past[45..47].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        Chunk::decode(&past),
        Err(ChunkError::BadIndex { index: 2, count: 2 })
    );
    assert!(matches!(
        Chunk::decode(&good[..HEADER_BYTES + 3]),
        Err(ChunkError::Decode(_))
    ));
    let mut v2 = good;
    v2[0] = 2;
    assert_eq!(Chunk::decode(&v2), Err(ChunkError::UnsupportedVersion(2)));
}

#[test]
fn chunks_open_only_with_their_reference() {
    let a = sealed(5000);
    let b = sealed(5000);
    assert_ne!(a.reference.blob, b.reference.blob, "fresh key, fresh blob");
    assert_eq!(
        open_chunk(&a.reference, &b.chunks[0]).map(|_| ()),
        Err(ChunkError::WrongBlob)
    );
    let mut wrong_key = a.reference.clone();
    wrong_key.key = AttachmentKey([9; 32]);
    assert_eq!(
        open_chunk(&wrong_key, &a.chunks[0]).map(|_| ()),
        Err(ChunkError::Decrypt(0))
    );
    assert_eq!(
        assemble(&a.reference, &[]),
        Err(ChunkError::Incomplete { have: 0, need: 1 })
    );
}

#[test]
fn references_refuse_lies() {
    let s = sealed(70_000);
    let good = s.reference.encode();
    let mut v = good.clone();
    v[0] = 9;
    assert_eq!(
        AttachmentRef::decode(&v),
        Err(ChunkError::UnsupportedVersion(9))
    );
    // A 70,000-byte file padded to 4 chunks instead of 2.
    let mut padded = good.clone();
    padded[33..37].copy_from_slice(&(4 * CHUNK_BYTES as u32).to_le_bytes());
    assert!(matches!(
        AttachmentRef::decode(&padded),
        Err(ChunkError::BadPreview(_))
    ));
    let mut trailing = good;
    trailing.push(0);
    assert!(matches!(
        AttachmentRef::decode(&trailing),
        Err(ChunkError::Decode(_))
    ));
    let bad_name = Preview {
        name: "../etc/passwd".into(),
        ..Preview::default()
    };
    assert!(matches!(
        seal_attachment(b"x", bad_name, EXPIRES),
        Err(ChunkError::BadPreview(_))
    ));
    let thumb = Preview {
        thumbnail: vec![0; 9000],
        ..Preview::default()
    };
    assert!(matches!(
        seal_attachment(b"x", thumb, EXPIRES),
        Err(ChunkError::BadPreview(_))
    ));
}

#[test]
fn item_ids_are_distinct_per_chunk_and_length() {
    let s = sealed(300_000);
    let mut ids: Vec<[u8; 32]> = s.chunks.iter().map(Chunk::item_id).collect();
    ids.push(chunk_item_id(&s.reference.blob, 8 * CHUNK_BYTES as u64, 0));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), s.chunks.len() + 1);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(c) = Chunk::decode(&bytes) {
            prop_assert_eq!(c.encode(), bytes.clone());
        }
        if let Ok(r) = AttachmentRef::decode(&bytes) {
            prop_assert_eq!(r.encode(), bytes);
        }
    }

    #[test]
    fn mutated_chunks_never_verify(pos in 0usize..5000, bit in 0u8..8) {
        let s = sealed(4000);
        let mut bytes = s.chunks[0].encode();
        let pos = pos % bytes.len();
        // The expiry is the one field a carrier may not be held to.
        prop_assume!(!(1..9).contains(&pos));
        bytes[pos] ^= 1 << bit;
        prop_assert!(Chunk::decode(&bytes).is_err());
    }
}

#[test]
fn documented_limits_hold() {
    assert_eq!(MAX_CHUNK_WIRE_BYTES, 70_711);
    assert_eq!(MAX_REFERENCE_BYTES, 8_663);
}
