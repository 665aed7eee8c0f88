use super::*;
use crate::codec::Writer;
use crate::identity::Identity;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use proptest::prelude::*;
use std::sync::OnceLock;

const T0: u64 = 1_700_000_000;
const DAY: u64 = 86400;

pub(super) fn fixed_identity(seed: u8, agreement: u8, name: &str) -> Identity {
    let mut w = Writer::new();
    w.u8(1)
        .bytes(&[seed; 32])
        .bytes(&[agreement; 32])
        .short_bytes(name.as_bytes());
    Identity::from_secret_bytes(&w.finish()).unwrap()
}

fn draft<'a>(to: Recipient<'a>, payload: &'a [u8]) -> Draft<'a> {
    Draft {
        to,
        payload,
        sent_at: T0,
        expires_at: T0 + 7 * DAY,
        hops: 5,
    }
}

struct Fixture {
    alice: Identity,
    bob: Identity,
    key: SharedKey,
    direct: Vec<u8>,
    shared: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let alice = fixed_identity(1, 2, "Alice");
        let bob = fixed_identity(3, 4, "Bob");
        let key = SharedKey::for_channel("test");
        let bob_pub = bob.public();
        let direct = seal(&alice, &draft(Recipient::Direct(&bob_pub), b"hi bob"))
            .unwrap()
            .envelope
            .encode();
        let shared = seal(&alice, &draft(Recipient::Shared(&key), b"hi all"))
            .unwrap()
            .envelope
            .encode();
        Fixture {
            alice,
            bob,
            key,
            direct,
            shared,
        }
    })
}

#[test]
fn direct_round_trip() {
    let f = fixture();
    let env = Envelope::decode(&f.direct).unwrap();
    assert_eq!(env.len(), 512);
    assert_eq!(env.encode(), f.direct);
    env.check_fresh(T0).unwrap();
    let opened = open_direct(&f.bob, &env).unwrap();
    assert_eq!(opened.author, f.alice.public());
    assert_eq!(opened.author_name, "Alice");
    assert_eq!(opened.sent_at, T0);
    assert_eq!(opened.payload, b"hi bob");
    assert_eq!(opened.proof_secret.commitment(), env.header().commitment);
    assert!(opened.proof_secret.proves(env.header()));
    assert_eq!(env.header().hops, 5);
    assert_eq!(
        env.header().tag,
        RoutingTag::direct(&f.bob.public(), T0 + 7 * DAY)
    );
}

#[test]
fn shared_round_trip_and_proof_secret() {
    let f = fixture();
    let sealed = seal(&f.alice, &draft(Recipient::Shared(&f.key), b"x")).unwrap();
    let env = Envelope::decode(&sealed.envelope.encode()).unwrap();
    assert_eq!(env, sealed.envelope);
    let opened = open_shared(&SharedKey::for_channel("  TEST "), &env).unwrap();
    assert_eq!(opened.payload, b"x");
    assert_eq!(opened.proof_secret, sealed.proof_secret);
    assert_eq!(sealed.proof_secret.commitment(), env.header().commitment);
}

#[test]
fn wrong_recipient_is_not_for_me() {
    let f = fixture();
    let direct = Envelope::decode(&f.direct).unwrap();
    let shared = Envelope::decode(&f.shared).unwrap();
    assert!(matches!(
        open_direct(&f.alice, &direct),
        Err(EnvelopeError::NotForMe)
    ));
    let carol = Identity::generate("Carol").unwrap();
    assert!(matches!(
        open_direct(&carol, &direct),
        Err(EnvelopeError::NotForMe)
    ));
    assert!(matches!(
        open_shared(&f.key, &direct),
        Err(EnvelopeError::NotForMe)
    ));
    assert!(matches!(
        open_shared(&SharedKey::for_channel("other"), &shared),
        Err(EnvelopeError::NotForMe)
    ));
    assert!(matches!(
        open_direct(&f.bob, &shared),
        Err(EnvelopeError::NotForMe)
    ));
}

#[test]
fn resealing_to_someone_else_is_refused() {
    // Bob re-encrypts Alice's signed plaintext to Carol under the same header:
    // Carol must not accept it as a message from Alice to her.
    let f = fixture();
    let env = Envelope::decode(&f.shared).unwrap();
    let plaintext = decrypt_shared(&f.key, &env);
    let other = SharedKey::for_channel("other");
    let forged = encrypt_shared(&other, *env.header(), &plaintext);
    assert!(matches!(
        open_shared(&other, &forged),
        Err(EnvelopeError::NotForMe)
    ));
    let mut retagged = *env.header();
    retagged.tag = RoutingTag::shared(&other, retagged.expires_at);
    let forged = encrypt_shared(&other, retagged, &plaintext);
    assert!(matches!(
        open_shared(&other, &forged),
        Err(EnvelopeError::BadSignature)
    ));
}

