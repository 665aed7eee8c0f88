//! A decrypted session message from a peer (every type, the Hello's
//! encounter summary included): decoding arbitrary bytes must never panic,
//! and whatever decodes must encode back to a message that decodes the same
//! (a close reason only to one that decodes: invalid UTF-8 is replaced, then
//! cut to the length cap).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::sync::message::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode(data) {
        let again = Message::decode(&m.encode());
        match m {
            Message::Close(_) => assert!(again.is_ok()),
            m => assert_eq!(again, Ok(m)),
        }
    }
});
