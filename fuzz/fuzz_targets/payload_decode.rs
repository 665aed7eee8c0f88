//! Payload decoding on arbitrary bytes: must never panic, and whatever decodes
//! must re-encode to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::payload::Payload;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = Payload::decode(data) {
        assert_eq!(payload.encode(), data);
    }
});