#[test]
fn every_bucket_is_reachable_and_max_payload_fits() {
    let f = fixture();
    let bob = f.bob.public();
    for (overhead, to) in [
        (DIRECT_OVERHEAD, Recipient::Direct(&bob)),
        (SHARED_OVERHEAD, Recipient::Shared(&f.key)),
    ] {
        for bucket in BUCKETS {
            let fit = bucket - HEADER_LEN - overhead - INNER_FIXED - "Alice".len();
            let fit = fit.min(MAX_PAYLOAD_BYTES);
            let payload = vec![7u8; fit];
            let env = seal(&f.alice, &draft(to, &payload)).unwrap().envelope;
            assert_eq!(env.len(), bucket);
            assert_eq!(env.encode().len(), bucket);
            if bucket < MAX_ENVELOPE_BYTES {
                let payload = vec![7u8; fit + 1];
                let env = seal(&f.alice, &draft(to, &payload)).unwrap().envelope;
                assert_eq!(env.len(), bucket * 2);
            }
        }
    }
    let long_name = Identity::generate(&"n".repeat(crate::identity::MAX_NAME_BYTES)).unwrap();
    let payload = vec![1u8; MAX_PAYLOAD_BYTES];
    let env = seal(&long_name, &draft(Recipient::Direct(&bob), &payload))
        .unwrap()
        .envelope;
    assert_eq!(env.len(), MAX_ENVELOPE_BYTES);
    let env = Envelope::decode(&env.encode()).unwrap();
    let opened = open_direct(&f.bob, &env).unwrap();
    assert_eq!(opened.payload.len(), MAX_PAYLOAD_BYTES);

    let too_big = vec![1u8; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        seal(&f.alice, &draft(Recipient::Direct(&bob), &too_big)),
        Err(EnvelopeError::PayloadTooLarge(n)) if n == MAX_PAYLOAD_BYTES + 1
    ));
}

#[test]
fn hops_do_not_change_id_or_authenticity() {
    let f = fixture();
    let mut env = Envelope::decode(&f.direct).unwrap();
    let id = env.id();
    env.set_hops(0);
    assert_eq!(env.id(), id);
    assert_eq!(env.encode()[9], 0);
    let again = Envelope::decode(&env.encode()).unwrap();
    assert_eq!(again.id(), id);
    open_direct(&f.bob, &again).unwrap();
    assert_eq!(EnvelopeId::from_hex(&id.to_hex()), Some(id));
    assert_eq!(EnvelopeId::from_hex(&id.to_hex().to_uppercase()), Some(id));
    assert_eq!(id.to_string(), id.to_hex());
    assert_eq!(EnvelopeId::from_hex("abc"), None);
    assert_eq!(EnvelopeId::from_hex(&"zz".repeat(32)), None);
}

#[test]
fn structural_errors() {
    let f = fixture();
    let truncated = &f.direct[..f.direct.len() - 1];
    assert!(matches!(
        Envelope::decode(truncated),
        Err(EnvelopeError::BadLength(511))
    ));
    assert!(matches!(
        Envelope::decode(&f.direct[..10]),
        Err(EnvelopeError::BadLength(10))
    ));
    assert!(matches!(
        Envelope::decode(&[]),
        Err(EnvelopeError::BadLength(0))
    ));
    let mut v7 = f.direct.clone();
    v7[0] = 7;
    let err = Envelope::decode(&v7).unwrap_err();
    assert!(matches!(err, EnvelopeError::UnsupportedVersion(7)));
    assert_eq!(
        err.to_string(),
        "envelope version 7 is not supported (this build speaks 1)"
    );
    let huge = vec![1u8; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        Envelope::decode(&huge),
        Err(EnvelopeError::TooLarge(65537))
    ));
    let mut padded = f.direct.clone();
    padded.resize(1024, 0);
    let env = Envelope::decode(&padded).unwrap();
    assert!(matches!(
        open_direct(&f.bob, &env),
        Err(EnvelopeError::NotForMe)
    ));
}

