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
/// The highest session protocol version this build speaks (8: a Hello
/// names the tag days of what its sender holds, and the peer sends its tags
/// for those days in a `Tags` message; 7: tags blinded to 4 bytes; 6: chunks
/// travel with a copy budget and each side names the blobs it wants; 5: a
/// Hello may carry an encounter summary; 4: reconciliation
/// opens with a whole-set fingerprint; 3: attachment chunks; 2: an envelope
/// may travel with its copy budget, the `Copy` message).
pub const VERSION: u8 = 8;
/// The lowest session protocol version this build still speaks.
pub const MIN_VERSION: u8 = 1;
/// Noise protocol name between neighbours; changing it is a new session version.
pub const NOISE_PARAMS: &str = "Noise_NN_25519_ChaChaPoly_BLAKE2s";
/// Noise protocol name towards a relay whose static key the client knows.
pub const NOISE_PARAMS_NK: &str = "Noise_NK_25519_ChaChaPoly_BLAKE2s";
/// Prefix of the Noise prologue, which also binds both preambles so a
/// man in the middle cannot downgrade the negotiated version or record size.
const PROLOGUE_LABEL: &[u8] = b"pollen v1 link";

/// Handshake-phase record body types (after the preamble, before transport).
pub const HS_NOISE: u8 = 1;
/// A cleartext close reason sent before the link is encrypted.
pub const HS_CLOSE: u8 = 2;
/// A Noise NK handshake message: the initiator authenticates a relay's key.
pub const HS_NOISE_NK: u8 = 3;

/// Why the link could not be set up.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The peer's first bytes are not a Pollen preamble.
    #[error("not a Pollen peer (bad preamble magic)")]
    NotPollen,
    /// No version both sides speak.
    #[error(
        "unsupported version: peer speaks {peer_min}..={peer_max}, this node speaks {MIN_VERSION}..={VERSION}"
    )]
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
    /// A client asked for a relay handshake from a node that is not a relay.
    #[error("this node is not a relay")]
    NotARelay,
    /// The relay did not prove it holds the key in its address.
    #[error(
        "relay authentication failed: the peer does not hold the relay key in its address ({0})"
    )]
    RelayAuth(String),
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
            min_version: MIN_VERSION,
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

/// Starts the Noise NN handshake for one role.
pub fn noise(initiator: bool, prologue: &[u8]) -> Result<snow::HandshakeState, HandshakeError> {
    build(NOISE_PARAMS, initiator, prologue, None, None)
}

/// Starts a Noise NK handshake: the initiator gives the relay's public key,
/// the relay (responder) its private key.
pub fn noise_nk(
    initiator: bool,
    prologue: &[u8],
    key: &[u8; 32],
) -> Result<snow::HandshakeState, HandshakeError> {
    if initiator {
        build(NOISE_PARAMS_NK, true, prologue, None, Some(key))
    } else {
        build(NOISE_PARAMS_NK, false, prologue, Some(key), None)
    }
}

fn build(
    name: &str,
    initiator: bool,
    prologue: &[u8],
    local_private: Option<&[u8; 32]>,
    remote_public: Option<&[u8; 32]>,
) -> Result<snow::HandshakeState, HandshakeError> {
    let err = |e: snow::Error| HandshakeError::Noise(e.to_string());
    let params = name.parse().map_err(err)?;
    let mut builder = snow::Builder::with_resolver(params, crate::random::NoiseResolver::boxed())
        .prologue(prologue)
        .map_err(err)?;
    if let Some(k) = local_private {
        builder = builder.local_private_key(k).map_err(err)?;
    }
    if let Some(k) = remote_public {
        builder = builder.remote_public_key(k).map_err(err)?;
    }
    let state = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    };
    state.map_err(err)
}

/// The public half of a relay's static X25519 key.
pub fn relay_public(secret: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preamble_round_trips_and_negotiates_the_smaller_record() {
        let a = Preamble::ours(65_535);
        let b = Preamble::ours(180);
        assert_eq!(Preamble::decode(&a.encode()), Ok(a));
        assert_eq!(a.encode(), *b"POLN\x01\x08\xff\xff");
        assert_eq!(a.negotiate(&b), Ok((8, 180)));
        assert_eq!(b.negotiate(&a), Ok((8, 180)));
        // A build that speaks only version 1 still gets a session.
        let old = Preamble {
            min_version: 1,
            max_version: 1,
            max_record: 4096,
        };
        assert_eq!(a.negotiate(&old), Ok((1, 4096)));
    }

    #[test]
    fn unknown_versions_and_strangers_are_refused_with_a_reason() {
        let ours = Preamble::ours(4096);
        let future = Preamble {
            min_version: 9,
            max_version: 10,
            max_record: 4096,
        };
        let err = ours.negotiate(&future).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported version: peer speaks 9..=10, this node speaks 1..=8"
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

    #[test]
    fn nk_authenticates_the_relay_key_and_refuses_another() {
        let p = prologue(&Preamble::ours(4096), &Preamble::ours(4096));
        let relay = [7u8; 32];
        let public = relay_public(&relay);
        let (mut m1, mut out) = ([0u8; 128], [0u8; 128]);
        let mut init = noise_nk(true, &p, &public).unwrap();
        let n = init.write_message(&[], &mut m1).unwrap();
        let mut good = noise_nk(false, &p, &relay).unwrap();
        assert!(good.read_message(&m1[..n], &mut out).is_ok());
        // A relay with another key cannot read the first message.
        let mut fake = noise_nk(false, &p, &[9u8; 32]).unwrap();
        assert!(fake.read_message(&m1[..n], &mut out).is_err());
    }
}
