//! Contact cards: a one-line, QR-friendly, self-signed statement of someone's
//! public keys and name, encoded as bech32m with the HRP `pollen`.

use super::{ContactKey, Identity, MAX_NAME_BYTES, PublicIdentity, check_name};
use crate::codec::{DecodeError, Reader, Writer};
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Hrp};
use thiserror::Error;

/// Human-readable prefix of every card.
const HRP: &str = "pollen";
/// Domain separation for the self-signature.
const CARD_DOMAIN: &[u8] = b"pollen v1 card";
/// Longest card string accepted: the largest valid card (194 payload bytes)
/// is 324 characters; anything far beyond is refused before decoding.
const MAX_CARD_CHARS: usize = 512;

/// Why a contact card string was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CardError {
    /// Not a well-formed bech32m string (bad character, checksum...).
    #[error("not a valid contact card: {0}")]
    Encoding(String),
    /// Upper- and lower-case letters together: a card is all one case
    /// (lower as Pollen writes it, upper as QR codes' alphanumeric mode does).
    #[error(
        "not a valid contact card: it mixes upper- and lower-case letters (a card is all lower or all upper case)"
    )]
    MixedCase,
    /// A bech32m string, but not a Pollen card.
    #[error("not a Pollen contact card (it should start with \"pollen1\")")]
    WrongPrefix,
    /// A card from a newer (or unknown) version of Pollen.
    #[error("contact card version {0} is not supported (this build reads {v})", v = ContactCard::VERSION)]
    UnsupportedVersion(u8),
    /// The card's fields are malformed.
    #[error("contact card is malformed: {0}")]
    Decode(#[from] DecodeError),
    /// The name on the card breaks the naming rules.
    #[error("contact card has an invalid name: {0}")]
    BadName(String),
    /// The self-signature does not match the card's contents.
    #[error("contact card signature does not verify (the card was altered)")]
    BadSignature,
    /// The signing key is not a usable Ed25519 public key.
    #[error("contact card holds an invalid public key")]
    BadKey,
}

/// One-line, QR-friendly, versioned, self-signed card: "pollen1…" (bech32m,
/// HRP "pollen"), written in lower case and read in either case ("POLLEN1…"
/// is the same card, as a QR code in alphanumeric mode carries it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContactCard {
    /// The keys the card vouches for.
    pub identity: PublicIdentity,
    /// The name its owner chose.
    pub name: String,
    signature: [u8; 64],
}

impl ContactCard {
    /// Card format version written by this build.
    pub const VERSION: u8 = 1;

    pub(super) fn new_signed(id: &Identity) -> ContactCard {
        let identity = id.public();
        let signature = id.sign(&signed_message(&identity, &id.name));
        ContactCard {
            identity,
            name: id.name.clone(),
            signature,
        }
    }

    /// The card as a lowercase `pollen1…` string.
    pub fn encode(&self) -> String {
        let mut w = Writer::with_capacity(1 + 64 + 1 + self.name.len() + 64);
        w.u8(Self::VERSION)
            .bytes(&self.identity.signing.0)
            .bytes(&self.identity.agreement)
            .short_bytes(self.name.as_bytes())
            .bytes(&self.signature);
        // A card is at most 194 bytes (324 characters), far below Bech32m's
        // 1023-character code length, and "pollen" is a valid HRP, so neither
        // call can fail.
        let hrp = Hrp::parse(HRP).expect("constant HRP is valid");
        bech32::encode_lower::<Bech32m>(hrp, &w.finish()).expect("card fits bech32m code length")
    }

