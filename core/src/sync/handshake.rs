//! The start of a link: a cleartext preamble that negotiates the protocol
//! version and the record size, then a Noise NN handshake that encrypts and
//! authenticates the link without either side showing a long-term key.
//!
//! NN (ephemeral keys only) is deliberate: neighbours are usually strangers,
//! and envelopes are end-to-end sealed anyway, so the link only has to hide
//! traffic from bystanders and stop tampering in transit. Nothing a stranger
//! sees during the handshake identifies the device or survives the session.

use super::frame::{MAX_RECORD, MIN_RECORD};
use thiserror::Error;

/// First bytes each side sends on a fresh link.
pub const MAGIC: &[u8; 4] = b"POLN";
/// Length of the preamble: magic, lowest and highest version, max record (u16 BE).
pub const PREAMBLE_LEN: usize = 8;
/// The only session protocol version this build speaks.
pub const VERSION: u8 = 1;
/// Noise protocol name; changing it is a new session version.
pub const NOISE_PARAMS: &str = "Noise_NN_25519_ChaChaPoly_BLAKE2s";
/// Prefix of the Noise prologue, which also binds both preambles so a
/// man in the middle cannot downgrade the negotiated version or record size.
const PROLOGUE_LABEL: &[u8] = b"pollen v1 link";

/// Handshake-phase record body types (after the preamble, before transport).
pub const HS_NOISE: u8 = 1;
/// A cleartext close reason sent before the link is encrypted.
pub const HS_CLOSE: u8 = 2;

/// Why the link could not be set up.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The peer's first bytes are not a Pollen preamble.
    #[error("not a Pollen peer (bad preamble magic)")]
    NotPollen,
    /// No version both sides speak.
    #[error("unsupported version: peer speaks {peer_min}..={peer_max}, this node speaks {VERSION}")]
    UnsupportedVersion {
        /// Lowest version the peer speaks.
        peer_min: u8,
        /// Highest version the peer speaks.
        peer_max: u8,
    },
    /// The peer offered a record size below the smallest link.
    #[error("peer's maximum record of {0} bytes is below the minimum of {MIN_RECORD}")]
    RecordTooSmall(u16),
    /// Noise refused a handshake message (tampering or garbage).
    #[error("noise handshake failed: {0}")]
    Noise(String),
    /// A handshake record of a type this version does not define.
    #[error("unexpected handshake record type {0}")]
    UnexpectedRecord(u8),
}

/// What one side announces in its preamble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preamble {
    /// Lowest protocol version spoken.
    pub min_version: u8,
    /// Highest protocol version spoken.
    pub max_version: u8,
    /// Largest record this side accepts, in bytes on the wire.
    pub max_record: u16,
}

impl Preamble {
    /// This build's preamble for a link that carries records of at most `max_record` bytes.
    pub fn ours(max_record: usize) -> Preamble {
        Preamble {
            min_version: VERSION,
            max_version: VERSION,
            max_record: max_record.clamp(MIN_RECORD, MAX_RECORD) as u16,
        }
    }

    /// The 8 bytes on the wire.
    pub fn encode(&self) -> [u8; PREAMBLE_LEN] {
        let mut out = [0u8; PREAMBLE_LEN];
        out[..4].copy_from_slice(MAGIC);
        out[4] = self.min_version;
        out[5] = self.max_version;
        out[6..].copy_from_slice(&self.max_record.to_be_bytes());
        out
    }

    /// Parses the peer's preamble (exactly [`PREAMBLE_LEN`] bytes).
    pub fn decode(bytes: &[u8; PREAMBLE_LEN]) -> Result<Preamble, HandshakeError> {
        if &bytes[..4] != MAGIC {
            return Err(HandshakeError::NotPollen);
        }
        Ok(Preamble {
            min_version: bytes[4],
            max_version: bytes[5],
            max_record: u16::from_be_bytes([bytes[6], bytes[7]]),
        })
    }

    /// The version and record size both sides can use, or why there is none.
    pub fn negotiate(&self, peer: &Preamble) -> Result<(u8, usize), HandshakeError> {
        let version = self.max_version.min(peer.max_version);
        if version < self.min_version.max(peer.min_version) || peer.min_version > peer.max_version {
            return Err(HandshakeError::UnsupportedVersion {
                peer_min: peer.min_version,
                peer_max: peer.max_version,
            });
        }
        if (peer.max_record as usize) < MIN_RECORD {
            return Err(HandshakeError::RecordTooSmall(peer.max_record));
        }
        Ok((version, self.max_record.min(peer.max_record) as usize))
    }
}

/// The Noise prologue: the label and both preambles, initiator's first.
pub fn prologue(initiator: &Preamble, responder: &Preamble) -> Vec<u8> {
    let mut p = PROLOGUE_LABEL.to_vec();
    p.extend_from_slice(&initiator.encode());
    p.extend_from_slice(&responder.encode());
    p
}

/// Starts the Noise handshake for one role.
pub fn noise(initiator: bool, prologue: &[u8]) -> Result<snow::HandshakeState, HandshakeError> {
    let params = NOISE_PARAMS
        .parse()
        .map_err(|e: snow::Error| HandshakeError::Noise(e.to_string()))?;
    let builder = snow::Builder::new(params).prologue(prologue);
    let builder = builder.map_err(|e| HandshakeError::Noise(e.to_string()))?;
    let state = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    };
    state.map_err(|e| HandshakeError::Noise(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preamble_round_trips_and_negotiates_the_smaller_record() {
        let a = Preamble::ours(65_535);
        let b = Preamble::ours(180);
        assert_eq!(Preamble::decode(&a.encode()), Ok(a));
        assert_eq!(a.encode(), *b"POLN\x01\x01\xff\xff");
        assert_eq!(a.negotiate(&b), Ok((1, 180)));
        assert_eq!(b.negotiate(&a), Ok((1, 180)));
    }

    #[test]
    fn unknown_versions_and_strangers_are_refused_with_a_reason() {
        let ours = Preamble::ours(4096);
        let future = Preamble {
            min_version: 2,
            max_version: 3,
            max_record: 4096,
        };
        let err = ours.negotiate(&future).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported version: peer speaks 2..=3, this node speaks 1"
        );
        assert_eq!(
            Preamble::decode(b"GET / HT"),
            Err(HandshakeError::NotPollen)
        );
        let tiny = Preamble {
            max_record: 20,
            ..ours
        };
        assert_eq!(
            ours.negotiate(&tiny),
            Err(HandshakeError::RecordTooSmall(20))
        );
    }

    #[test]
    fn a_tampered_prologue_breaks_the_handshake() {
        let a = Preamble::ours(4096);
        let b = Preamble::ours(180);
        let mut init = noise(true, &prologue(&a, &b)).unwrap();
        // The responder saw a different initiator preamble (a downgrade attempt).
        let mut resp = noise(false, &prologue(&Preamble::ours(180), &b)).unwrap();
        let mut m1 = [0u8; 128];
        let mut m2 = [0u8; 128];
        let mut out = [0u8; 128];
        let n = init.write_message(&[], &mut m1).unwrap();
        resp.read_message(&m1[..n], &mut out).unwrap();
        let n = resp.write_message(&[], &mut m2).unwrap();
        assert!(init.read_message(&m2[..n], &mut out).is_err());
    }
}
