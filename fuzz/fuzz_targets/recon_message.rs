//! Set reconciliation on arbitrary peer bytes: a responder and an initiator
//! (after its first message) must never panic, and whatever they send back
//! stays under the message cap.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_proto::sync::recon::{ReconItem, ReconLimits, Reconciler};

/// Enough items that the initiator fingerprints ranges instead of listing ids,
/// with shared expiries so bounds need id prefixes.
fn items() -> Vec<ReconItem> {
    (0u32..300)
        .map(|i| ReconItem {
            timestamp: 1_800_000_000 + u64::from(i / 3),
            id: *blake3::hash(&i.to_le_bytes()).as_bytes(),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let limits = ReconLimits::default();
    // Several messages in one input, split on a 0xff 0xfe marker, so the
    // fuzzer reaches later rounds.
    let messages: Vec<&[u8]> = split(data);

    let mut responder = Reconciler::respond_to(items(), limits).expect("valid limits");
    for msg in &messages {
        match responder.receive(msg) {
            Ok(step) => {
                let reply = step.reply.expect("the responder always replies");
                assert!(reply.len() <= limits.max_message);
                assert!(step.have.is_empty() && step.need.is_empty());
            }
            Err(_) => break,
        }
    }

    let (mut initiator, first) = Reconciler::initiate(items(), limits).expect("valid limits");
    assert!(first.len() <= limits.max_message);
    for msg in &messages {
        match initiator.receive(msg) {
            Ok(step) => match step.reply {
                Some(reply) => assert!(reply.len() <= limits.max_message),
                None => break,
            },
            Err(_) => break,
        }
    }
});

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(2).position(|w| w == [0xff, 0xfe]) {
        out.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    out.push(rest);
    out
}
