//! Routing tags and shared (group epoch or channel) keys.

use super::EnvelopeError;
use crate::identity::PublicIdentity;
use crate::payload::ConversationId;
use hkdf::Hkdf;
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroize;

const DIRECT_TAG_CONTEXT: &str = "pollen v1 direct tag";
const SHARED_TAG_CONTEXT: &str = "pollen v1 shared tag";
const SHARED_ID_CONTEXT: &str = "pollen v1 shared id";
const CHANNEL_SALT: &[u8] = b"pollen v1 channel";
const CHANNEL_INFO: &[u8] = b"key";
const SHARED_AEAD_INFO: &[u8] = b"pollen v1 shared aead";
/// Tags rotate once per UTC day of the expiry, so strangers cannot link one
/// recipient's envelopes across days.
pub const TAG_PERIOD_SECS: u64 = 86400;

/// 8-byte routing tag: lets a recipient spot its envelopes with one hash,
/// without telling strangers who they are for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct RoutingTag(pub [u8; 8]);

impl RoutingTag {
    /// Tag of a direct envelope to `recipient` expiring at `expires_at`.
    pub fn direct(recipient: &PublicIdentity, expires_at: u64) -> RoutingTag {
        Self::keyed(
            &blake3::derive_key(DIRECT_TAG_CONTEXT, &recipient.agreement),
            expires_at,
        )
    }

    /// Tag of an envelope sealed under `key` expiring at `expires_at`.
    pub fn shared(key: &SharedKey, expires_at: u64) -> RoutingTag {
        let mut tag_key = blake3::derive_key(SHARED_TAG_CONTEXT, &key.0);
        let tag = Self::keyed(&tag_key, expires_at);
        tag_key.zeroize();
        tag
    }

    /// The tag day of an expiry time: tags of one key differ from day to day.
    pub fn day_of(expires_at: u64) -> u64 {
        expires_at / TAG_PERIOD_SECS
    }

    fn keyed(key: &[u8; 32], expires_at: u64) -> RoutingTag {
        let day = Self::day_of(expires_at);
        let h = blake3::keyed_hash(key, &day.to_le_bytes());
        let mut out = [0u8; 8];
        out.copy_from_slice(&h.as_bytes()[..8]);
        RoutingTag(out)
    }

    /// 16 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for RoutingTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A symmetric key shared by several people: a group epoch key or a channel key.
/// Zeroized on drop.
#[derive(Clone, Eq)]
pub struct SharedKey(pub [u8; 32]);

impl PartialEq for SharedKey {
    // A secret: compared in constant time so timing tells nothing of it.
    fn eq(&self, other: &Self) -> bool {
        crate::identity::keys_equal(&self.0, &other.0)
    }
}

impl Drop for SharedKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SharedKey {
    // Only the public id: the key itself must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedKey(id {})", hex::encode(self.id()))
    }
}

impl SharedKey {
    /// A fresh key from the OS CSPRNG (for a new group epoch).
    pub fn random() -> Result<SharedKey, EnvelopeError> {
        let mut key = SharedKey([0u8; 32]);
        crate::random::fill(&mut key.0)
            .map_err(|e| EnvelopeError::Crypto(format!("system random number generator: {e}")))?;
        Ok(key)
    }

    /// The public channel key everyone who knows `name` derives:
    /// HKDF-SHA256(salt "pollen v1 channel", ikm lowercase(trim(name)), info "key").
    pub fn for_channel(name: &str) -> SharedKey {
        let ikm = name.trim().to_lowercase();
        let mut key = SharedKey([0u8; 32]);
        Hkdf::<Sha256>::new(Some(CHANNEL_SALT), ikm.as_bytes())
            .expand(CHANNEL_INFO, &mut key.0)
            // 32 bytes is far below HKDF-SHA256's 255 * 32 byte output limit.
            .expect("32-byte HKDF output is always valid");
        key
    }

    /// 16-byte public name of the conversation this key belongs to.
    pub fn id(&self) -> ConversationId {
        let full = blake3::derive_key(SHARED_ID_CONTEXT, &self.0);
        let mut out = ConversationId([0u8; 16]);
        out.0.copy_from_slice(&full[..16]);
        out
    }

    /// The XChaCha20-Poly1305 key: HKDF-SHA256(no salt, ikm key, info "pollen v1 shared aead").
    pub(super) fn aead_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(SHARED_AEAD_INFO, &mut out)
            // 32 bytes is far below HKDF-SHA256's 255 * 32 byte output limit.
            .expect("32-byte HKDF output is always valid");
        out
    }
}
