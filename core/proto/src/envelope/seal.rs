//! Sealing and opening envelope bodies.

use super::{
    BUCKETS, Commitment, DIRECT_OVERHEAD, DeliveryProof, Envelope, EnvelopeError, HEADER_LEN,
    Header, INNER_FIXED, MAX_PAYLOAD_BYTES, MAX_TTL_SECS, RoutingTag, SHARED_OVERHEAD, SharedKey,
    VERSION,
};
use crate::codec::{Reader, Writer};
use crate::identity::{ContactKey, Identity, MAX_NAME_BYTES, PublicIdentity, check_name};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hpke::aead::ChaCha20Poly1305 as HpkeChaCha;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::{CryptoRng, Infallible, TryCryptoRng, TryRng};
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use zeroize::{Zeroize, Zeroizing};

/// HPKE `info` of direct envelopes.
const DIRECT_INFO: &[u8] = b"pollen v1 direct";
/// Domain separation of the author's envelope signature.
const SIGNATURE_DOMAIN: &[u8] = b"pollen v1 envelope";
/// Version of the inner plaintext layout.
const INNER_VERSION: u8 = 1;

type HpkeKem = X25519HkdfSha256;
type HpkePublicKey = <HpkeKem as Kem>::PublicKey;
type HpkePrivateKey = <HpkeKem as Kem>::PrivateKey;
type HpkeEncappedKey = <HpkeKem as Kem>::EncappedKey;

/// Who can open an envelope.
#[derive(Clone, Copy, Debug)]
pub enum Recipient<'a> {
    /// One person, by their public keys (HPKE to their agreement key).
    Direct(&'a PublicIdentity),
    /// Everyone holding a group epoch key or knowing a channel name.
    Shared(&'a SharedKey),
}

/// What to seal.
#[derive(Clone, Copy, Debug)]
pub struct Draft<'a> {
    /// Recipient(s).
    pub to: Recipient<'a>,
    /// Application bytes, at most [`MAX_PAYLOAD_BYTES`].
    pub payload: &'a [u8],
    /// Unix seconds when the author wrote it.
    pub sent_at: u64,
    /// Unix seconds after which it is dropped; within `MAX_TTL_SECS` of `sent_at`.
    pub expires_at: u64,
    /// Initial hop budget.
    pub hops: u8,
}

/// A sealed envelope and the secret that will prove its delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The envelope to hand to carriers.
    pub envelope: Envelope,
    /// Its delivery-proof secret (the recipient learns it on opening).
    pub proof_secret: DeliveryProof,
}

/// What an opened envelope says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Who signed it.
    pub author: PublicIdentity,
    /// The name the author gave (self-asserted, validated against the naming rules).
    pub author_name: String,
    /// When the author says they wrote it (unix seconds).
    pub sent_at: u64,
    /// The application bytes.
    pub payload: Vec<u8>,
    /// The delivery-proof secret to publish once the envelope is stored.
    pub proof_secret: DeliveryProof,
}

/// Seals `draft` from `author` with OS randomness.
pub fn seal(author: &Identity, draft: &Draft) -> Result<Sealed, EnvelopeError> {
    let mut rng = OsRng { failed: None };
    let sealed = seal_with_rng(author, draft, &mut rng);
    // Whatever was built from a failed RNG read is discarded, never returned.
    match rng.failed {
        Some(e) => Err(EnvelopeError::Crypto(format!(
            "system random number generator: {e}"
        ))),
        None => sealed,
    }
}

