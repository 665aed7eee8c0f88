use super::*;
use crate::codec::Writer;
use proptest::prelude::*;

/// Deterministic message bytes: proptest shrinks the length and seed instead
/// of generating (and shrinking) up to 200 000 individual bytes.
fn message(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    blake3::Hasher::new()
        .update(&seed.to_le_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

fn limits(max_concurrent: usize, max_message: usize) -> ReassemblyLimits {
    ReassemblyLimits {
        max_concurrent,
        max_message,
        ..ReassemblyLimits::default()
    }
}

fn first(stream: u16, total: u32, chunk: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(KIND_FIRST).u16(stream).u32(total).bytes(chunk);
    w.finish()
}

fn more(stream: u16, chunk: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(KIND_MORE).u16(stream).bytes(chunk);
    w.finish()
}

/// Pushes every plaintext, collecting completed messages.
fn reassemble_all(r: &mut Reassembler, plains: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p in plains {
        if let Some(m) = r.push(p, 0).unwrap() {
            out.push(m);
        }
    }
    out
}

// ---- records ----

#[test]
fn constants_agree() {
    assert_eq!(max_plain(MIN_RECORD), 162);
    assert_eq!(MAX_PLAIN, 65_517);
    assert_eq!(MIN_PLAIN, 8);
    assert_eq!(max_plain(10), 0);
}

#[test]
fn encode_record_round_trips_and_bounds() {
    let rec = encode_record(b"abc", MIN_RECORD).unwrap();
    assert_eq!(rec, [0, 3, b'a', b'b', b'c']);
    let mut d = RecordDecoder::new(MIN_RECORD);
    d.push(&rec).unwrap();
    assert_eq!(d.next_record().unwrap().unwrap(), b"abc");
    assert_eq!(d.next_record().unwrap(), None);

    assert_eq!(encode_record(&[7; 178], 180).unwrap().len(), 180);
    assert_eq!(
        encode_record(&[7; 179], 180),
        Err(FrameError::Oversized { len: 181, max: 180 })
    );
    // max_record above the u16 range is held to MAX_RECORD.
    assert_eq!(encode_record(&[7; 65_533], 1 << 20).unwrap().len(), 65_535);
    assert_eq!(
        encode_record(&[7; 65_534], 1 << 20),
        Err(FrameError::Oversized {
            len: 65_536,
            max: 65_535
        })
    );
    assert_eq!(encode_record(b"", 180), Err(FrameError::ZeroLength));
}

#[test]
fn decoder_clamps_its_limit() {
    assert_eq!(RecordDecoder::new(10).max_record(), MIN_RECORD);
    assert_eq!(RecordDecoder::new(1 << 20).max_record(), MAX_RECORD);
    let mut d = RecordDecoder::new(500);
    d.set_max_record(0);
    assert_eq!(d.max_record(), MIN_RECORD);
}

#[test]
fn lying_length_is_refused_without_buffering() {
    let mut d = RecordDecoder::new(MIN_RECORD);
    // 179-byte body: a 181-byte record, one over the limit.
    assert_eq!(
        d.push(&[0x00, 0xb3]),
        Err(FrameError::Oversized { len: 181, max: 180 })
    );
    assert_eq!(d.buffered(), 0);
    // The decoder stays failed.
    assert!(d.push(&[1; 10]).is_err());
    assert!(d.next_record().is_err());
    assert_eq!(d.buffered(), 0);

    // Header split across pushes, body bytes in the same push as the header:
    // refused at the second header byte, and the body is dropped, not kept.
    let mut d = RecordDecoder::new(MIN_RECORD);
    d.push(&[0xff]).unwrap();
    assert_eq!(d.buffered(), 1);
    let mut rest = vec![0xff];
    rest.extend_from_slice(&[0u8; 4096]);
    assert_eq!(
        d.push(&rest),
        Err(FrameError::Oversized {
            len: 65_537,
            max: 180
        })
    );
    assert_eq!(d.buffered(), 0);
}

#[test]
fn lying_length_after_a_good_record_is_refused_on_drain() {
    let mut d = RecordDecoder::new(MIN_RECORD);
    let mut input = encode_record(b"ok", MIN_RECORD).unwrap();
    input.extend_from_slice(&[0xff, 0xff, 1, 2, 3]);
    d.push(&input).unwrap();
    assert_eq!(d.next_record().unwrap().unwrap(), b"ok");
    assert_eq!(
        d.next_record(),
        Err(FrameError::Oversized {
            len: 65_537,
            max: 180
        })
    );
    assert_eq!(d.buffered(), 0);
}

#[test]
fn zero_length_record_is_refused() {
    let mut d = RecordDecoder::new(MIN_RECORD);
    assert_eq!(d.push(&[0, 0, 9]), Err(FrameError::ZeroLength));
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.next_record(), Err(FrameError::ZeroLength));
}

#[test]
fn renegotiated_limit_applies_from_the_next_header() {
    let mut input = encode_record(b"preamble", MIN_RECORD).unwrap();
    input.extend(encode_record(&[5; 1000], 2000).unwrap());
    input.extend(encode_record(&[6; 10], 2000).unwrap());
    let mut d = RecordDecoder::new(MIN_RECORD);
    // The big record follows the preamble in the same push: not judged yet.
    d.push(&input).unwrap();
    assert_eq!(d.next_record().unwrap().unwrap(), b"preamble");
    d.set_max_record(2000);
    assert_eq!(d.next_record().unwrap().unwrap(), vec![5; 1000]);
    // Lowering the limit also applies to the next header.
    d.set_max_record(MIN_RECORD);
    assert_eq!(d.next_record().unwrap().unwrap(), vec![6; 10]);
    assert_eq!(d.next_record().unwrap(), None);

    let mut d = RecordDecoder::new(2000);
    d.push(&encode_record(&[5; 1000], 2000).unwrap()).unwrap();
    d.set_max_record(MIN_RECORD);
    assert_eq!(
        d.next_record(),
        Err(FrameError::Oversized {
            len: 1002,
            max: 180
        })
    );
}

#[test]
fn push_on_an_undrained_decoder_is_refused() {
    let mut d = RecordDecoder::new(MIN_RECORD);
    let rec = encode_record(b"one", MIN_RECORD).unwrap();
    d.push(&rec).unwrap();
    assert_eq!(d.push(&rec), Err(FrameError::Undrained));
    // Not fatal: nothing was lost, draining makes room again.
    assert_eq!(d.next_record().unwrap().unwrap(), b"one");
    d.push(&rec).unwrap();
    assert_eq!(d.next_record().unwrap().unwrap(), b"one");
    // A partial record may be followed by more pushes.
    d.push(&rec[..2]).unwrap();
    d.push(&rec[2..3]).unwrap();
    assert_eq!(d.next_record().unwrap(), None);
    assert_eq!(d.buffered(), 3);
    d.push(&rec[3..]).unwrap();
    assert_eq!(d.next_record().unwrap().unwrap(), b"one");
    assert_eq!(d.buffered(), 0);
}

#[test]
fn decoder_holds_one_partial_record_between_pushes() {
    let mut stream = Vec::new();
    for i in 0..50u8 {
        stream.extend(encode_record(&[i; 178], MIN_RECORD).unwrap());
    }
    let mut d = RecordDecoder::new(MIN_RECORD);
    let mut got = 0;
    for chunk in stream.chunks(1000) {
        d.push(chunk).unwrap();
        while let Some(r) = d.next_record().unwrap() {
            assert_eq!(r, vec![got; 178]);
            got += 1;
        }
        assert!(d.buffered() < MIN_RECORD);
    }
    assert_eq!(got, 50);
}

// ---- fragmenter ----

#[test]
fn fragmenter_refuses_unusable_sizes() {
    let mut f = Fragmenter::new();
    assert_eq!(
        f.split(b"x", MIN_PLAIN - 1),
        Err(FrameError::FrameTooSmall {
            max_plain: 7,
            min: 8
        })
    );
    assert_eq!(
        f.split(b"x", MAX_PLAIN + 1),
        Err(FrameError::FrameTooLarge {
            max_plain: 65_518,
            max: 65_517
        })
    );
    // At the minimum a FIRST carries 1 byte and each MORE 5.
    assert_eq!(
        f.split(&[1; 100], MIN_PLAIN).unwrap().len(),
        1 + 99_usize.div_ceil(5)
    );
}

#[test]
fn fragmenter_uses_whole_exactly_when_it_fits() {
    let mut f = Fragmenter::new();
    let p = max_plain(MIN_RECORD);
    assert_eq!(f.split(b"", p).unwrap(), vec![vec![KIND_WHOLE]]);
    let fits = f.split(&vec![9; p - 1], p).unwrap();
    assert_eq!(fits.len(), 1);
    assert_eq!(fits[0].len(), p);
    assert_eq!(fits[0][0], KIND_WHOLE);
    assert_eq!(f.next_stream, 0, "WHOLE messages use no stream id");

    let split = f.split(&vec![9; p], p).unwrap();
    assert_eq!(split.len(), 2);
    assert_eq!(split[0].len(), p, "FIRST fills its record");
    assert_eq!(&split[0][..FIRST_HEADER], &first(0, p as u32, &[])[..]);
    assert_eq!(split[1], more(0, &[9; 7]));
    assert_eq!(f.next_stream, 1);
}

#[test]
fn stream_ids_increment_and_wrap() {
    let mut f = Fragmenter::new();
    f.next_stream = u16::MAX;
    let a = f.split(&[0; 100], 50).unwrap();
    let b = f.split(&[0; 100], 50).unwrap();
    assert_eq!(&a[0][1..3], &u16::MAX.to_le_bytes());
    assert_eq!(&b[0][1..3], &0u16.to_le_bytes());
    assert_eq!(f.next_stream, 1);
}

#[test]
fn wire_cost_matches_known_cases() {
    // WHOLE: prefix + tag + kind + message.
    assert_eq!(wire_cost(0, 180), 19);
    assert_eq!(wire_cost(161, 180), 180);
    // 162 bytes need a FIRST (155) and a MORE (7).
    assert_eq!(wire_cost(162, 180), 180 + 2 + 16 + 3 + 7);
    // Limits outside the protocol range are clamped.
    assert_eq!(wire_cost(100, 1), wire_cost(100, MIN_RECORD));
    assert_eq!(
        wire_cost(1 << 20, usize::MAX),
        wire_cost(1 << 20, MAX_RECORD)
    );
}

// ---- reassembler ----

#[test]
fn whole_messages_pass_through_including_empty() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.push(&[KIND_WHOLE], 0).unwrap().unwrap(), b"");
    assert_eq!(r.push(&[KIND_WHOLE, 1, 2], 0).unwrap().unwrap(), [1, 2]);
    assert_eq!(r.held_bytes(), 0);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn unknown_kind_and_truncation() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.push(&[0x03, 1, 2], 0), Err(FrameError::UnknownKind(3)));
    assert_eq!(r.push(&[0xff], 0), Err(FrameError::UnknownKind(0xff)));
    assert_eq!(
        r.push(&[], 0),
        Err(FrameError::Truncated {
            what: "fragment kind"
        })
    );
    assert_eq!(
        r.push(&[KIND_FIRST, 0], 0),
        Err(FrameError::Truncated { what: "stream id" })
    );
    assert_eq!(
        r.push(&[KIND_FIRST, 0, 0, 1, 2, 3], 0),
        Err(FrameError::Truncated {
            what: "total length"
        })
    );
    assert_eq!(
        r.push(&[KIND_MORE, 0], 0),
        Err(FrameError::Truncated { what: "stream id" })
    );
}

