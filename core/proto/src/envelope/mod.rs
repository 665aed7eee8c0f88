//! Envelopes: what carriers carry, opaque to everyone but their recipients.
//!
//! An envelope is a 50-byte cleartext header (version, expiry, hop budget,
//! routing tag, delivery-proof commitment) followed by a sealed body, padded so
//! the whole envelope is always one of [`BUCKETS`] bytes long. The body is
//! HPKE-sealed to one [`PublicIdentity`] or XChaCha20-Poly1305-sealed under a
//! [`SharedKey`]; inside, the author signs the header and the message. See
//! `docs/PROTOCOL.md` for the byte-exact layout.

mod keys;
mod seal;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use keys::{RoutingTag, SharedKey};
pub use seal::{Draft, Opened, Recipient, Sealed, open_direct, open_shared, seal, seal_with_rng};

use crate::codec::{DecodeError, Reader};
use crate::identity::MAX_NAME_BYTES;
use thiserror::Error;

/// Envelope format version written and read by this build.
pub const VERSION: u8 = 1;
/// Length of the cleartext header.
pub const HEADER_LEN: usize = 50;
/// Largest envelope (the largest padding bucket).
pub const MAX_ENVELOPE_BYTES: usize = 65536;
/// Every envelope is exactly one of these lengths, so its size reveals only a
/// coarse class. No 256: header, AEAD overhead and the fixed inner fields
/// alone (264 bytes) exceed it.
pub const BUCKETS: [usize; 8] = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
/// Longest lifetime a sender may give an envelope.
pub const MAX_TTL_SECS: u64 = 30 * 86400;
/// How far a receiver's clock may lag the sender's before an expiry looks too far away.
pub const CLOCK_SKEW_SECS: u64 = 3600;

/// Inner fields other than the name and payload contents: version 1,
/// sent_at 8, author keys 64, name length 1, proof secret 32, payload length 4,
/// signature 64.
const INNER_FIXED: usize = 1 + 8 + 32 + 32 + 1 + 32 + 4 + 64;
/// HPKE encapsulated key + Poly1305 tag.
const DIRECT_OVERHEAD: usize = 32 + 16;
/// XChaCha20 nonce + Poly1305 tag.
const SHARED_OVERHEAD: usize = 24 + 16;

/// Largest payload: a maximal-name direct envelope (the larger overhead) then
/// fills the largest bucket exactly.
pub const MAX_PAYLOAD_BYTES: usize =
    MAX_ENVELOPE_BYTES - HEADER_LEN - DIRECT_OVERHEAD - INNER_FIXED - MAX_NAME_BYTES;

/// Why an envelope could not be decoded, sealed or opened.
#[derive(Debug, Error)]
pub enum EnvelopeError {
    /// A field inside the envelope is malformed.
    #[error("malformed envelope: {0}")]
    Decode(#[from] DecodeError),
    /// The length is not one of the padding buckets.
    #[error("envelope is {0} bytes, which is not a valid envelope size")]
    BadLength(usize),
    /// Larger than [`MAX_ENVELOPE_BYTES`].
    #[error("envelope is {0} bytes, more than the limit of {MAX_ENVELOPE_BYTES}")]
    TooLarge(usize),
    /// A format version this build does not speak.
    #[error("envelope version {0} is not supported (this build speaks {VERSION})")]
    UnsupportedVersion(u8),
    /// The envelope's lifetime is over.
    #[error("envelope expired at {expires_at} (now {now})")]
    Expired {
        /// When it expired (unix seconds).
        expires_at: u64,
        /// The time it was checked against.
        now: u64,
    },
    /// The expiry is further away than any honest sender would set.
    #[error("envelope expires at {expires_at}, more than 30 days after {now}")]
    ExpiryTooFar {
        /// The claimed expiry (unix seconds).
        expires_at: u64,
        /// The time it was checked against.
        now: u64,
    },
    /// The payload does not fit the largest envelope.
    #[error("payload is {0} bytes, more than the limit of {MAX_PAYLOAD_BYTES}")]
    PayloadTooLarge(usize),
    /// Wrong key, not addressed to us, or tampered with: indistinguishable on purpose.
    #[error("envelope is not for this key (or was tampered with)")]
    NotForMe,
    /// The proof secret inside does not match the header's commitment.
    #[error("envelope delivery-proof commitment does not match its secret")]
    BadCommitment,
    /// The padding after the signature is not all zeros.
    #[error("envelope padding is not zero")]
    BadPadding,
    /// The author's signature does not verify.
    #[error("envelope signature does not verify")]
    BadSignature,
    /// The author's keys are known-bad (small order, weak).
    #[error("envelope author key is a known-bad key")]
    WeakAuthorKey,
    /// The author's name inside breaks the naming rules.
    #[error("envelope author name is invalid: {0}")]
    BadAuthorName(String),
    /// A cryptographic primitive or the system RNG failed while sealing.
    #[error("envelope crypto failure: {0}")]
    Crypto(String),
}

/// The cleartext header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version, always [`VERSION`].
    pub version: u8,
    /// Unix seconds after which nobody should carry or accept the envelope.
    pub expires_at: u64,
    /// Remaining hop budget: the only field a carrier may change.
    pub hops: u8,
    /// Routing tag recipients recognise their envelopes by.
    pub tag: RoutingTag,
    /// BLAKE3 of the proof secret the recipient will reveal on delivery.
    pub commitment: Commitment,
}

