//! Known-bad public keys: small-order X25519 points (whose shared secret is
//! all zeros whatever the other side's secret is) and weak Ed25519 keys
//! (small order, including the identity encodings, for which a signature can
//! be valid for many messages). Checked when a card or envelope author is read
//! and when an identity is created or loaded.

use super::{IdentityError, PublicIdentity};
use ed25519_dalek::VerifyingKey;
use subtle::ConstantTimeEq;

/// Every encoding of a small-order X25519 point once bit 255 is cleared
/// (X25519 ignores that bit): 0, 1, the two points of order 8, p − 1, and
/// p and p + 1 (non-canonical encodings of 0 and 1); the list libsodium
/// refuses. Compared against directly: the probe scalar multiplication it
/// replaced cost about 0.7 million instructions, a third of opening an
/// envelope (`docs/PERFORMANCE.md`).
const SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    field_top(0xec),
    field_top(0xed),
    field_top(0xee),
];

/// `low` followed by 30 bytes of 0xff and 0x7f: p − 1, p and p + 1 for
/// 0xec, 0xed and 0xee (p = 2^255 − 19).
const fn field_top(low: u8) -> [u8; 32] {
    let mut k = [0xff; 32];
    k[0] = low;
    k[31] = 0x7f;
    k
}

/// True when `agreement` is a small-order X25519 point (including all-zero,
/// one and their non-canonical encodings): any key agreement with it gives
/// the all-zero secret, so an envelope "sealed" to it is readable by anyone.
pub fn is_weak_agreement_key(agreement: &[u8; 32]) -> bool {
    let mut u = *agreement;
    u[31] &= 0x7f;
    SMALL_ORDER
        .iter()
        .fold(subtle::Choice::from(0), |weak, s| weak | s.ct_eq(&u))
        .into()
}

/// True when `signing` is not a point on the curve or is of small order.
pub fn is_weak_signing_key(signing: &[u8; 32]) -> bool {
    VerifyingKey::from_bytes(signing).map_or(true, |k| k.is_weak())
}

/// True when two 32-byte public keys are equal, compared in constant time:
/// used wherever a key comparison decides who someone is.
pub fn keys_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

impl PublicIdentity {
    /// Refuses either key if it is known-bad (small order / weak).
    pub fn check_keys(&self) -> Result<(), IdentityError> {
        if is_weak_signing_key(&self.signing.0) {
            return Err(IdentityError::WeakKey("signing"));
        }
        if is_weak_agreement_key(&self.agreement) {
            return Err(IdentityError::WeakKey("agreement"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ContactKey, Identity};

    /// The canonical small-order Montgomery u-coordinates (0, 1, the order-8
    /// points, p-1) plus non-canonical encodings (p, p+1, high bit set).
    fn small_order_x25519() -> Vec<[u8; 32]> {
        let mut keys = vec![[0u8; 32]];
        let mut one = [0u8; 32];
        one[0] = 1;
        keys.push(one);
        keys.push(
            hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
                .unwrap()
                .try_into()
                .unwrap(),
        );
        keys.push(
            hex::decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")
                .unwrap()
                .try_into()
                .unwrap(),
        );
        for low in [0xec, 0xed, 0xee] {
            let mut p = [0xffu8; 32];
            p[0] = low;
            p[31] = 0x7f;
            keys.push(p);
        }
        let high: Vec<[u8; 32]> = keys
            .iter()
            .map(|k| {
                let mut h = *k;
                h[31] |= 0x80;
                h
            })
            .collect();
        keys.extend(high);
        keys
    }

    /// The definition, the slow way: a scalar that is a multiple of the
    /// cofactor 8 maps every small-order point, and only those, to zero.
    fn probe_says_weak(agreement: &[u8; 32]) -> bool {
        use x25519_dalek::{PublicKey, StaticSecret};
        !StaticSecret::from([0x5a; 32])
            .diffie_hellman(&PublicKey::from(*agreement))
            .was_contributory()
    }

    proptest::proptest! {
        /// The list agrees with the definition on random keys and on every
        /// key within 255 of an entry, with bit 255 either way.
        #[test]
        fn the_small_order_list_agrees_with_a_scalar_multiplication(
            random in proptest::array::uniform32(proptest::num::u8::ANY),
            entry in 0..SMALL_ORDER.len(),
            delta in -255i32..=255,
            high: bool,
        ) {
            proptest::prop_assert_eq!(is_weak_agreement_key(&random), probe_says_weak(&random));
            let mut near = SMALL_ORDER[entry];
            let (low, borrow) = if delta < 0 {
                near[0].overflowing_sub((-delta) as u8)
            } else {
                near[0].overflowing_add(delta as u8)
            };
            near[0] = low;
            if borrow {
                near[1] = if delta < 0 { near[1].wrapping_sub(1) } else { near[1].wrapping_add(1) };
            }
            if high {
                near[31] |= 0x80;
            }
            proptest::prop_assert_eq!(is_weak_agreement_key(&near), probe_says_weak(&near), "{}", hex::encode(near));
        }
    }

    #[test]
    fn s8_small_order_x25519_keys_are_refused() {
        for k in small_order_x25519() {
            assert!(is_weak_agreement_key(&k), "{}", hex::encode(k));
            assert!(probe_says_weak(&k), "{}", hex::encode(k));
        }
        let good = Identity::generate("ana").unwrap().public();
        assert!(!is_weak_agreement_key(&good.agreement));
        assert_eq!(good.check_keys(), Ok(()));
    }

    #[test]
    fn s8_weak_ed25519_keys_are_refused() {
        // The identity point (y = 1), its sign-flipped encoding, y = -1 (order 2)
        // and all zeros (order 4) are all weak.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut flipped = identity;
        flipped[31] = 0x80;
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        for k in [identity, flipped, minus_one, [0u8; 32]] {
            assert!(is_weak_signing_key(&k), "{}", hex::encode(k));
            let good = Identity::generate("ana").unwrap().public();
            let bad = PublicIdentity {
                signing: ContactKey(k),
                agreement: good.agreement,
            };
            assert_eq!(bad.check_keys(), Err(IdentityError::WeakKey("signing")));
        }
    }

    #[test]
    fn s8_identity_with_small_order_agreement_key_is_refused() {
        let good = Identity::generate("ana").unwrap().public();
        let bad = PublicIdentity {
            signing: good.signing,
            agreement: [0u8; 32],
        };
        assert_eq!(bad.check_keys(), Err(IdentityError::WeakKey("agreement")));
    }

    #[test]
    fn c4_key_comparison_is_constant_time_and_correct() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(keys_equal(&a, &b));
        b[31] ^= 1;
        assert!(!keys_equal(&a, &b));
        b = a;
        b[0] ^= 0x80;
        assert!(!keys_equal(&a, &b));
    }
}