#[test]
fn more_for_unknown_stream() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(r.push(&more(7, b"x"), 0), Err(FrameError::UnknownStream(7)));
    // A completed stream is closed: a late MORE is unknown too.
    r.push(&first(7, 20, b"12345678"), 0).unwrap();
    assert_eq!(r.push(&more(7, b"9"), 0).unwrap(), None);
    assert_eq!(
        r.push(&more(7, b"abcdefghijk"), 0).unwrap().unwrap(),
        b"123456789abcdefghijk"
    );
    assert_eq!(r.push(&more(7, b"x"), 0), Err(FrameError::UnknownStream(7)));
}

#[test]
fn first_for_an_open_stream() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    r.push(&first(3, 100, b"abc"), 0).unwrap();
    assert_eq!(
        r.push(&first(3, 100, b"abc"), 0),
        Err(FrameError::DuplicateStream(3))
    );
}

#[test]
fn bytes_past_the_total() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    r.push(&first(1, 20, b"12345"), 0).unwrap();
    r.push(&more(1, b"6789012345"), 0).unwrap();
    assert_eq!(
        r.push(&more(1, b"678901"), 0),
        Err(FrameError::Overflow {
            stream: 1,
            total: 20
        })
    );
    assert!(r.held_bytes() <= 20, "the overflowing chunk was not kept");
}

