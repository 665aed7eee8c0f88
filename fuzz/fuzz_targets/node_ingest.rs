//! The whole ingest path of a node on arbitrary bytes: envelopes (as from a
//! neighbour), delivery proofs and bundles must never panic, and an honest
//! message must still be accepted afterwards. The nodes live in memory (no
//! durable commit per input). Expect tens of inputs a second, not thousands:
//! most of a run goes to libFuzzer collecting a whole node's coverage (about
//! 16,000 edges: SQLite, Automerge, the crypto) after every input.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/caught.rs"]
mod caught;
use pollen_node::node::{Node, SystemClock};
use pollen_node::store::StoreLimits;
use pollen_proto::envelope::DeliveryProof;
use std::sync::{Mutex, OnceLock};

struct Nodes {
    bo: Node,
    ana: Node,
    _dir: tempfile::TempDir,
}

// libFuzzer runs inputs on one thread; the mutex only satisfies `static`.
static NODES: OnceLock<Mutex<(Nodes, u32)>> = OnceLock::new();

/// Inputs a pair of nodes takes before a fresh pair replaces it: what they
/// accept stays in memory, and a long run would otherwise reach libFuzzer's
/// RSS limit and report it as a crash.
const INPUTS_PER_PAIR: u32 = 500;

fn fresh() -> Nodes {
    let dir = tempfile::tempdir().unwrap();
    let node = |name| Node::in_memory(name, StoreLimits::default(), Box::new(SystemClock));
    let (bo, ana) = (node("Bo").unwrap(), node("Ana").unwrap());
    ana.add_contact(&bo.card(), None).unwrap();
    bo.add_contact(&ana.card(), None).unwrap();
    Nodes { bo, ana, _dir: dir }
}

fuzz_target!(|data: &[u8]| {
    caught::tolerate_caught_automerge_panics();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut held = NODES
        .get_or_init(|| Mutex::new((fresh(), 0)))
        .lock()
        .unwrap();
    held.1 += 1;
    if held.1 > INPUTS_PER_PAIR {
        *held = (fresh(), 1);
    }
    let n = &held.0;
    match mode % 3 {
        0 => {
            let _ =
                n.bo.ingest_envelopes(&[(rest.to_vec(), None)], "tcp:10.0.0.1");
        }
        1 => {
            let proofs: Vec<DeliveryProof> = rest
                .chunks_exact(32)
                .map(|c| DeliveryProof(c.try_into().unwrap()))
                .collect();
            let _ = n.bo.ingest_proofs(&proofs);
        }
        _ => {
            let path = n._dir.path().join("fuzz.bundle");
            std::fs::write(&path, rest).unwrap();
            let _ = n.bo.import_bundle(&path, &mut |_| {});
        }
    }
    // Once in a while, the node still takes an honest message.
    if data.len() % 64 == 0 {
        let sent = n.ana.send_direct("Bo", "still here").unwrap();
        let env = n
            .ana
            .store()
            .envelopes(n.ana.now())
            .unwrap()
            .into_iter()
            .find(|r| r.id == sent.envelope)
            .unwrap();
        let out =
            n.bo.ingest_envelopes(&[(env.bytes, Some(env.id.into()))], "tcp:10.0.0.2")
                .unwrap();
        assert!(out[0].is_ok(), "{:?}", out[0]);
    }
});
