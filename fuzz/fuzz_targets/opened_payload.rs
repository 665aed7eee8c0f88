//! What is inside a correctly sealed and signed envelope is still untrusted:
//! arbitrary payload bytes, sealed by a contact to the node (direct) or to a
//! channel it follows, go through the node's ingest (payload decoding,
//! Automerge change validation and apply, group keys) without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/caught.rs"]
mod caught;
use pollen_node::node::{Node, SystemClock};
use pollen_proto::envelope::{self, Draft, Recipient, SharedKey};
use std::sync::{Mutex, OnceLock};

struct Nodes {
    bo: Node,
    ana: Node,
    _dir: tempfile::TempDir,
}

static NODES: OnceLock<Mutex<Nodes>> = OnceLock::new();

fn nodes() -> &'static Mutex<Nodes> {
    NODES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let bo = Node::init(&dir.path().join("bo"), "Bo", Box::new(SystemClock)).unwrap();
        let ana = Node::init(&dir.path().join("ana"), "Ana", Box::new(SystemClock)).unwrap();
        bo.add_contact(&ana.card(), None).unwrap();
        bo.join_channel("#fuzz").unwrap();
        Mutex::new(Nodes { bo, ana, _dir: dir })
    })
}

fuzz_target!(|data: &[u8]| {
    caught::tolerate_caught_automerge_panics();
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let n = nodes().lock().unwrap();
    let now = n.bo.now();
    let channel = SharedKey::for_channel("fuzz");
    let to = if mode % 2 == 0 {
        Recipient::Direct(n.bo.public())
    } else {
        Recipient::Shared(&channel)
    };
    let draft = Draft {
        to,
        payload,
        sent_at: now,
        expires_at: now + 3600,
        hops: 4,
    };
    let Ok(sealed) = envelope::seal(n.ana.identity(), &draft) else {
        return;
    };
    let bytes = sealed.envelope.encode();
    let _ = n.bo.ingest_envelopes(&[(bytes, None)], "tcp:10.0.0.1");
});