impl Header {
    /// The 50 header bytes with `hops` in place of the hop budget.
    fn to_bytes_with_hops(self, hops: u8) -> [u8; HEADER_LEN] {
        // Constant ranges into a fixed-size array: cannot fail.
        let mut out = [0u8; HEADER_LEN];
        out[0] = self.version;
        out[1..9].copy_from_slice(&self.expires_at.to_le_bytes());
        out[9] = hops;
        out[10..18].copy_from_slice(&self.tag.0);
        out[18..50].copy_from_slice(self.commitment.as_bytes());
        out
    }

    /// The bytes carriers cannot change: the header with hops set to 0. AEAD
    /// associated data, signed by the author, and hashed into the id.
    pub fn authenticated_bytes(&self) -> [u8; HEADER_LEN] {
        self.to_bytes_with_hops(0)
    }
}

crate::byte_id!(
    /// BLAKE3 of the encoded envelope with the hops byte set to 0, so carriers
    /// decrementing hops do not change it.
    EnvelopeId,
    32,
    "envelope id"
);

impl EnvelopeId {
    /// Parses 64 hex characters (either case); `None` if malformed (see
    /// `str::parse` for the reason).
    pub fn from_hex(s: &str) -> Option<EnvelopeId> {
        s.parse().ok()
    }
}

crate::byte_id!(
    /// A delivery-proof commitment: BLAKE3 of the [`DeliveryProof`] secret,
    /// in the envelope's cleartext header. Carriers match proofs to the
    /// envelopes they hold by it.
    Commitment,
    32,
    "delivery-proof commitment"
);

crate::byte_id!(
    /// The secret a recipient reveals to prove delivery (the preimage of the
    /// envelope's [`Commitment`]); carriers holding it drop the matching
    /// envelope.
    DeliveryProof,
    32,
    "delivery proof"
);

impl DeliveryProof {
    /// BLAKE3(secret): equals the header commitment of the delivered envelope.
    pub fn commitment(&self) -> Commitment {
        Commitment(*blake3::hash(&self.0).as_bytes())
    }

    /// True if this proof shows `header`'s envelope was delivered.
    pub fn proves(&self, header: &Header) -> bool {
        crate::identity::keys_equal(self.commitment().as_bytes(), header.commitment.as_bytes())
    }
}

/// A structurally valid envelope; its contents are opened with
/// [`open_direct`] or [`open_shared`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    header: Header,
    /// Sealed body; `HEADER_LEN + body.len()` is always one of [`BUCKETS`].
    body: Vec<u8>,
}

impl Envelope {
    /// Structural checks only (size bucket, version); never allocates more than the input.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let len = bytes.len();
        if len > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge(len));
        }
        // Version first: a future version may use other sizes, and "version 2
        // is not supported" is the more useful message.
        if let Some(&v) = bytes.first()
            && v != VERSION
        {
            return Err(EnvelopeError::UnsupportedVersion(v));
        }
        if !BUCKETS.contains(&len) {
            return Err(EnvelopeError::BadLength(len));
        }
        let mut r = Reader::new(bytes);
        let header = Header {
            version: r.u8("version")?,
            expires_at: r.u64("expires_at")?,
            hops: r.u8("hops")?,
            tag: RoutingTag(r.array("routing tag")?),
            commitment: Commitment(r.array("commitment")?),
        };
        Ok(Envelope {
            header,
            body: r.rest().to_vec(),
        })
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&self.header.to_bytes_with_hops(self.header.hops));
        out.extend_from_slice(&self.body);
        out
    }

    /// Content address, independent of the hop budget.
    pub fn id(&self) -> EnvelopeId {
        let mut h = blake3::Hasher::new();
        h.update(&self.header.authenticated_bytes())
            .update(&self.body);
        EnvelopeId(*h.finalize().as_bytes())
    }

    /// The cleartext header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Sets the remaining hop budget (what a carrier does before forwarding).
    pub fn set_hops(&mut self, hops: u8) {
        self.header.hops = hops;
    }

    /// Encoded length in bytes: always one of [`BUCKETS`].
    pub fn len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }

    /// Always false: an envelope is at least 512 bytes (here for API symmetry with `len`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Checks expiry against `now`: Expired if expires_at <= now, ExpiryTooFar
    /// if expires_at > now + MAX_TTL_SECS + 3600 (clock skew allowance).
    pub fn check_fresh(&self, now: u64) -> Result<(), EnvelopeError> {
        let expires_at = self.header.expires_at;
        if expires_at <= now {
            return Err(EnvelopeError::Expired { expires_at, now });
        }
        if expires_at > now.saturating_add(MAX_TTL_SECS + CLOCK_SKEW_SECS) {
            return Err(EnvelopeError::ExpiryTooFar { expires_at, now });
        }
        Ok(())
    }

    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    pub(crate) fn from_parts(header: Header, body: Vec<u8>) -> Envelope {
        Envelope { header, body }
    }
}
