//! Test vectors: the values published in `docs/PROTOCOL.md` ("Test vectors")
//! must be exactly what this build computes.

use super::tests::fixed_identity;
use super::*;
use crate::identity::{Identity, safety_number};
use hpke::rand_core::{Infallible, TryCryptoRng, TryRng};

const SENT_AT: u64 = 1_700_000_000;
const EXPIRES_AT: u64 = SENT_AT + 7 * 86400;

/// Deterministic RNG for vectors only: the BLAKE3 XOF of a fixed seed, read in order.
struct XofRng(blake3::OutputReader);

impl XofRng {
    fn new() -> Self {
        XofRng(
            blake3::Hasher::new()
                .update(b"pollen test vector rng")
                .finalize_xof(),
        )
    }
}

impl TryRng for XofRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for XofRng {}

fn computed() -> Vec<(&'static str, String)> {
    let alice = fixed_identity(0x11, 0x22, "Alice");
    let bob = fixed_identity(0x33, 0x44, "Bob");
    let (a, b) = (alice.public(), bob.public());
    let crew = SharedKey::for_channel("Festival-Crew");

    let direct = seal_with_rng(
        &alice,
        &Draft {
            to: Recipient::Direct(&b),
            payload: b"hello bob",
            sent_at: SENT_AT,
            expires_at: EXPIRES_AT,
            hops: 7,
        },
        &mut XofRng::new(),
    )
    .unwrap();
    let shared = seal_with_rng(
        &alice,
        &Draft {
            to: Recipient::Shared(&crew),
            payload: b"hello crew",
            sent_at: SENT_AT,
            expires_at: EXPIRES_AT,
            hops: 7,
        },
        &mut XofRng::new(),
    )
    .unwrap();
    // The vectors must open, or they would document a broken envelope.
    let opened = open_direct(&bob, &direct.envelope).unwrap();
    assert_eq!(opened.payload, b"hello bob");
    let opened = open_shared(&crew, &shared.envelope).unwrap();
    assert_eq!(opened.payload, b"hello crew");

    vec![
        ("alice.secret", hex::encode(alice.to_secret_bytes())),
        ("bob.secret", hex::encode(bob.to_secret_bytes())),
        ("alice.signing", hex::encode(a.signing)),
        ("alice.agreement", hex::encode(a.agreement)),
        ("bob.signing", hex::encode(b.signing)),
        ("bob.agreement", hex::encode(b.agreement)),
        ("alice.fingerprint", a.fingerprint().to_hex()),
        ("alice.fingerprint.display", a.fingerprint().to_string()),
        ("alice.card", alice.card().encode()),
        ("alice_bob.safety_number", safety_number(&a, &b)),
        ("channel.key", hex::encode(crew.0)),
        ("channel.id", hex::encode(crew.id())),
        ("direct.tag", RoutingTag::direct(&b, EXPIRES_AT).to_hex()),
        ("direct.proof_secret", hex::encode(direct.proof_secret)),
        (
            "direct.commitment",
            hex::encode(direct.envelope.header().commitment),
        ),
        ("direct.id", direct.envelope.id().to_hex()),
        ("direct.envelope", hex::encode(direct.envelope.encode())),
        ("shared.tag", RoutingTag::shared(&crew, EXPIRES_AT).to_hex()),
        ("shared.id", shared.envelope.id().to_hex()),
        ("shared.envelope", hex::encode(shared.envelope.encode())),
    ]
}

fn documented() -> Vec<(String, String)> {
    crate::doc_vectors::documented("## Test vectors")
}

#[test]
fn protocol_doc_vectors_match() {
    let computed = computed();
    let rendered: String = computed
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let documented = documented();
    let as_doc: Vec<(String, String)> = computed
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(
        documented, as_doc,
        "docs/PROTOCOL.md test vectors are stale; this build computes:\n{rendered}"
    );
}

#[test]
fn vector_identities_are_the_documented_inputs() {
    // The secret bytes listed as inputs are what fixed_identity builds.
    let alice = Identity::from_secret_bytes(
        &hex::decode(
            documented()
                .iter()
                .find(|(k, _)| k == "alice.secret")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(alice.name(), "Alice");
    assert_eq!(alice.public(), fixed_identity(0x11, 0x22, "Alice").public());
}