/// Seals `draft` taking ALL randomness from `rng`, in this order: proof secret
/// (32 bytes), then the HPKE ephemeral key seed (32) or the XChaCha nonce (24).
pub fn seal_with_rng<R: CryptoRng>(
    author: &Identity,
    draft: &Draft,
    rng: &mut R,
) -> Result<Sealed, EnvelopeError> {
    if draft.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(EnvelopeError::PayloadTooLarge(draft.payload.len()));
    }
    if draft.expires_at <= draft.sent_at {
        return Err(EnvelopeError::Expired {
            expires_at: draft.expires_at,
            now: draft.sent_at,
        });
    }
    if draft.expires_at > draft.sent_at.saturating_add(MAX_TTL_SECS) {
        return Err(EnvelopeError::ExpiryTooFar {
            expires_at: draft.expires_at,
            now: draft.sent_at,
        });
    }

    let mut proof_secret = [0u8; 32];
    rng.fill_bytes(&mut proof_secret);
    let (tag, overhead) = match draft.to {
        Recipient::Direct(to) => (RoutingTag::direct(to, draft.expires_at), DIRECT_OVERHEAD),
        Recipient::Shared(key) => (RoutingTag::shared(key, draft.expires_at), SHARED_OVERHEAD),
    };
    let header = Header {
        version: VERSION,
        expires_at: draft.expires_at,
        hops: draft.hops,
        tag,
        commitment: Commitment(*blake3::hash(&proof_secret).as_bytes()),
    };
    let aad = header.authenticated_bytes();

    let name = author.name().as_bytes();
    let inner_len = INNER_FIXED + name.len() + draft.payload.len();
    let bucket = BUCKETS
        .iter()
        .copied()
        .find(|&b| b >= HEADER_LEN + overhead + inner_len)
        .ok_or(EnvelopeError::PayloadTooLarge(draft.payload.len()))?;
    let padded_len = bucket - HEADER_LEN - overhead;

    // The signed message is domain || aad || inner-before-signature; build it
    // in one buffer and keep the inner part for the plaintext.
    let prefix = SIGNATURE_DOMAIN.len() + HEADER_LEN;
    let public = author.public();
    let mut w = Writer::with_capacity(prefix + padded_len);
    w.bytes(SIGNATURE_DOMAIN)
        .bytes(&aad)
        .u8(INNER_VERSION)
        .u64(draft.sent_at)
        .bytes(&public.signing.0)
        .bytes(&public.agreement)
        .short_bytes(name)
        .bytes(&proof_secret)
        .long_bytes(draft.payload);
    let mut signed = Zeroizing::new(w.finish());
    let signature = author.sign(&signed);
    signed.extend_from_slice(&signature);
    signed.resize(prefix + padded_len, 0);
    let plaintext = signed.get(prefix..).unwrap_or_default();

    let mut body = Vec::with_capacity(bucket - HEADER_LEN);
    match draft.to {
        Recipient::Direct(to) => {
            let pk = HpkePublicKey::from_bytes(&to.agreement)
                .map_err(|e| EnvelopeError::Crypto(format!("recipient key: {e}")))?;
            let (enc, ct) = hpke::single_shot_seal_with_rng::<HpkeChaCha, HkdfSha256, HpkeKem>(
                &OpModeS::Base,
                &pk,
                DIRECT_INFO,
                plaintext,
                &aad,
                rng,
            )
            .map_err(|e| EnvelopeError::Crypto(format!("HPKE seal: {e}")))?;
            body.extend_from_slice(&enc.to_bytes());
            body.extend_from_slice(&ct);
        }
        Recipient::Shared(key) => {
            let mut nonce = [0u8; 24];
            rng.fill_bytes(&mut nonce);
            let ct = shared_cipher(key)
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: plaintext,
                        aad: &aad,
                    },
                )
                .map_err(|e| EnvelopeError::Crypto(format!("XChaCha20-Poly1305 seal: {e}")))?;
            body.extend_from_slice(&nonce);
            body.extend_from_slice(&ct);
        }
    }
    if HEADER_LEN + body.len() != bucket {
        return Err(EnvelopeError::Crypto(format!(
            "sealed body has unexpected length {}",
            body.len()
        )));
    }
    Ok(Sealed {
        envelope: Envelope::from_parts(header, body),
        proof_secret: DeliveryProof(proof_secret),
    })
}

/// Opens a direct envelope addressed to `me`.
pub fn open_direct(me: &Identity, env: &Envelope) -> Result<Opened, EnvelopeError> {
    let header = env.header();
    // The tag is checked first: it is the cheap filter, and it stops a
    // recipient re-sealing someone's signed message to a third party (the
    // signed header carries the original recipient's tag).
    if header.tag != RoutingTag::direct(&me.public(), header.expires_at) {
        return Err(EnvelopeError::NotForMe);
    }
    let (enc, ct) = env
        .body()
        .split_at_checked(32)
        .ok_or(EnvelopeError::NotForMe)?;
    let enc = HpkeEncappedKey::from_bytes(enc).map_err(|_| EnvelopeError::NotForMe)?;
    let mut sk_bytes = me.agreement_secret_bytes();
    let sk = HpkePrivateKey::from_bytes(&sk_bytes);
    sk_bytes.zeroize();
    let sk = sk.map_err(|e| EnvelopeError::Crypto(format!("own key: {e}")))?;
    let aad = header.authenticated_bytes();
    let plaintext = hpke::single_shot_open::<HpkeChaCha, HkdfSha256, HpkeKem>(
        &OpModeR::Base,
        &sk,
        &enc,
        DIRECT_INFO,
        ct,
        &aad,
    )
    .map_err(|_| EnvelopeError::NotForMe)?;
    open_inner(header, &aad, &Zeroizing::new(plaintext))
}

