use super::*;
use crate::store::{EnvelopeClass, EnvelopeRecord, Store, StoreLimits};
use pollen_proto::chunk::{AttachmentRef, ChunkError, Preview, SealedAttachment, seal_attachment};
use pollen_proto::envelope::{Commitment, RoutingTag};

const NOW: u64 = 1_700_000_000;

fn sealed(n: usize, seed: u8) -> SealedAttachment {
    let data: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(seed)).collect();
    let preview = Preview {
        name: "photo.jpg".into(),
        ..Preview::default()
    };
    seal_attachment(&data, preview, NOW + 86_400).unwrap()
}

fn receive(
    s: &Store,
    bytes: &[u8],
    origin: &str,
    limits: &ChunkLimits,
) -> Result<ChunkOutcome, ChunkRejection> {
    s.transaction(|s| s.receive_chunk(bytes, 1, origin, NOW, limits))
        .unwrap()
}

#[test]
fn chunks_from_anyone_resume_into_the_file_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    let a = sealed(300_000, 7);
    let r = &a.reference;
    let limits = ChunkLimits::default();
    {
        let s = Store::open(&path, StoreLimits::default()).unwrap();
        s.want_blob(&r.blob, r.blob_len, ChunkClass::Wanted)
            .unwrap();
        // Half from one neighbour, then the link breaks.
        for c in &a.chunks[..2] {
            let got = receive(&s, &c.encode(), "tcp:bo", &limits).unwrap();
            assert_eq!(
                got,
                ChunkOutcome::Stored {
                    class: ChunkClass::Wanted,
                    evicted: 0
                }
            );
        }
        assert_eq!(
            s.attachment_progress(r).unwrap(),
            Progress {
                have: 2,
                need: 5,
                asked: Asked::Everywhere
            }
        );
        assert!(matches!(
            s.assemble_attachment(r),
            Err(AssembleError::Chunk(ChunkError::Incomplete {
                have: 2,
                need: 5
            }))
        ));
    }
    let s = Store::open(&path, StoreLimits::default()).unwrap();
    // The rest from another neighbour, with one duplicate.
    for c in &a.chunks[1..] {
        receive(&s, &c.encode(), "tcp:dee", &limits).unwrap();
    }
    assert!(s.attachment_progress(r).unwrap().complete());
    let data: Vec<u8> = (0..300_000).map(|i| (i as u8).wrapping_mul(7)).collect();
    assert_eq!(s.assemble_attachment(r).unwrap(), data);
}

#[test]
fn a_wrong_hash_or_lying_length_is_refused_and_the_partial_file_stays_consistent() {
    let s = Store::in_memory(StoreLimits::default()).unwrap();
    let a = sealed(70_000, 3);
    let limits = ChunkLimits::default();
    receive(&s, &a.chunks[0].encode(), "tcp:bo", &limits).unwrap();
    let before = (
        s.chunk_usage().unwrap(),
        s.attachment_progress(&a.reference).unwrap(),
    );

    let mut wrong = a.chunks[1].encode();
    let last = wrong.len() - 1;
    wrong[last] ^= 1;
    let err = receive(&s, &wrong, "tcp:evil", &limits).unwrap_err();
    assert!(err.to_string().contains("wrong hash"), "{err}");

    let mut lying = a.chunks[1].encode();
    lying[41..45].copy_from_slice(&(4u32 << 16).to_le_bytes());
    let err = receive(&s, &lying, "tcp:evil", &limits).unwrap_err();
    assert!(
        err.to_string().contains("lies about its blob's length"),
        "{err}"
    );

    assert_eq!(
        (
            s.chunk_usage().unwrap(),
            s.attachment_progress(&a.reference).unwrap()
        ),
        before
    );
    receive(&s, &a.chunks[1].encode(), "tcp:dee", &limits).unwrap();
    assert_eq!(s.assemble_attachment(&a.reference).unwrap().len(), 70_000);
}

