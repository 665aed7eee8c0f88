//! Link framing on arbitrary bytes: the record decoder and the reassembler
//! must never panic, and must stay within their memory bounds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::sync::frame::{MIN_RECORD, Reassembler, ReassemblyLimits, RecordDecoder};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size, so the fuzzer explores chunkings
    // as well as contents; the record limit stays the BLE minimum.
    let Some((&step, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let limits = ReassemblyLimits {
        max_concurrent: 4,
        max_message: 64 * 1024,
        timeout_ms: 1_000,
    };
    let mut decoder = RecordDecoder::new(MIN_RECORD);
    let mut reassembler = Reassembler::new(limits);
    let mut now_ms = 0u64;
    for chunk in data.chunks(step) {
        if decoder.push(chunk).is_err() {
            return;
        }
        assert!(decoder.buffered() <= MIN_RECORD + chunk.len());
        loop {
            match decoder.next_record() {
                Ok(Some(record)) => {
                    now_ms += 100;
                    if let Ok(Some(msg)) = reassembler.push(&record, now_ms) {
                        assert!(msg.len() <= limits.max_message);
                    }
                    let _ = reassembler.check_timeouts(now_ms);
                    assert!(reassembler.held_bytes() <= limits.max_concurrent * limits.max_message);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