#[test]
fn totals_above_the_cap() {
    let mut r = Reassembler::new(limits(4, 1000));
    assert_eq!(
        r.push(&first(1, 1001, b"x"), 0),
        Err(FrameError::MessageTooLarge {
            len: 1001,
            max: 1000
        })
    );
    assert_eq!(
        r.push(&first(1, u32::MAX, b"x"), 0),
        Err(FrameError::MessageTooLarge {
            len: u32::MAX as usize,
            max: 1000
        })
    );
    assert_eq!(r.held_bytes(), 0);
    // The cap applies to WHOLE messages as well.
    let mut r = Reassembler::new(limits(4, 3));
    let mut whole = vec![KIND_WHOLE];
    whole.extend_from_slice(b"abcd");
    assert_eq!(
        r.push(&whole, 0),
        Err(FrameError::MessageTooLarge { len: 4, max: 3 })
    );
}

#[test]
fn needless_fragmentation() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    // A 12-byte FIRST record: a WHOLE of that size carries 11 bytes.
    let rec = first(1, 11, b"abcde");
    assert_eq!(rec.len(), 12);
    assert_eq!(
        r.push(&rec, 0),
        Err(FrameError::NeedlessFragment {
            total: 11,
            capacity: 11
        })
    );
    // Empty and shorter-than-the-chunk totals fall under the same rule.
    assert_eq!(
        r.push(&first(1, 0, b"abcde"), 0),
        Err(FrameError::NeedlessFragment {
            total: 0,
            capacity: 11
        })
    );
    assert_eq!(
        r.push(&first(1, 3, b"abcde"), 0),
        Err(FrameError::NeedlessFragment {
            total: 3,
            capacity: 11
        })
    );
    r.push(&first(1, 12, b"abcde"), 0).unwrap();
}

