//! Envelope decoding and opening on arbitrary bytes: must never panic, and
//! whatever decodes must re-encode to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::envelope::{Envelope, SharedKey, open_shared};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::decode(data) {
        let bytes = env.encode();
        assert_eq!(bytes, data);
        let again = Envelope::decode(&bytes).expect("re-encoded envelope decodes");
        assert_eq!(again, env);
        assert_eq!(again.id(), env.id());
        let _ = env.check_fresh(1_700_000_000);
        // Fixed key so the fuzzer can, in principle, reach past the tag check.
        let _ = open_shared(&SharedKey::for_channel("fuzz"), &env);
    }
});