#[test]
fn a_stranger_flood_never_evicts_own_or_wanted_chunks_nor_text() {
    let s = Store::in_memory(StoreLimits::default()).unwrap();
    let limits = ChunkLimits {
        carried_bytes: 300_000,
        per_origin_bytes: 200_000,
    };
    // A text envelope, own and wanted attachments.
    let text = EnvelopeRecord {
        id: pollen_proto::envelope::EnvelopeId([1; 32]),
        bytes: vec![0; 512],
        expires_at: NOW + 3600,
        tag: RoutingTag([2; 8]),
        commitment: Commitment([3; 32]),
        class: EnvelopeClass::Carried,
        copies: 1,
    };
    s.insert_envelope(&text, "tcp:friend", NOW).unwrap();
    let own = sealed(70_000, 5);
    for c in &own.chunks {
        s.put_own_chunk(c, NOW).unwrap();
    }
    let wanted = sealed(70_000, 9);
    s.want_blob(
        &wanted.reference.blob,
        wanted.reference.blob_len,
        ChunkClass::Wanted,
    )
    .unwrap();
    for c in &wanted.chunks {
        receive(&s, &c.encode(), "tcp:friend", &limits).unwrap();
    }
    // Twelve 64 KiB chunks from three stranger addresses: each origin is capped,
    // and the total stays under the carried quota by evicting carried only.
    let flood: Vec<SealedAttachment> = (0..3).map(|i| sealed(250_000, 11 + i)).collect();
    let (mut refused, mut evicted) = (0, 0);
    for (i, a) in flood.iter().enumerate() {
        for c in &a.chunks {
            match receive(&s, &c.encode(), &format!("tcp:stranger{i}"), &limits) {
                Ok(ChunkOutcome::Stored { evicted: n, .. }) => evicted += n,
                Ok(ChunkOutcome::Duplicate) => {}
                Err(_) => refused += 1,
            }
        }
    }
    assert!(evicted > 0, "carried chunks make room for carried chunks");
    let u = s.chunk_usage().unwrap();
    assert!(u.carried.1 <= limits.carried_bytes, "{u:?}");
    assert!(refused > 0, "a per-origin quota must bite");
    assert_eq!(u.own.0, 2);
    assert_eq!(u.wanted.0, 2);
    assert_eq!(s.usage().unwrap().count(), 1, "the text envelope stays");
    assert_eq!(s.assemble_attachment(&own.reference).unwrap().len(), 70_000);
    assert_eq!(
        s.assemble_attachment(&wanted.reference).unwrap().len(),
        70_000
    );
}

#[test]
fn a_chunk_that_came_before_its_message_is_promoted_when_wanted() {
    let s = Store::in_memory(StoreLimits::default()).unwrap();
    let a = sealed(5000, 2);
    let limits = ChunkLimits::default();
    let got = receive(&s, &a.chunks[0].encode(), "tcp:bo", &limits).unwrap();
    assert_eq!(
        got,
        ChunkOutcome::Stored {
            class: ChunkClass::Carried,
            evicted: 0
        }
    );
    s.want_blob(&a.reference.blob, a.reference.blob_len, ChunkClass::Wanted)
        .unwrap();
    assert_eq!(s.chunk_usage().unwrap().wanted.0, 1);
    assert_eq!(
        receive(&s, &a.chunks[0].encode(), "tcp:dee", &limits).unwrap(),
        ChunkOutcome::Duplicate
    );
    let r: AttachmentRef = AttachmentRef::decode(&a.reference.encode()).unwrap();
    assert!(s.attachment_progress(&r).unwrap().complete());
    assert_eq!(s.chunk_index(NOW).unwrap().len(), 1);
    assert_eq!(s.drop_expired_chunks(NOW + 86_400).unwrap(), 1);
}

/// A neighbour claiming a huge budget gets the chunk kept with at most
/// [`crate::routing::CHUNK_COPIES`]; a blob becomes one this node names
/// in `Wanted` while it lacks chunks of it, and stops once whole.
#[test]
fn a_claimed_budget_is_capped_and_wanted_blobs_are_the_incomplete_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("node.db"), StoreLimits::default()).unwrap();
    let a = sealed(100_000, 3);
    let r = &a.reference;
    let limits = ChunkLimits::default();
    let first = a.chunks[0].encode();
    s.transaction(|s| s.receive_chunk(&first, u32::MAX, "tcp:flood", NOW, &limits))
        .unwrap()
        .unwrap();
    let id = a.chunks[0].item_id();
    assert_eq!(
        s.chunk_copies(&id).unwrap(),
        Some(crate::routing::CHUNK_COPIES)
    );
    assert!(s.incomplete_wanted_blobs(true).unwrap().is_empty());
    s.want_blob(&r.blob, r.blob_len, ChunkClass::Wanted)
        .unwrap();
    assert_eq!(
        s.incomplete_wanted_blobs(true).unwrap(),
        vec![(r.blob, r.blob_len)]
    );
    let missing = s.missing_chunk_ids(&r.blob, r.blob_len).unwrap();
    assert_eq!(missing.len(), a.chunks.len() - 1);
    assert!(!missing.contains(&id));
    for c in &a.chunks[1..] {
        receive(&s, &c.encode(), "tcp:bo", &limits).unwrap();
    }
    assert!(s.incomplete_wanted_blobs(true).unwrap().is_empty());
    // Spending a budget keeps what is left.
    s.spend_chunk_copies(&id, 3).unwrap();
    assert_eq!(s.chunk_copies(&id).unwrap(), Some(3));
}