#[test]
fn expiry_checks() {
    let f = fixture();
    let env = Envelope::decode(&f.direct).unwrap();
    let exp = T0 + 7 * DAY;
    env.check_fresh(exp - 1).unwrap();
    assert!(matches!(
        env.check_fresh(exp),
        Err(EnvelopeError::Expired { expires_at, now }) if expires_at == exp && now == exp
    ));
    assert!(env.check_fresh(u64::MAX).is_err());
    let edge = exp - MAX_TTL_SECS - CLOCK_SKEW_SECS;
    env.check_fresh(edge).unwrap();
    assert!(matches!(
        env.check_fresh(edge - 1),
        Err(EnvelopeError::ExpiryTooFar { .. })
    ));
    assert!(matches!(
        env.check_fresh(0),
        Err(EnvelopeError::ExpiryTooFar { .. })
    ));

    let bob = f.bob.public();
    let mut d = draft(Recipient::Direct(&bob), b"");
    d.expires_at = d.sent_at;
    assert!(matches!(
        seal(&f.alice, &d),
        Err(EnvelopeError::Expired { .. })
    ));
    d.expires_at = d.sent_at + MAX_TTL_SECS + 1;
    assert!(matches!(
        seal(&f.alice, &d),
        Err(EnvelopeError::ExpiryTooFar { .. })
    ));
    d.expires_at = d.sent_at + MAX_TTL_SECS;
    seal(&f.alice, &d).unwrap();
    d.sent_at = u64::MAX - 1;
    d.expires_at = u64::MAX;
    seal(&f.alice, &d).unwrap();
}

fn decrypt_shared(key: &SharedKey, env: &Envelope) -> Vec<u8> {
    let (nonce, ct) = env.body().split_at(24);
    seal::shared_cipher(key)
        .decrypt(
            &XNonce::try_from(nonce).unwrap(),
            Payload {
                msg: ct,
                aad: &env.header().authenticated_bytes(),
            },
        )
        .unwrap()
}

fn encrypt_shared(key: &SharedKey, header: Header, plaintext: &[u8]) -> Envelope {
    let nonce = [9u8; 24];
    let ct = seal::shared_cipher(key)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &header.authenticated_bytes(),
            },
        )
        .unwrap();
    let mut body = nonce.to_vec();
    body.extend_from_slice(&ct);
    Envelope::decode(&[&header.to_bytes_with_hops(header.hops)[..], &body].concat()).unwrap()
}

/// Builds a validly encrypted inner plaintext with chosen fields, signed by `signer`.
fn craft(
    key: &SharedKey,
    signer: &Identity,
    name: &[u8],
    proof_secret: [u8; 32],
    commitment: [u8; 32],
    padding_byte: u8,
) -> Envelope {
    let header = Header {
        version: 1,
        expires_at: T0 + DAY,
        hops: 3,
        tag: RoutingTag::shared(key, T0 + DAY),
        commitment: Commitment(commitment),
    };
    let mut w = Writer::new();
    w.bytes(b"pollen v1 envelope")
        .bytes(&header.authenticated_bytes())
        .u8(1)
        .u64(T0)
        .bytes(&signer.public().signing.0)
        .bytes(&signer.public().agreement)
        .short_bytes(name)
        .bytes(&proof_secret)
        .long_bytes(b"payload");
    let signed = w.finish();
    let sig = signer.sign(&signed);
    let mut inner = signed[18 + HEADER_LEN..].to_vec();
    inner.extend_from_slice(&sig);
    inner.resize(512 - HEADER_LEN - SHARED_OVERHEAD, 0);
    if let Some(last) = inner.last_mut() {
        *last = padding_byte;
    }
    encrypt_shared(key, header, &inner)
}

