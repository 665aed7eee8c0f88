//! Long-term identity of an install: keys, fingerprints, safety numbers and
//! self-signed contact cards.
//!
//! An identity is two independent key pairs: Ed25519 for signatures and X25519
//! for key agreement (the HPKE recipient key of direct envelopes). Both are
//! public in a [`PublicIdentity`]; people verify them by comparing a
//! [`safety_number`] or a [`Fingerprint`].

mod card;
mod weak;

pub use card::{CardError, ContactCard};
pub use weak::{is_weak_agreement_key, is_weak_signing_key, keys_equal};

use crate::codec::{DecodeError, Reader, Writer};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha512};
use std::fmt;
use thiserror::Error;
use x25519_dalek::StaticSecret;
use zeroize::Zeroize;

/// Longest display name, in UTF-8 bytes, after trimming.
pub const MAX_NAME_BYTES: usize = 64;

/// Version byte leading [`Identity::to_secret_bytes`].
const SECRET_VERSION: u8 = 1;
const FINGERPRINT_CONTEXT: &str = "pollen v1 fingerprint";
const SAFETY_NUMBER_DOMAIN: &[u8] = b"pollen v1 safety number";
/// Hash iterations per safety-number half; like Signal's 5200, they make
/// grinding a key whose number collides with a victim's expensive.
const SAFETY_NUMBER_ITERATIONS: usize = 5200;

/// Why an identity could not be made, restored or verified.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IdentityError {
    /// The display name breaks the naming rules.
    #[error("invalid name: {0}")]
    BadName(String),
    /// Stored secret bytes are malformed.
    #[error("stored identity is unreadable: {0}")]
    BadSecret(String),
    /// A signature did not verify under the claimed key.
    #[error("signature does not verify")]
    BadSignature,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// A public key is known-bad (small order, weak): no key agreement or
    /// signature with it would mean anything.
    #[error("the {0} key is a known-bad (small-order) key")]
    WeakKey(&'static str),
}

impl From<DecodeError> for IdentityError {
    fn from(e: DecodeError) -> Self {
        IdentityError::BadSecret(e.to_string())
    }
}

/// True for invisible Unicode format characters that can make one name look
/// like another or reorder what follows it: bidirectional controls, zero-width
/// characters, the byte-order mark, soft hyphen, tag characters (Unicode
/// category Cf, plus the Hangul fillers that render as nothing).
pub fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}' | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}'
        | '\u{08E2}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Checks a display name that is already trimmed: 1..=64 bytes, no control
