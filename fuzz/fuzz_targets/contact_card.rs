//! Contact card parsing on arbitrary UTF-8: must never panic, and an accepted
//! card must re-encode to the canonical string.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::identity::ContactCard;

fuzz_target!(|s: &str| {
    if let Ok(card) = ContactCard::decode(s) {
        let encoded = card.encode();
        assert_eq!(encoded, s.trim().to_ascii_lowercase());
        assert_eq!(ContactCard::decode(&encoded).as_ref(), Ok(&card));
    }
});
