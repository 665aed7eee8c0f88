//! Untrusted Automerge changes and saved documents: validation and applying
//! must never panic, and a refused batch must leave the document unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/caught.rs"]
mod caught;
use pollen_node::conversation::{ConversationDoc, check_change};
use pollen_proto::identity::ContactKey;

fuzz_target!(|data: &[u8]| {
    caught::tolerate_caught_automerge_panics();
    if let Ok(mut doc) = ConversationDoc::load(data) {
        let _ = doc.messages();
        let _ = doc.read_markers();
        let _ = doc.save();
    }
    // The first byte picks how to cut the rest into up to three changes.
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = (cut as usize * rest.len()) / 256;
    let (a, b) = rest.split_at(at);
    let (b, c) = b.split_at(b.len() / 2);
    let author = ContactKey::from([cut; 32]);
    let _ = check_change(&author, a);
    let mut doc = ConversationDoc::new();
    let before = doc.heads();
    let changes = vec![a.to_vec(), b.to_vec(), c.to_vec()];
    if doc.apply(&changes).is_err() {
        assert_eq!(doc.heads(), before);
    }
    let _ = doc.messages();
});