/// or invisible format characters (bidi, zero-width), no surrounding
/// whitespace (so one name has one encoding).
pub(crate) fn check_name(name: &str) -> Result<(), IdentityError> {
    if name.is_empty() {
        return Err(IdentityError::BadName("name is empty".into()));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(IdentityError::BadName(format!(
            "name is {} bytes, more than {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if name.trim() != name {
        return Err(IdentityError::BadName(
            "name has leading or trailing whitespace".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(IdentityError::BadName(
            "name contains control characters".into(),
        ));
    }
    if name.chars().any(is_format_char) {
        return Err(IdentityError::BadName(
            "name contains invisible format characters (bidi or zero-width)".into(),
        ));
    }
    Ok(())
}

/// Long-term keys of this install: Ed25519 for signing, X25519 for agreement,
/// both from the OS CSPRNG.
#[derive(Clone)]
pub struct Identity {
    signing: SigningKey,
    agreement: StaticSecret,
    /// Derived once: the X25519 half is a base-point multiplication (about
    /// 200,000 instructions), and opening an envelope asks for it.
    public: PublicIdentity,
    name: String,
}

impl fmt::Debug for Identity {
    // Secrets never reach logs; the fingerprint is enough to tell identities apart.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.name)
            .field("fingerprint", &self.public().fingerprint().short())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Creates fresh keys named `name` (trimmed; 1..=64 bytes, no control characters).
    pub fn generate(name: &str) -> Result<Identity, IdentityError> {
        let name = name.trim();
        check_name(name)?;
        let mut seed = [0u8; 32];
        let mut agreement = [0u8; 32];
        let filled =
            crate::random::fill(&mut seed).and_then(|()| crate::random::fill(&mut agreement));
        let id = filled.map(|()| Identity::from_parts(&seed, agreement, name.to_owned()));
        seed.zeroize();
        agreement.zeroize();
        let id = id.map_err(|e| IdentityError::Random(e.to_string()))?;
        // Only a broken generator (all zeros, say) could land here.
        id.public().check_keys()?;
        Ok(id)
    }

    fn from_parts(seed: &[u8; 32], agreement: [u8; 32], name: String) -> Identity {
        let signing = SigningKey::from_bytes(seed);
        let agreement = StaticSecret::from(agreement);
        let public = PublicIdentity {
            signing: ContactKey(signing.verifying_key().to_bytes()),
            agreement: x25519_dalek::PublicKey::from(&agreement).to_bytes(),
        };
        Identity {
            signing,
            agreement,
            public,
            name,
        }
    }

    /// Serializes the secret keys and name for the local database:
    /// `[1][ed25519 seed 32][x25519 secret 32][name short_bytes]`.
    pub fn to_secret_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + 32 + 32 + 1 + self.name.len());
        w.u8(SECRET_VERSION)
            .bytes(self.signing.as_bytes())
            .bytes(self.agreement.as_bytes())
            .short_bytes(self.name.as_bytes());
        w.finish()
    }

    /// Restores an identity written by [`Identity::to_secret_bytes`].
    pub fn from_secret_bytes(b: &[u8]) -> Result<Identity, IdentityError> {
        let mut r = Reader::new(b);
        let version = r.u8("identity version")?;
        if version != SECRET_VERSION {
            return Err(IdentityError::BadSecret(format!(
                "identity format version {version} is not supported (this build reads {SECRET_VERSION})"
            )));
        }
        let mut seed: [u8; 32] = r.array("signing seed")?;
        let mut agreement: [u8; 32] = r.array("agreement secret")?;
        let parsed = r
            .short_str(MAX_NAME_BYTES, "name")
            .map_err(IdentityError::from)
            .and_then(|name| {
                r.finish()?;
                check_name(name)?;
                let id = Identity::from_parts(&seed, agreement, name.to_owned());
                id.public().check_keys()?;
                Ok(id)
            });
        // The key types zeroize themselves on drop; these stack copies do not.
        seed.zeroize();
        agreement.zeroize();
        parsed
    }

    /// The display name this identity advertises.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, safe to share.
    pub fn public(&self) -> PublicIdentity {
        self.public
    }

    /// Ed25519 signature (deterministic, RFC 8032) over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The X25519 secret, used as the HPKE private key when opening direct envelopes.
    pub fn agreement_secret_bytes(&self) -> [u8; 32] {
        self.agreement.to_bytes()
    }

    /// This identity's self-signed contact card.
    pub fn card(&self) -> ContactCard {
        ContactCard::new_signed(self)
    }
}

crate::byte_id!(
    /// The Ed25519 verifying key that names a person: a contact, a message's
    /// author, a group's admin or this node itself.
    ContactKey,
    32,
    "contact key"
);

/// The public keys of an identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct PublicIdentity {
    /// Ed25519 verifying key: who this is.
    pub signing: ContactKey,
    /// X25519 public key (HPKE recipient key).
    pub agreement: [u8; 32],
}

impl PublicIdentity {
    /// BLAKE3 `derive_key("pollen v1 fingerprint", signing || agreement)`.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = blake3::Hasher::new_derive_key(FINGERPRINT_CONTEXT);
        h.update(&self.signing.0).update(&self.agreement);
        Fingerprint(*h.finalize().as_bytes())
    }

    /// Strict Ed25519 verification (rejects small-order keys and non-canonical
    /// signatures, so a signature cannot be mauled into another valid one).
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<(), IdentityError> {
        let key =
            VerifyingKey::from_bytes(&self.signing.0).map_err(|_| IdentityError::BadSignature)?;
        key.verify_strict(msg, &Signature::from_bytes(sig))
            .map_err(|_| IdentityError::BadSignature)
    }
}

/// A 32-byte digest naming a [`PublicIdentity`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// First 8 bytes as 16 lowercase hex characters, for compact display.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }

    /// All 32 bytes as 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Fingerprint {
    /// First 16 bytes as eight space-separated groups of 4 hex characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, pair) in self.0[..16].chunks(2).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&hex::encode(pair))?;
        }
        Ok(())
    }
}

/// Symmetric 60-digit number (12 groups of 5 digits, space separated) two
/// people compare in person; same result whichever side computes it.
pub fn safety_number(a: &PublicIdentity, b: &PublicIdentity) -> String {
    let mut halves = [safety_half(a), safety_half(b)];
    halves.sort();
    halves.concat().join(" ")
}

