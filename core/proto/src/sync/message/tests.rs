//! Round trips, documented vectors and hostile bytes for session messages.

use super::*;
use proptest::prelude::*;

fn samples() -> Vec<Message> {
    vec![
        Message::Hello {
            window: 1 << 20,
            port: 7745,
            direct: vec![[1; 8], [2; 8]],
            shared: vec![[3; 8]],
            encounters: None,
            short: false,
            days: None,
        },
        Message::Hello {
            window: 1 << 20,
            port: 7745,
            direct: vec![[1, 2, 3, 4, 0, 0, 0, 0]],
            shared: vec![[5, 6, 7, 8, 0, 0, 0, 0], [9, 9, 9, 9, 0, 0, 0, 0]],
            encounters: None,
            short: true,
            days: None,
        },
        Message::Hello {
            window: 4096,
            port: 0,
            direct: vec![],
            shared: vec![],
            encounters: Some(EncounterSummary::build(
                20_454,
                vec![[5; 8]],
                &[([6; 8], 200), ([7; 8], 30)],
                &[191, 128, 64, 26],
            )),
            short: false,
            days: None,
        },
        Message::Hello {
            window: 4096,
            port: 7745,
            direct: vec![],
            shared: vec![],
            encounters: None,
            short: true,
            days: Some(HeldDays::From {
                first: 20_454,
                mask: 0b1000_0001,
            }),
        },
        Message::Hello {
            window: 1,
            port: 0,
            direct: vec![],
            shared: vec![],
            encounters: Some(EncounterSummary::build(20_454, vec![[5; 8]], &[], &[])),
            short: true,
            days: Some(HeldDays::Every),
        },
        Message::Tags {
            direct: vec![[1, 2, 3, 4, 0, 0, 0, 0]],
            shared: vec![],
        },
        Message::Recon(vec![0x61, 1, 2, 3]),
        Message::Want {
            last: true,
            ids: vec![[9; 32]],
        },
        Message::Envelope(vec![1; 512]),
        Message::Proof([7; 32]),
        Message::Ack(42),
        Message::Done,
        Message::Close("peer idle".into()),
        Message::Copy {
            copies: 8,
            envelope: vec![2; 300],
        },
        Message::Chunk(vec![1, 2, 3]),
        Message::Offer {
            last: false,
            ids: vec![[4; 32], [5; 32]],
        },
        Message::Wanted {
            blobs: vec![[8; 8]],
            ids: vec![[6; 32]],
        },
        Message::ChunkCopy {
            copies: 4,
            chunk: vec![3; 100],
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for m in samples() {
        assert_eq!(Message::decode(&m.encode()), Ok(m));
    }
}

#[test]
fn lying_counts_and_unknown_types_are_refused() {
    assert_eq!(Message::decode(&[]), Err(MessageError::Empty));
    assert_eq!(Message::decode(&[99]), Err(MessageError::UnknownType(99)));
    // A want list claiming 65535 ids in 3 bytes.
    assert!(matches!(
        Message::decode(&[T_WANT, 0, 0xff, 0xff]),
        Err(MessageError::Decode(DecodeError::TooLong { .. }))
    ));
    assert!(matches!(
        Message::decode(&[T_WANT, 0, 2, 0, 1, 2]),
        Err(MessageError::Decode(DecodeError::Truncated { .. }))
    ));
    assert!(Message::decode(&[T_DONE, 0]).is_err());
    assert!(Message::decode(&[T_WANT, 7, 0, 0]).is_err());
    assert!(Message::decode(&[T_OFFER, 2, 0, 0]).is_err());
    assert!(matches!(
        Message::decode(&[T_OFFER, 1, 0xff, 0xff]),
        Err(MessageError::Decode(DecodeError::TooLong { .. }))
    ));
    // A copy with no budget, and one whose budget is cut short.
    assert!(matches!(
        Message::decode(&[T_COPY, 0, 0, 0, 0, 1, 2, 3]),
        Err(MessageError::Decode(DecodeError::Invalid {
            what: "copies",
            ..
        }))
    ));
    assert!(matches!(
        Message::decode(&[T_COPY, 1, 0]),
        Err(MessageError::Decode(DecodeError::Truncated { .. }))
    ));
}

#[test]
fn copy_matches_the_documented_vectors() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    for copies in [16, 0x0102_0304] {
        let name = if copies == 16 {
            "copy(copies 16, envelope eeeeee)"
        } else {
            "copy(copies 0x01020304, envelope eeeeee)"
        };
        let m = Message::Copy {
            copies,
            envelope: vec![0xee; 3],
        };
        assert_eq!(hex::encode(m.encode()), value(name));
        assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
    }
    assert_eq!(value("copy(copies 0)"), "malformed");
    assert!(Message::decode(&hex::decode("0900000000eeeeee").unwrap()).is_err());
}

#[test]
fn wanted_and_chunk_copy_match_the_documented_vectors() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    let cases = [
        (
            "wanted(blob 08x8, no ids)",
            Message::Wanted {
                blobs: vec![[8; 8]],
                ids: vec![],
            },
        ),
        (
            "wanted(no blobs, id 06x32)",
            Message::Wanted {
                blobs: vec![],
                ids: vec![[6; 32]],
            },
        ),
        (
            "chunk_copy(copies 4, chunk cccccc)",
            Message::ChunkCopy {
                copies: 4,
                chunk: vec![0xcc; 3],
            },
        ),
    ];
    for (name, m) in cases {
        assert_eq!(hex::encode(m.encode()), value(name));
        assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
    }
    assert_eq!(value("chunk_copy(copies 0)"), "malformed");
    assert!(Message::decode(&hex::decode("0d00000000cccccc").unwrap()).is_err());
    // 257 blobs claimed: over the cap before anything is read.
    assert!(matches!(
        Message::decode(&[T_WANTED, 0x01, 0x01]),
        Err(MessageError::Decode(DecodeError::TooLong { .. }))
    ));
}