    /// Parses and verifies a card; accepts all-lowercase or all-uppercase
    /// (QR alphanumeric mode) and surrounding whitespace; mixed case is
    /// refused with [`CardError::MixedCase`], as bech32 requires.
    pub fn decode(s: &str) -> Result<ContactCard, CardError> {
        let s = s.trim();
        if s.len() > MAX_CARD_CHARS {
            return Err(CardError::Encoding(format!(
                "{} characters is longer than any card",
                s.len()
            )));
        }
        if s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(CardError::MixedCase);
        }
        let checked =
            CheckedHrpstring::new::<Bech32m>(s).map_err(|e| CardError::Encoding(e.to_string()))?;
        let hrp = Hrp::parse(HRP).map_err(|e| CardError::Encoding(e.to_string()))?;
        if checked.hrp() != hrp {
            return Err(CardError::WrongPrefix);
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();

        let mut r = Reader::new(&bytes);
        let version = r.u8("card version")?;
        if version != Self::VERSION {
            return Err(CardError::UnsupportedVersion(version));
        }
        let identity = PublicIdentity {
            signing: ContactKey(r.array("signing key")?),
            agreement: r.array("agreement key")?,
        };
        let name = r.short_str(MAX_NAME_BYTES, "name")?;
        let signature: [u8; 64] = r.array("signature")?;
        r.finish()?;

        check_name(name).map_err(|e| CardError::BadName(e.to_string()))?;
        identity.check_keys().map_err(|_| CardError::BadKey)?;
        identity
            .verify(&signed_message(&identity, name), &signature)
            .map_err(|_| CardError::BadSignature)?;

        let card = ContactCard {
            identity,
            name: name.to_owned(),
            signature,
        };
        // Bech32 leaves up to 4 padding bits unchecked by the byte decoder;
        // requiring the canonical string keeps one card = one string.
        if card.encode() != s.to_ascii_lowercase() {
            return Err(CardError::Encoding("non-canonical padding bits".into()));
        }
        Ok(card)
    }
}