/// Six 5-digit groups for one side: SHA-512 iterated over the side's keys,
/// then each 5-byte chunk (big-endian) mod 100000.
fn safety_half(id: &PublicIdentity) -> Vec<String> {
    let mut digest: [u8; 64] = Sha512::new()
        .chain_update(SAFETY_NUMBER_DOMAIN)
        .chain_update(id.signing.0)
        .chain_update(id.agreement)
        .finalize()
        .into();
    for _ in 0..SAFETY_NUMBER_ITERATIONS {
        digest = Sha512::new()
            .chain_update(digest)
            .chain_update(id.signing.0)
            .chain_update(id.agreement)
            .finalize()
            .into();
    }
    digest
        .chunks_exact(5)
        .take(6)
        .map(|c| {
            let v = c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            format!("{:05}", v % 100_000)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(seed: u8, agreement: u8, name: &str) -> Identity {
        let mut w = Writer::new();
        w.u8(1)
            .bytes(&[seed; 32])
            .bytes(&[agreement; 32])
            .short_bytes(name.as_bytes());
        Identity::from_secret_bytes(&w.finish()).unwrap()
    }

    #[test]
    fn generate_trims_and_validates_names() {
        assert_eq!(Identity::generate("  Ada \n").unwrap().name(), "Ada");
        assert!(matches!(
            Identity::generate("   "),
            Err(IdentityError::BadName(_))
        ));
        assert!(matches!(
            Identity::generate("a\u{7}b"),
            Err(IdentityError::BadName(_))
        ));
        assert!(Identity::generate(&"é".repeat(32)).is_ok());
        assert!(matches!(
            Identity::generate(&"x".repeat(65)),
            Err(IdentityError::BadName(_))
        ));
    }

    #[test]
    fn s3_names_with_bidi_or_zero_width_characters_are_refused() {
        // "Bo" followed by a right-to-left override, "B\u{200B}o" looking
        // like "Bo", a bidi isolate, a BOM, a tag character.
        for name in [
            "Bo\u{202E}",
            "B\u{200B}o",
            "\u{2066}Bo",
            "\u{FEFF}Bo",
            "Bo\u{E0041}",
        ] {
            assert!(check_name(name).is_err(), "{name:?}");
            assert!(Identity::generate(name).is_err(), "{name:?}");
        }
        // Names arriving inside a card or an envelope go through the same
        // check: a secret (or card) carrying such a name does not load.
        let mut w = Writer::new();
        w.u8(1)
            .bytes(&[1; 32])
            .bytes(&[2; 32])
            .short_bytes("Bo\u{202E}".as_bytes());
        assert!(Identity::from_secret_bytes(&w.finish()).is_err());
        // Ordinary scripts and emoji still work.
        for name in ["Bo", "Zoë", "محمد", "李雷", "Ana 🐝"] {
            assert!(check_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn s8_generated_identities_are_unique() {
        let mut signing = std::collections::HashSet::new();
        let mut agreement = std::collections::HashSet::new();
        for _ in 0..500 {
            let p = Identity::generate("Ana").unwrap().public();
            assert!(signing.insert(p.signing), "a signing key came twice");
            assert!(agreement.insert(p.agreement), "an agreement key came twice");
        }
    }

    #[test]
    fn secret_bytes_round_trip_and_refuse_garbage() {
        let id = Identity::generate("Ada").unwrap();
        let bytes = id.to_secret_bytes();
        assert_eq!(bytes.len(), 1 + 32 + 32 + 1 + 3);
        let back = Identity::from_secret_bytes(&bytes).unwrap();
        assert_eq!(back.public(), id.public());
        assert_eq!(back.name(), "Ada");
        assert_eq!(back.agreement_secret_bytes(), id.agreement_secret_bytes());
        // The public half is kept, not derived per call: it must still be
        // what the secrets derive.
        let secret: [u8; 32] = bytes[33..65].try_into().unwrap();
        let derived = x25519_dalek::PublicKey::from(&StaticSecret::from(secret));
        assert_eq!(back.public().agreement, derived.to_bytes());
        let signing = SigningKey::from_bytes(bytes[1..33].try_into().unwrap());
        assert_eq!(back.public().signing.0, signing.verifying_key().to_bytes());

        assert!(matches!(
            Identity::from_secret_bytes(&bytes[..40]),
            Err(IdentityError::BadSecret(_))
        ));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(matches!(
            Identity::from_secret_bytes(&v2),
            Err(IdentityError::BadSecret(_))
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(Identity::from_secret_bytes(&trailing).is_err());
        assert!(Identity::from_secret_bytes(&[]).is_err());
    }

    #[test]
    fn sign_and_verify() {
        let id = fixed(1, 2, "A");
        let sig = id.sign(b"msg");
        id.public().verify(b"msg", &sig).unwrap();
        assert_eq!(
            id.public().verify(b"msh", &sig),
            Err(IdentityError::BadSignature)
        );
        let other = fixed(3, 4, "B");
        assert_eq!(
            other.public().verify(b"msg", &sig),
            Err(IdentityError::BadSignature)
        );
    }

    #[test]
    fn fingerprint_display_format() {
        let fp = Fingerprint(core::array::from_fn(|i| i as u8));
        assert_eq!(fp.to_string(), "0001 0203 0405 0607 0809 0a0b 0c0d 0e0f");
        assert_eq!(fp.short(), "0001020304050607");
        assert_eq!(fp.to_hex().len(), 64);
        let real = fixed(1, 2, "A").public().fingerprint().to_string();
        assert_eq!(real.len(), 8 * 4 + 7);
        assert_eq!(real.split(' ').count(), 8);
    }

    #[test]
    fn safety_number_is_symmetric_and_pair_specific() {
        let a = fixed(1, 2, "A").public();
        let b = fixed(3, 4, "B").public();
        let c = fixed(5, 6, "C").public();
        let ab = safety_number(&a, &b);
        assert_eq!(ab, safety_number(&b, &a));
        assert_ne!(ab, safety_number(&a, &c));
        assert_ne!(ab, safety_number(&c, &b));
        let groups: Vec<&str> = ab.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit()))
        );
    }
}
