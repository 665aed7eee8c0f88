//! What a node advertises: the service UUID and a short identifier that
//! rotates every [`ROTATION_MS`] and at every start, unlinkable to the
//! node's long-term identity (see `docs/PROTOCOL.md`, "Advertisement").
//!
//! The identifier is `BLAKE3-keyed(boot secret, context || epoch)[..8]`: the
//! boot secret comes from the OS CSPRNG at start and never leaves memory, so
//! nothing public (keys, fingerprint, cards, earlier identifiers) predicts it.

use super::profile::BLE_VERSION;
use std::fmt;
use thiserror::Error;
use zeroize::Zeroizing;

/// How long one advertised identifier lasts.
pub const ROTATION_MS: u64 = 15 * 60 * 1000;
/// Bytes of an advertised identifier.
pub const ID_LEN: usize = 8;
/// Bytes of the service data: version, then the identifier.
pub const SERVICE_DATA_LEN: usize = 1 + ID_LEN;
/// First character of the local-name form (iOS cannot advertise service data).
pub const NAME_PREFIX: char = 'P';
/// Domain separation for the keyed hash.
const CONTEXT: &[u8] = b"pollen ble advert id v1";

/// A rotating identifier as advertised; ordered so two phones agree who connects.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdvertId(pub [u8; ID_LEN]);

impl fmt::Debug for AdvertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdvertId({self})")
    }
}

impl fmt::Display for AdvertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The per-start secret the identifiers derive from.
pub struct AdvertKey {
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for AdvertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdvertKey(..)")
    }
}

/// The OS random generator failed; nothing can be advertised safely.
#[derive(Debug, Error)]
#[error("no randomness for the advertising secret: {0}")]
pub struct RandomnessError(String);

impl AdvertKey {
    /// A fresh secret from the OS CSPRNG: call once per start.
    pub fn random() -> Result<AdvertKey, RandomnessError> {
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *secret).map_err(|e| RandomnessError(e.to_string()))?;
        Ok(AdvertKey { secret })
    }

    /// A key from a known secret (test vectors, deterministic simulations).
    pub fn from_secret(secret: [u8; 32]) -> AdvertKey {
        AdvertKey {
            secret: Zeroizing::new(secret),
        }
    }

    /// The identifier advertised at `now_ms` (unix milliseconds).
    pub fn id_at(&self, now_ms: u64) -> AdvertId {
        let epoch = now_ms / ROTATION_MS;
        let mut h = blake3::Hasher::new_keyed(&self.secret);
        h.update(CONTEXT);
        h.update(&epoch.to_le_bytes());
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&h.finalize().as_bytes()[..ID_LEN]);
        AdvertId(id)
    }
}

/// When the identifier in force at `now_ms` is replaced.
pub fn next_rotation_ms(now_ms: u64) -> u64 {
    (now_ms / ROTATION_MS + 1).saturating_mul(ROTATION_MS)
}

/// Service data for the Pollen service UUID: version byte, identifier.
pub fn service_data(id: AdvertId) -> [u8; SERVICE_DATA_LEN] {
    let mut out = [0u8; SERVICE_DATA_LEN];
    out[0] = BLE_VERSION;
    out[1..].copy_from_slice(&id.0);
    out
}

/// The local-name form: `P`, the version digit, 16 lowercase hex digits.
pub fn local_name(id: AdvertId) -> String {
    format!("{NAME_PREFIX}{BLE_VERSION}{id}")
}

/// Why an advertisement's Pollen fields did not parse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AdvertError {
    /// The service data is shorter than version and identifier.
    #[error("service data of {0} bytes, expected {SERVICE_DATA_LEN}")]
    ShortServiceData(usize),
    /// The advertisement speaks another version of the profile.
    #[error("unsupported advertisement version {0}")]
    Version(u8),
    /// A Pollen-style local name that is not version digit and 16 hex digits.
    #[error("malformed advertised name")]
    BadName,
}