#[test]
fn empty_fragments() {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(
        r.push(&first(1, 100, b""), 0),
        Err(FrameError::EmptyFragment)
    );
    r.push(&first(1, 100, b"a"), 0).unwrap();
    assert_eq!(r.push(&more(1, b""), 0), Err(FrameError::EmptyFragment));
}

#[test]
fn reassembly_flood_is_an_error_not_an_eviction() {
    let mut r = Reassembler::new(limits(4, 1000));
    for id in 0..4 {
        r.push(&first(id, 500, b"x"), 0).unwrap();
    }
    assert_eq!(
        r.push(&first(4, 500, b"x"), 0),
        Err(FrameError::TooManyReassemblies { max: 4 })
    );
    assert_eq!(r.in_progress(), 4);
    // The open streams were not evicted: each still completes.
    for id in 0..4 {
        assert_eq!(
            r.push(&more(id, &[0; 499]), 0).unwrap().map(|m| m.len()),
            Some(500)
        );
    }
    // No fragmented messages at all when max_concurrent is 0.
    let mut r = Reassembler::new(limits(0, 1000));
    assert_eq!(
        r.push(&first(0, 500, b"x"), 0),
        Err(FrameError::TooManyReassemblies { max: 0 })
    );
}

#[test]
fn stalled_stream_times_out() {
    let lim = ReassemblyLimits {
        max_concurrent: 4,
        max_message: 1000,
        timeout_ms: 100,
    };
    let mut r = Reassembler::new(lim);
    r.push(&first(1, 500, b"x"), 1_000).unwrap();
    r.push(&first(2, 500, b"x"), 1_050).unwrap();
    assert_eq!(r.next_deadline(), Some(1_100));
    r.check_timeouts(1_099).unwrap();
    // Progress on stream 1 pushes its deadline back: the timeout is idle time.
    r.push(&more(1, b"y"), 1_080).unwrap();
    assert_eq!(r.next_deadline(), Some(1_150));
    r.check_timeouts(1_149).unwrap();
    assert_eq!(
        r.check_timeouts(1_150),
        Err(FrameError::ReassemblyTimeout {
            stream: 2,
            idle_ms: 100
        })
    );
    // The stalled stream is dropped; the other keeps its own deadline.
    assert_eq!(r.in_progress(), 1);
    assert_eq!(r.next_deadline(), Some(1_180));
    assert_eq!(
        r.check_timeouts(5_000),
        Err(FrameError::ReassemblyTimeout {
            stream: 1,
            idle_ms: 3_920
        })
    );
    assert_eq!(r.next_deadline(), None);
    r.check_timeouts(u64::MAX).unwrap();
    // A clock that goes backwards or a huge timeout cannot panic.
    let mut r = Reassembler::new(ReassemblyLimits {
        timeout_ms: u64::MAX,
        ..lim
    });
    r.push(&first(1, 500, b"x"), 10).unwrap();
    assert_eq!(r.next_deadline(), Some(u64::MAX));
    r.check_timeouts(0).unwrap();
}

