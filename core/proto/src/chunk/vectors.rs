//! Test vectors: the values published in `docs/PROTOCOL.md` ("Attachment
//! test vectors") must be exactly what this build computes.

use super::*;

const EXPIRES: u64 = 1_700_604_800;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn computed() -> Vec<(&'static str, String)> {
    let small = seal_attachment_with_key(
        AttachmentKey([0x55; 32]),
        b"water point moved to gate 3",
        Preview {
            name: "note.txt".into(),
            mime: "text/plain".into(),
            duration_ms: Some(1500),
            thumbnail: vec![0xab, 0xcd],
            ..Preview::default()
        },
        EXPIRES,
    )
    .unwrap();
    let large = seal_attachment_with_key(
        AttachmentKey([0x66; 32]),
        &pattern(70_000),
        Preview {
            name: "map.bin".into(),
            ..Preview::default()
        },
        EXPIRES,
    )
    .unwrap();
    // The vectors must open, or they would document a broken attachment.
    let wire: Vec<Chunk> = large
        .chunks
        .iter()
        .map(|c| Chunk::decode(&c.encode()).unwrap())
        .collect();
    assert_eq!(assemble(&large.reference, &wire).unwrap(), pattern(70_000));
    let s0 = small.chunks[0].encode();
    let l1 = large.chunks[1].encode();
    vec![
        ("padme(81)", padme(81).to_string()),
        ("padme(257)", padme(257).to_string()),
        ("blob_len(27)", blob_len_for(27).unwrap().to_string()),
        ("blob_len(70000)", blob_len_for(70_000).unwrap().to_string()),
        (
            "blob_len(5242880)",
            blob_len_for(5 << 20).unwrap().to_string(),
        ),
        ("small.blob", small.reference.blob.to_hex()),
        ("small.reference", hex::encode(small.reference.encode())),
        ("small.chunk0.item", hex::encode(small.chunks[0].item_id())),
        ("small.chunk0.len", s0.len().to_string()),
        ("small.chunk0.head", hex::encode(&s0[..64])),
        (
            "small.chunk0.blake3",
            blake3::hash(&s0).to_hex().to_string(),
        ),
        ("large.blob", large.reference.blob.to_hex()),
        ("large.blob_len", large.reference.blob_len.to_string()),
        ("large.chunk1.len", l1.len().to_string()),
        ("large.chunk1.head", hex::encode(&l1[..64])),
        (
            "large.chunk1.blake3",
            blake3::hash(&l1).to_hex().to_string(),
        ),
    ]
}

#[test]
fn protocol_doc_attachment_vectors_match() {
    let computed = computed();
    let rendered: String = computed
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let documented = crate::doc_vectors::documented("### Attachment test vectors");
    let as_doc: Vec<(String, String)> = computed
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(
        documented, as_doc,
        "docs/PROTOCOL.md attachment test vectors are stale; this build computes:\n{rendered}"
    );
}
