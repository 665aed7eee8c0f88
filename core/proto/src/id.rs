//! Fixed-size byte ids with names: [`byte_id!`] declares a newtype over
//! `[u8; N]` that prints as hex, parses from hex and says what it names, so a
//! public signature reads `&ContactKey` or `&Commitment` rather than `&[u8; 32]`.

use thiserror::Error;

/// Why a hex id typed by someone could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("not a valid {kind}: expected {expected} hex characters, got {got:?}")]
pub struct IdParseError {
    /// What the id names ("envelope id", "contact key", …).
    pub kind: &'static str,
    /// Hex characters expected (twice the byte length).
    pub expected: usize,
    /// What was given, trimmed.
    pub got: String,
}

/// Decodes `s` (trimmed, either case) into exactly `N` bytes.
pub fn decode_hex<const N: usize>(kind: &'static str, s: &str) -> Result<[u8; N], IdParseError> {
    let s = s.trim();
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| IdParseError {
        kind,
        expected: 2 * N,
        got: s.to_owned(),
    })?;
    Ok(out)
}

/// Lowercase hex of `bytes`.
pub fn encode_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Declares `pub struct $name(pub [u8; $len])` with the usual derives, hex
/// `Display` (all bytes), a short hex `Debug` (first four bytes), `FromStr`
/// (hex, [`IdParseError`]), `to_hex`, `as_bytes`, `AsRef<[u8]>`, `&id[..]`
/// and `From<[u8; $len]>`.
#[macro_export]
macro_rules! byte_id {
    ($(#[$meta:meta])* $name:ident, $len:expr, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// All bytes as lowercase hex.
            #[allow(clippy::wrong_self_convention)]
            pub fn to_hex(&self) -> String {
                $crate::id::encode_hex(&self.0)
            }
        }

        impl ::core::convert::From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                $name(bytes)
            }
        }

        impl ::core::convert::AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        /// `&id[..]`: the bytes as a slice, as for the array it wraps.
        impl ::core::ops::Index<::core::ops::RangeFull> for $name {
            type Output = [u8];

            fn index(&self, _: ::core::ops::RangeFull) -> &[u8] {
                &self.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({}…)", stringify!($name), $crate::id::encode_hex(&self.0[..4]))
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::id::IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::id::decode_hex($kind, s).map($name)
            }
        }
    };
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    byte_id!(
        /// A test id.
        TestId,
        4,
        "test id"
    );

    #[test]
    fn hex_round_trip_and_errors() {
        let id = TestId([0xab, 0x01, 0x02, 0xff]);
        assert_eq!(id.to_string(), "ab0102ff");
        assert_eq!(format!("{id:?}"), "TestId(ab0102ff…)");
        assert_eq!(" AB0102FF ".parse::<TestId>(), Ok(id));
        let err = "abc".parse::<TestId>().unwrap_err();
        assert_eq!((err.kind, err.expected), ("test id", 8));
        assert!("zz0102ff".parse::<TestId>().is_err());
    }
}