/// `"pollen v1 card" || version || signing || agreement || len(name) u8 || name`.
fn signed_message(identity: &PublicIdentity, name: &str) -> Vec<u8> {
    let mut w = Writer::with_capacity(CARD_DOMAIN.len() + 1 + 64 + 1 + name.len());
    w.bytes(CARD_DOMAIN)
        .u8(ContactCard::VERSION)
        .bytes(&identity.signing.0)
        .bytes(&identity.agreement)
        .short_bytes(name.as_bytes());
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> Identity {
        Identity::generate("Ada Lovelace").unwrap()
    }

    /// Re-encodes `card` with arbitrary fields, bypassing signing.
    fn raw_encode(version: u8, id: &PublicIdentity, name: &[u8], sig: &[u8; 64]) -> String {
        let mut w = Writer::new();
        w.u8(version)
            .bytes(&id.signing.0)
            .bytes(&id.agreement)
            .short_bytes(name)
            .bytes(sig);
        bech32::encode_lower::<Bech32m>(Hrp::parse(HRP).unwrap(), &w.finish()).unwrap()
    }

    #[test]
    fn round_trip() {
        let id = ada();
        let card = id.card();
        let s = card.encode();
        assert!(s.starts_with("pollen1"));
        assert_eq!(s, s.to_lowercase());
        let back = ContactCard::decode(&s).unwrap();
        assert_eq!(back, card);
        assert_eq!(back.identity, id.public());
        assert_eq!(back.name, "Ada Lovelace");
        assert_eq!(ContactCard::decode(&format!("  {s}\n")).unwrap(), card);
    }

    #[test]
    fn uppercase_decodes_to_the_same_card() {
        let card = ada().card();
        let s = card.encode();
        assert!(s.starts_with("pollen1"));
        let upper = s.to_uppercase();
        assert!(upper.starts_with("POLLEN1") && upper != s);
        assert_eq!(ContactCard::decode(&upper).unwrap(), card);
        assert_eq!(ContactCard::decode(&format!(" {upper}\n")).unwrap(), card);
        // Read in upper case, written back in Pollen's lower case.
        assert_eq!(ContactCard::decode(&upper).unwrap().encode(), s);
    }

    #[test]
    fn mixed_case_is_refused_with_its_own_error() {
        let s = ada().card().encode();
        // Only the prefix upper-cased, only the data, one letter in the middle.
        let data_upper = format!("pollen1{}", s["pollen1".len()..].to_uppercase());
        let mut one_letter = s.clone();
        let i = s.rfind(|c: char| c.is_ascii_lowercase()).unwrap();
        one_letter.replace_range(i..=i, &s[i..=i].to_uppercase());
        for mixed in [
            format!("Pollen1{}", &s["pollen1".len()..]),
            data_upper,
            one_letter,
        ] {
            assert_ne!(mixed, s);
            let err = ContactCard::decode(&mixed).unwrap_err();
            assert_eq!(err, CardError::MixedCase, "{mixed}");
            assert!(err.to_string().contains("upper- and lower-case"));
        }
    }

    #[test]
    fn max_name_fits() {
        let id = Identity::generate(&"n".repeat(MAX_NAME_BYTES)).unwrap();
        let s = id.card().encode();
        assert!(s.len() <= 324, "{}", s.len());
        assert_eq!(ContactCard::decode(&s).unwrap().name.len(), MAX_NAME_BYTES);
    }

    #[test]
    fn tampered_character_fails() {
        let s = ada().card().encode();
        for i in 7..s.len() {
            let mut b = s.clone().into_bytes();
            b[i] = if b[i] == b'q' { b'p' } else { b'q' };
            let t = String::from_utf8(b).unwrap();
            assert!(ContactCard::decode(&t).is_err(), "flip at {i} accepted");
        }
        let mut b = s.into_bytes();
        b[20] = if b[20] == b'q' { b'p' } else { b'q' };
        assert!(matches!(
            ContactCard::decode(&String::from_utf8(b).unwrap()),
            Err(CardError::Encoding(_))
        ));
    }

    #[test]
    fn forged_name_fails_signature() {
        let card = ada().card();
        let forged = raw_encode(1, &card.identity, b"Mallory", &card.signature);
        assert_eq!(ContactCard::decode(&forged), Err(CardError::BadSignature));
        let other = Identity::generate("Bob").unwrap().public();
        let swapped_keys = raw_encode(1, &other, card.name.as_bytes(), &card.signature);
        assert_eq!(
            ContactCard::decode(&swapped_keys),
            Err(CardError::BadSignature)
        );
    }

    #[test]
    fn bad_fields_are_typed_errors() {
        let card = ada().card();
        let sig = card.signature;
        let v2 = raw_encode(2, &card.identity, card.name.as_bytes(), &sig);
        assert_eq!(
            ContactCard::decode(&v2),
            Err(CardError::UnsupportedVersion(2))
        );
        let long = raw_encode(1, &card.identity, &[b'x'; 65], &sig);
        assert!(matches!(
            ContactCard::decode(&long),
            Err(CardError::Decode(DecodeError::TooLong { .. }))
        ));
        let ctrl = raw_encode(1, &card.identity, b"a\nb", &sig);
        assert!(matches!(
            ContactCard::decode(&ctrl),
            Err(CardError::BadName(_))
        ));
        let empty = raw_encode(1, &card.identity, b"", &sig);
        assert!(matches!(
            ContactCard::decode(&empty),
            Err(CardError::BadName(_))
        ));
        let bad_utf8 = raw_encode(1, &card.identity, &[0xff, 0xfe], &sig);
        assert!(matches!(
            ContactCard::decode(&bad_utf8),
            Err(CardError::Decode(DecodeError::BadUtf8(_)))
        ));
        // The identity (all-zero) Edwards point is small-order.
        let weak = PublicIdentity {
            signing: ContactKey({
                let mut k = [0u8; 32];
                k[0] = 1;
                k
            }),
            agreement: card.identity.agreement,
        };
        let weak = raw_encode(1, &weak, card.name.as_bytes(), &sig);
        assert_eq!(ContactCard::decode(&weak), Err(CardError::BadKey));
        // S8: a small-order X25519 key would make every envelope sealed to
        // this card readable by anyone; refused even before the signature.
        let zero_agreement = PublicIdentity {
            signing: card.identity.signing,
            agreement: [0u8; 32],
        };
        let zero_agreement = raw_encode(1, &zero_agreement, card.name.as_bytes(), &sig);
        assert_eq!(ContactCard::decode(&zero_agreement), Err(CardError::BadKey));

        let wrong_hrp =
            bech32::encode_lower::<Bech32m>(Hrp::parse("pollem").unwrap(), &[1, 2, 3]).unwrap();
        assert_eq!(ContactCard::decode(&wrong_hrp), Err(CardError::WrongPrefix));
        let truncated =
            bech32::encode_lower::<Bech32m>(Hrp::parse(HRP).unwrap(), &[1, 2, 3]).unwrap();
        assert!(matches!(
            ContactCard::decode(&truncated),
            Err(CardError::Decode(DecodeError::Truncated { .. }))
        ));
        assert!(matches!(
            ContactCard::decode(""),
            Err(CardError::Encoding(_))
        ));
        assert!(matches!(
            ContactCard::decode(&"q".repeat(10_000)),
            Err(CardError::Encoding(_))
        ));
    }
}