/// The identifier in an advertisement of the Pollen service, from its service
/// data (preferred) or its local name; `Ok(None)` when it carries neither
/// (an iOS phone in the background advertises the service UUID only).
/// Trailing service-data bytes are ignored, for later versions.
pub fn parse(
    service_data: Option<&[u8]>,
    local_name: Option<&str>,
) -> Result<Option<AdvertId>, AdvertError> {
    if let Some(data) = service_data {
        let Some((&version, rest)) = data.split_first() else {
            return Err(AdvertError::ShortServiceData(0));
        };
        if version != BLE_VERSION {
            return Err(AdvertError::Version(version));
        }
        let id = rest
            .get(..ID_LEN)
            .ok_or(AdvertError::ShortServiceData(data.len()))?;
        let mut out = [0u8; ID_LEN];
        out.copy_from_slice(id);
        return Ok(Some(AdvertId(out)));
    }
    let Some(name) = local_name else {
        return Ok(None);
    };
    let Some(rest) = name.strip_prefix(NAME_PREFIX) else {
        // Someone else's name on a Pollen service UUID: no identifier.
        return Ok(None);
    };
    let mut chars = rest.chars();
    let version = chars
        .next()
        .and_then(|c| c.to_digit(10))
        .ok_or(AdvertError::BadName)?;
    if version != u32::from(BLE_VERSION) {
        return Err(AdvertError::Version(version as u8));
    }
    let hex_part = chars.as_str();
    if hex_part.len() != 2 * ID_LEN {
        return Err(AdvertError::BadName);
    }
    let mut out = [0u8; ID_LEN];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| AdvertError::BadName)?;
    Ok(Some(AdvertId(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    const T: u64 = 1_800_000_000_000;

    #[test]
    fn rotates_every_epoch_and_is_stable_within_one() {
        let key = AdvertKey::from_secret([7; 32]);
        let now = next_rotation_ms(T);
        assert_eq!(key.id_at(now), key.id_at(now + ROTATION_MS - 1));
        assert_ne!(key.id_at(now - 1), key.id_at(now));
        assert_ne!(key.id_at(now), key.id_at(now + ROTATION_MS));
        assert_eq!(next_rotation_ms(now), now + ROTATION_MS);
    }

    #[test]
    fn a_restart_draws_a_new_identifier() {
        let a = AdvertKey::random().unwrap();
        let b = AdvertKey::random().unwrap();
        assert_ne!(a.id_at(T), b.id_at(T));
    }

    #[test]
    fn vector() {
        // docs/PROTOCOL.md, "Advertisement test vector".
        let key = AdvertKey::from_secret([0x42; 32]);
        let id = key.id_at(1_800_000_000_000);
        assert_eq!(id.to_string(), "d993355eac9e7817");
        assert_eq!(hex::encode(service_data(id)), format!("01{id}"));
        assert_eq!(local_name(id), format!("P1{id}"));
    }

    #[test]
    fn never_equals_anything_public_about_the_identity() {
        let identity = Identity::generate("Ana").unwrap();
        let public = identity.public();
        let fingerprint = public.fingerprint();
        let mut public_bytes: Vec<Vec<u8>> = vec![
            public.signing.0.to_vec(),
            public.agreement.to_vec(),
            fingerprint.0.to_vec(),
            fingerprint.to_hex().into_bytes(),
            identity.card().encode().into_bytes(),
        ];
        for epoch in [0u64, T / 1000, T / 1000 + 86_400] {
            let tag = crate::envelope::RoutingTag::direct(&public, epoch);
            public_bytes.push(tag.0.to_vec());
        }
        for b in public_bytes.clone() {
            public_bytes.push(blake3::hash(&b).as_bytes().to_vec());
            public_bytes.push(blake3::keyed_hash(&[0; 32], &b).as_bytes().to_vec());
        }
        let key = AdvertKey::random().unwrap();
        for epoch in 0..96 {
            let id = key.id_at(T + epoch * ROTATION_MS);
            for b in &public_bytes {
                assert!(
                    !b.windows(ID_LEN).any(|w| w == id.0),
                    "advertised id found in public identity data"
                );
                assert!(!String::from_utf8_lossy(b).contains(&id.to_string()));
            }
        }
        // And the same identity restarted advertises something else.
        let again = AdvertKey::random().unwrap();
        assert_ne!(key.id_at(T), again.id_at(T));
    }

    #[test]
    fn parses_both_forms_and_refuses_garbage() {
        let id = AdvertId([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(parse(Some(&service_data(id)), None), Ok(Some(id)));
        assert_eq!(parse(None, Some(&local_name(id))), Ok(Some(id)));
        assert_eq!(parse(None, None), Ok(None));
        assert_eq!(parse(None, Some("Kitchen speaker")), Ok(None));
        assert_eq!(
            parse(Some(&[]), None),
            Err(AdvertError::ShortServiceData(0))
        );
        assert_eq!(
            parse(Some(&[1, 2, 3]), None),
            Err(AdvertError::ShortServiceData(3))
        );
        assert_eq!(parse(Some(&[9; 9]), None), Err(AdvertError::Version(9)));
        assert_eq!(parse(None, Some("P1xyz")), Err(AdvertError::BadName));
        assert_eq!(
            parse(None, Some("P10102030405060708aa")),
            Err(AdvertError::BadName)
        );
        assert_eq!(parse(None, Some("P2")), Err(AdvertError::Version(2)));
        assert_eq!(parse(None, Some("Pé")), Err(AdvertError::BadName));
    }
}