#[test]
fn held_bytes_track_received_bytes_not_declared_totals() {
    let mut r = Reassembler::new(limits(2, 1 << 20));
    r.push(&first(1, 1 << 20, b"abc"), 0).unwrap();
    assert_eq!(r.held_bytes(), 3, "no preallocation from the header");
    for _ in 0..100 {
        r.push(&more(1, &[0; 1000]), 0).unwrap();
    }
    assert!(r.held_bytes() >= 100_003);
    assert!(r.held_bytes() <= 2 * 100_003);
}

#[test]
fn held_bytes_never_exceed_the_limits() {
    let lim = limits(3, 1000);
    let bound = lim.max_concurrent * lim.max_message;
    let mut r = Reassembler::new(lim);
    for id in 0..3 {
        r.push(&first(id, 1000, &[1; 7]), 0).unwrap();
    }
    for step in 0..200usize {
        let id = (step % 3) as u16;
        let chunk = vec![2; 1 + step % 13];
        let _ = r.push(&more(id, &chunk), 0);
        assert!(r.held_bytes() <= bound, "{} > {bound}", r.held_bytes());
    }
}

#[test]
fn errors_read_as_disconnect_reasons() {
    assert_eq!(
        FrameError::Oversized { len: 181, max: 180 }.to_string(),
        "record of 181 bytes exceeds the link maximum of 180"
    );
    assert_eq!(
        FrameError::UnknownKind(0x7f).to_string(),
        "unknown fragment kind 0x7f"
    );
    assert_eq!(
        FrameError::ReassemblyTimeout {
            stream: 2,
            idle_ms: 30_000
        }
        .to_string(),
        "fragment stream 2 stalled for 30000 ms"
    );
}

// ---- properties ----

