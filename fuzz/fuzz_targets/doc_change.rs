//! Untrusted shared-document changes: the first 32 bytes name the author
//! (listed as a writer), the rest is the change. Checking, loading and
//! reading as JSON must never panic, and a change that passes the check
//! must load. Automerge 0.12 panics on some changes that name objects their
//! dependencies never made; `shared_docs` catches that panic (seed
//! `automerge_missing_object`), so a panic raised inside Automerge is not a
//! finding here as long as it is caught: one that escapes still aborts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_node::shared_docs::{DocHeader, applies, check_change, load, to_json};
use pollen_proto::identity::{ContactKey, Identity};
use std::sync::OnceLock;

#[path = "common/caught.rs"]
mod caught;

fn creator() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| Identity::generate("fuzz").expect("identity"))
}

fuzz_target!(|data: &[u8]| {
    caught::tolerate_caught_automerge_panics();
    if data.len() < 32 {
        return;
    }
    let (key, change) = data.split_at(32);
    let author = ContactKey(key.try_into().expect("32 bytes"));
    let header = DocHeader::new(creator(), [0; 16], "doc", "fuzz", &[author]).expect("header");
    if check_change(&header, &author, change).is_ok() {
        // Applied, queued for its dependencies, or left out if Automerge
        // cannot apply it: either way the document loads.
        let doc = load(&[change.to_vec()]).expect("a checked change loads");
        let _ = to_json(&doc);
        let _ = applies(&[], change);
    }
    // Header decoding of the same bytes.
    let _ = DocHeader::decode(data);
});
