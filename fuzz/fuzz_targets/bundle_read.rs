//! Bundle reading on arbitrary bytes: must never panic, and must stop with an
//! error or the end marker after a bounded number of records.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::bundle::BundleReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = BundleReader::new(data) else {
        return;
    };
    // Every record takes at least 33 bytes, so more records than that means a loop.
    for _ in 0..=data.len() / 33 + 1 {
        match reader.next_record() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("bundle reader produced more records than the input can hold");
});