fn max_plain_strategy() -> impl Strategy<Value = usize> {
    // Small sizes are where the edge cases are; sample them often.
    prop_oneof![
        MIN_PLAIN..=64usize,
        MIN_PLAIN..=max_plain(MIN_RECORD) + 10,
        MIN_PLAIN..=MAX_PLAIN,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_then_reassemble_is_identity(
        len in prop_oneof![0..2_000usize, 0..200_000usize],
        seed in any::<u64>(),
        max_plain in max_plain_strategy(),
    ) {
        let msg = message(len, seed);
        let plains = Fragmenter::new().split(&msg, max_plain).unwrap();
        prop_assert!(plains.iter().all(|p| p.len() <= max_plain && !p.is_empty()));
        let lim = ReassemblyLimits::default();
        let mut r = Reassembler::new(lim);
        let mut done = Vec::new();
        for (i, p) in plains.iter().enumerate() {
            if let Some(m) = r.push(p, i as u64).unwrap() {
                done.push(m);
            }
            prop_assert!(r.held_bytes() <= lim.max_concurrent * lim.max_message);
        }
        prop_assert_eq!(done.len(), 1);
        prop_assert!(done[0] == msg, "reassembled message differs");
        prop_assert_eq!(r.in_progress(), 0);
        // wire_cost is exactly the records this split becomes, for a record
        // size the protocol allows.
        let max_record = max_plain + LEN_PREFIX + TAG_LEN;
        if max_record >= MIN_RECORD {
            let on_wire: usize = plains.iter().map(|p| p.len() + LEN_PREFIX + TAG_LEN).sum();
            prop_assert_eq!(wire_cost(len, max_record), on_wire);
        }
    }

    #[test]
    fn interleaved_messages_reassemble(
        specs in proptest::collection::vec((0..5_000usize, any::<u64>()), 1..6),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..4_000),
        max_plain in MIN_PLAIN..=600usize,
    ) {
        let mut f = Fragmenter::new();
        let msgs: Vec<Vec<u8>> = specs.iter().map(|&(l, s)| message(l, s)).collect();
        let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> = msgs
            .iter()
            .map(|m| f.split(m, max_plain).unwrap().into())
            .collect();
        // Interleave record by record: each step sends the next record of a
        // chosen message, keeping every message's own records in order.
        let mut plains = Vec::new();
        let mut order = order.into_iter();
        loop {
            let live: Vec<usize> = (0..queues.len()).filter(|&i| !queues[i].is_empty()).collect();
            if live.is_empty() {
                break;
            }
            let pick = order.next().map_or(live[0], |ix| live[ix.index(live.len())]);
            plains.extend(queues[pick].pop_front());
        }
        let mut r = Reassembler::new(limits(specs.len(), 1 << 20));
        let mut got = reassemble_all(&mut r, &plains);
        let mut want = msgs;
        got.sort();
        want.sort();
        prop_assert!(got == want, "reassembled messages differ");
        prop_assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn record_stream_survives_any_chunking(
        bodies in proptest::collection::vec(
            prop_oneof![1..40usize, 1..3_000usize].prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n)),
            0..20,
        ),
        cuts in proptest::collection::vec(1..700usize, 1..50),
    ) {
        let mut stream = Vec::new();
        for b in &bodies {
            stream.extend(encode_record(b, 3_002).unwrap());
        }
        let mut d = RecordDecoder::new(3_002);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            d.push(chunk).unwrap();
            while let Some(r) = d.next_record().unwrap() {
                got.push(r);
            }
            prop_assert!(d.buffered() < 3_002);
            rest = tail;
        }
        prop_assert_eq!(d.buffered(), 0);
        prop_assert_eq!(got, bodies);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4_096),
        cuts in proptest::collection::vec(1..300usize, 1..20),
        max_record in prop_oneof![Just(MIN_RECORD), 0..70_000usize],
        now in proptest::collection::vec(any::<u64>(), 1..8),
    ) {
        let lim = limits(2, 2_000);
        let mut d = RecordDecoder::new(max_record);
        let mut r = Reassembler::new(lim);
        let mut rest = &bytes[..];
        let mut cut = cuts.iter().cycle();
        let mut clock = now.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let _ = d.push(chunk);
            while let Ok(Some(rec)) = d.next_record() {
                let t = *clock.next().unwrap();
                let _ = r.push(&rec, t);
                let _ = r.check_timeouts(t);
                let _ = r.next_deadline();
                prop_assert!(r.held_bytes() <= lim.max_concurrent * lim.max_message);
            }
            prop_assert!(d.buffered() <= d.max_record() + n);
        }
    }

    #[test]
    fn arbitrary_fragments_never_panic_and_stay_bounded(
        frags in proptest::collection::vec(
            (0u8..4, 0u16..4, 0u32..3_000, proptest::collection::vec(any::<u8>(), 0..400), any::<u64>()),
            0..200,
        ),
    ) {
        // Near-valid fragments (few kinds, few stream ids, plausible totals)
        // reach deeper states than uniform bytes.
        let lim = limits(3, 2_000);
        let mut r = Reassembler::new(lim);
        for (kind, id, total, chunk, now) in frags {
            let mut w = Writer::new();
            w.u8(kind);
            match kind {
                KIND_FIRST => { w.u16(id).u32(total); }
                KIND_MORE => { w.u16(id); }
                _ => {}
            }
            w.bytes(&chunk);
            let _ = r.push(&w.finish(), now % 10_000);
            let _ = r.check_timeouts(now % 12_000);
            prop_assert!(r.in_progress() <= lim.max_concurrent);
            prop_assert!(r.held_bytes() <= lim.max_concurrent * lim.max_message);
        }
    }
}