/// Opens an envelope sealed under a group epoch key or channel key.
pub fn open_shared(key: &SharedKey, env: &Envelope) -> Result<Opened, EnvelopeError> {
    let header = env.header();
    if header.tag != RoutingTag::shared(key, header.expires_at) {
        return Err(EnvelopeError::NotForMe);
    }
    let (nonce, ct) = env
        .body()
        .split_at_checked(24)
        .ok_or(EnvelopeError::NotForMe)?;
    let nonce = XNonce::try_from(nonce).map_err(|_| EnvelopeError::NotForMe)?;
    let aad = header.authenticated_bytes();
    let plaintext = shared_cipher(key)
        .decrypt(&nonce, Payload { msg: ct, aad: &aad })
        .map_err(|_| EnvelopeError::NotForMe)?;
    open_inner(header, &aad, &Zeroizing::new(plaintext))
}

pub(super) fn shared_cipher(key: &SharedKey) -> XChaCha20Poly1305 {
    let mut k = key.aead_key();
    let cipher = XChaCha20Poly1305::new(&k.into());
    k.zeroize();
    cipher
}

/// Parses and checks a decrypted inner plaintext: caps, commitment, zero padding, signature.
fn open_inner(
    header: &Header,
    aad: &[u8; HEADER_LEN],
    plaintext: &[u8],
) -> Result<Opened, EnvelopeError> {
    let mut r = Reader::new(plaintext);
    let version = r.u8("inner version")?;
    if version != INNER_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(version));
    }
    let sent_at = r.u64("sent_at")?;
    let author = PublicIdentity {
        signing: ContactKey(r.array("author signing key")?),
        agreement: r.array("author agreement key")?,
    };
    author
        .check_keys()
        .map_err(|_| EnvelopeError::WeakAuthorKey)?;
    let author_name = r.short_str(MAX_NAME_BYTES, "author name")?;
    let proof_secret: [u8; 32] = r.array("proof secret")?;
    let payload = r.long_bytes(MAX_PAYLOAD_BYTES, "payload")?;
    let signed_len = plaintext.len() - r.remaining();
    let signature: [u8; 64] = r.array("signature")?;
    let padding = r.rest();

    if !crate::identity::keys_equal(
        blake3::hash(&proof_secret).as_bytes(),
        header.commitment.as_bytes(),
    ) {
        return Err(EnvelopeError::BadCommitment);
    }
    if padding.iter().any(|&b| b != 0) {
        return Err(EnvelopeError::BadPadding);
    }
    let inner = plaintext
        .get(..signed_len)
        .ok_or(EnvelopeError::BadSignature)?;
    let mut msg = Vec::with_capacity(SIGNATURE_DOMAIN.len() + HEADER_LEN + inner.len());
    msg.extend_from_slice(SIGNATURE_DOMAIN);
    msg.extend_from_slice(aad);
    msg.extend_from_slice(inner);
    let verified = author.verify(&msg, &signature);
    msg.zeroize();
    verified.map_err(|_| EnvelopeError::BadSignature)?;
    check_name(author_name).map_err(|e| EnvelopeError::BadAuthorName(e.to_string()))?;

    Ok(Opened {
        author,
        author_name: author_name.to_owned(),
        sent_at,
        payload: payload.to_vec(),
        proof_secret: DeliveryProof(proof_secret),
    })
}

/// The OS CSPRNG as an infallible `CryptoRng`, without panicking: a failed
/// read is recorded (and the output zero-filled) so [`seal`] can discard the
/// result and report the error.
struct OsRng {
    failed: Option<getrandom::Error>,
}

impl TryRng for OsRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        if let Err(e) = crate::random::fill(dst) {
            dst.fill(0);
            self.failed.get_or_insert(e);
        }
        Ok(())
    }
}

impl TryCryptoRng for OsRng {}
