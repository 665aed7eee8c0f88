//! BLE input on arbitrary bytes: GATT values through the link-framing
//! reader and advertisement fields through the advertisement parser must
//! never panic, and what they accept must be within the protocol's bounds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::ble::advert;
use pollen_proto::ble::chunk::{Chunk, ChunkReader};
use pollen_proto::ble::profile::MAX_VALUE;

fuzz_target!(|data: &[u8]| {
    // The advertisement parser sees the whole input both ways.
    if let Ok(Some(id)) = advert::parse(Some(data), None) {
        assert_eq!(&data[1..9], &id.0);
    }
    let _ = advert::parse(None, Some(&String::from_utf8_lossy(data)));

    // Values: a length byte (scaled to reach past MAX_VALUE), then that many bytes.
    let mut reader = ChunkReader::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = (usize::from(len) * 3).min(tail.len());
        let (value, tail) = tail.split_at(len);
        rest = tail;
        match reader.push(value) {
            Ok(Chunk::Data(d)) => assert!(!d.is_empty() && d.len() < MAX_VALUE),
            Ok(Chunk::Hello(_)) => assert_eq!(value.len(), 10),
            Err(_) => return,
        }
    }
});