#[test]
fn offer_matches_the_documented_vectors() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    let cases = [
        ("offer(last, no ids)", true, vec![]),
        ("offer(not last, id 07x32)", false, vec![[7; 32]]),
    ];
    for (name, last, ids) in cases {
        let m = Message::Offer { last, ids };
        assert_eq!(hex::encode(m.encode()), value(name));
        assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
    }
}

#[test]
fn held_days_hello_and_tags_match_the_documented_vectors() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    let cases = [
        (
            "hello, version 8 (window 4096, port 7745, days 20454 and 20461)",
            Message::Hello {
                window: 4096,
                port: 7745,
                direct: vec![],
                shared: vec![],
                encounters: None,
                short: true,
                days: Some(HeldDays::From {
                    first: 20_454,
                    mask: 0b1000_0001,
                }),
            },
        ),
        (
            "hello, version 8 (window 4096, port 0, every day)",
            Message::Hello {
                window: 4096,
                port: 0,
                direct: vec![],
                shared: vec![],
                encounters: None,
                short: true,
                days: Some(HeldDays::Every),
            },
        ),
        (
            "tags(direct 01020304, no shared)",
            Message::Tags {
                direct: vec![[1, 2, 3, 4, 0, 0, 0, 0]],
                shared: vec![],
            },
        ),
    ];
    for (name, m) in cases {
        assert_eq!(hex::encode(m.encode()), value(name));
        assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
    }
    // "Every day" with a mask is not a Hello any side writes.
    assert_eq!(value("hello, version 8 (every day, mask 1)"), "malformed");
    let bad = hex::decode("0f001000000000ffffffff0100000000000000").unwrap();
    assert!(matches!(
        Message::decode(&bad),
        Err(MessageError::Decode(DecodeError::Invalid { .. }))
    ));
}

#[test]
fn held_days_name_the_days_of_what_is_held() {
    let days = HeldDays::of([10, 12, 10, 80]);
    assert_eq!(
        days,
        HeldDays::From {
            first: 10,
            mask: 0b101
        }
    );
    assert!(days.holds(10) && days.holds(12));
    // Day 80 is past the mask's 64 days: its tags are not asked for.
    assert!(!days.holds(11) && !days.holds(9) && !days.holds(80) && !days.holds(74));
    assert_eq!(HeldDays::of([]), HeldDays::From { first: 0, mask: 0 });
    assert!(!HeldDays::of([]).holds(0));
    assert!(HeldDays::Every.holds(u64::MAX));
}

#[test]
fn long_close_reasons_are_cut_on_a_char_boundary() {
    let m = Message::Close("é".repeat(150));
    let Message::Close(back) = Message::decode(&m.encode()).unwrap() else {
        panic!("not a close");
    };
    assert_eq!(back.len(), MAX_REASON_BYTES);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(m) = Message::decode(&bytes) {
            prop_assert_eq!(Message::decode(&m.encode()), Ok(m));
        }
    }
}