#[test]
fn inner_checks_are_typed() {
    let f = fixture();
    let secret = [5u8; 32];
    let commit = *blake3::hash(&secret).as_bytes();
    let ok = craft(&f.key, &f.alice, b"Alice", secret, commit, 0);
    assert_eq!(open_shared(&f.key, &ok).unwrap().payload, b"payload");

    let bad_commit = craft(&f.key, &f.alice, b"Alice", secret, [0u8; 32], 0);
    assert!(matches!(
        open_shared(&f.key, &bad_commit),
        Err(EnvelopeError::BadCommitment)
    ));
    let bad_pad = craft(&f.key, &f.alice, b"Alice", secret, commit, 1);
    assert!(matches!(
        open_shared(&f.key, &bad_pad),
        Err(EnvelopeError::BadPadding)
    ));
    let bad_name = craft(&f.key, &f.alice, b"Al\x07ce", secret, commit, 0);
    assert!(matches!(
        open_shared(&f.key, &bad_name),
        Err(EnvelopeError::BadAuthorName(_))
    ));

    // A payload byte changed after signing, then re-encrypted: only the signature catches it.
    let env = Envelope::decode(&f.shared).unwrap();
    let mut plaintext = decrypt_shared(&f.key, &env);
    let at = 1 + 8 + 64 + 1 + 5 + 32 + 4;
    plaintext[at] ^= 1;
    let forged = encrypt_shared(&f.key, *env.header(), &plaintext);
    assert!(matches!(
        open_shared(&f.key, &forged),
        Err(EnvelopeError::BadSignature)
    ));
    // A lying payload length is refused by the reader, not trusted.
    let mut plaintext = decrypt_shared(&f.key, &env);
    plaintext[at - 4..at].copy_from_slice(&u32::MAX.to_le_bytes());
    let forged = encrypt_shared(&f.key, *env.header(), &plaintext);
    assert!(matches!(
        open_shared(&f.key, &forged),
        Err(EnvelopeError::Decode(_))
    ));
    let mut plaintext = decrypt_shared(&f.key, &env);
    plaintext[0] = 9;
    let forged = encrypt_shared(&f.key, *env.header(), &plaintext);
    assert!(matches!(
        open_shared(&f.key, &forged),
        Err(EnvelopeError::UnsupportedVersion(9))
    ));
}

#[test]
fn shared_keys() {
    let a = SharedKey::for_channel("Festival-Crew");
    assert_eq!(a, SharedKey::for_channel("  festival-crew\t"));
    assert_ne!(a, SharedKey::for_channel("festival crew"));
    assert_eq!(SharedKey::for_channel("ÉTÉ"), SharedKey::for_channel("été"));
    assert_ne!(a.id(), SharedKey::for_channel("other").id());
    let r1 = SharedKey::random().unwrap();
    let r2 = SharedKey::random().unwrap();
    assert_ne!(r1, r2);
    assert!(!format!("{r1:?}").contains(&hex::encode(r1.0)));
}

#[test]
fn routing_tags_rotate_daily() {
    let f = fixture();
    let bob = f.bob.public();
    let day = 19_000 * DAY;
    assert_eq!(
        RoutingTag::direct(&bob, day),
        RoutingTag::direct(&bob, day + DAY - 1)
    );
    assert_ne!(
        RoutingTag::direct(&bob, day),
        RoutingTag::direct(&bob, day + DAY)
    );
    assert_ne!(
        RoutingTag::direct(&bob, day),
        RoutingTag::direct(&f.alice.public(), day)
    );
    assert_ne!(
        RoutingTag::shared(&f.key, day),
        RoutingTag::shared(&SharedKey::for_channel("x"), day)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bit_flip_anywhere_fails_typed(index in 0usize..512, bit in 0u8..8, shared in any::<bool>()) {
        let f = fixture();
        let mut bytes = if shared { f.shared.clone() } else { f.direct.clone() };
        let original_id = Envelope::decode(&bytes).unwrap().id();
        bytes[index] ^= 1 << bit;
        let opened = Envelope::decode(&bytes).and_then(|env| {
            let r = if shared { open_shared(&f.key, &env) } else { open_direct(&f.bob, &env) };
            r.map(|o| (o, env.id()))
        });
        if index == 9 {
            let (opened, id) = opened.unwrap();
            prop_assert_eq!(id, original_id);
            prop_assert_eq!(opened.author, f.alice.public());
        } else {
            prop_assert!(opened.is_err());
        }
    }

    #[test]
    fn decode_arbitrary_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let f = fixture();
        if let Ok(env) = Envelope::decode(&bytes) {
            prop_assert_eq!(env.encode(), bytes.clone());
            prop_assert!(open_shared(&f.key, &env).is_err());
            prop_assert!(open_direct(&f.bob, &env).is_err());
        }
    }

    #[test]
    fn bucket_sized_garbage_is_rejected_when_opened(
        mut bytes in proptest::collection::vec(any::<u8>(), 512),
        tag_matches in any::<bool>(),
    ) {
        // Version 1 and, half the time, the right tag, so opening reaches the AEAD.
        let f = fixture();
        bytes[0] = 1;
        if tag_matches {
            let exp = u64::from_le_bytes(bytes[1..9].try_into().unwrap());
            bytes[10..18].copy_from_slice(&RoutingTag::shared(&f.key, exp).0);
        }
        let env = Envelope::decode(&bytes).unwrap();
        prop_assert!(matches!(open_shared(&f.key, &env), Err(EnvelopeError::NotForMe)));
        prop_assert!(matches!(open_direct(&f.bob, &env), Err(EnvelopeError::NotForMe)));
    }
}
