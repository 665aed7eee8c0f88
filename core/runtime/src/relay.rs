//! Relays: addresses that carry the relay's public key, the key file a relay
//! keeps, and the session settings on both ends of an uplink.

use pollen_proto::sync::handshake::relay_public;
use pollen_proto::sync::{Offer, SessionConfig};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use thiserror::Error;

/// Scheme of a relay address: `pollen-relay://HOST:PORT/KEY`.
pub const SCHEME: &str = "pollen-relay://";
/// Name of a relay's private key file in its data directory.
pub const KEY_FILE: &str = "relay.key";

/// A relay address could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RelayAddressError {
    /// Not `pollen-relay://HOST:PORT/KEY`.
    #[error("not a relay address (expected {SCHEME}HOST:PORT/KEY): {0:?}")]
    Shape(String),
    /// The key is not 64 hex digits.
    #[error("relay key must be 64 hex digits: {0:?}")]
    Key(String),
}

/// Where a relay listens and the public key it must prove it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayAddress {
    /// `host:port` to dial.
    pub host_port: String,
    /// The relay's static X25519 public key (Noise NK).
    pub key: [u8; 32],
}

impl FromStr for RelayAddress {
    type Err = RelayAddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || RelayAddressError::Shape(s.to_owned());
        let rest = s.trim().strip_prefix(SCHEME).ok_or_else(shape)?;
        let (host_port, key) = rest.rsplit_once('/').ok_or_else(shape)?;
        if host_port.is_empty() || !host_port.contains(':') {
            return Err(shape());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(key, &mut out).map_err(|_| RelayAddressError::Key(key.to_owned()))?;
        Ok(RelayAddress {
            host_port: host_port.to_owned(),
            key: out,
        })
    }
}

impl fmt::Display for RelayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.host_port, hex::encode(self.key))
    }
}

/// A new random relay private key from the OS generator.
pub fn fresh_key() -> std::io::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(key)
}

/// Loads the relay's private key from `dir`, creating it (owner-only) on first use.
pub fn load_or_create_key(dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = dir.join(KEY_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes.try_into().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a 32-byte key", path.display()),
            )
        });
    }
    std::fs::create_dir_all(dir)?;
    let key = fresh_key()?;
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(key)
}

/// The address clients use for a relay with this private key at `host_port`.
pub fn address(host_port: &str, private_key: &[u8; 32]) -> RelayAddress {
    RelayAddress {
        host_port: host_port.to_owned(),
        key: relay_public(private_key),
    }
}

/// Session settings of a relay for a client at `peer_ip`: authenticated by
/// its key, offering each client only what the client asked for.
pub fn relay_session(private_key: &[u8; 32], peer_ip: &str) -> SessionConfig {
    let mut c = SessionConfig::tcp(false, format!("tcp:{peer_ip}"));
    c.static_key = Some(*private_key);
    c.offer = Offer::Interests;
    // A stalled stranger should not hold a relay slot for long.
    c.limits.handshake_timeout_ms = 5_000;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_and_refuse_garbage() {
        let a = address("relay.example:7746", &[5; 32]);
        let text = a.to_string();
        assert!(text.starts_with("pollen-relay://relay.example:7746/"));
        assert_eq!(text.parse::<RelayAddress>(), Ok(a));
        assert!(matches!(
            "http://x:1/00".parse::<RelayAddress>(),
            Err(RelayAddressError::Shape(_))
        ));
        assert!(matches!(
            "pollen-relay://x:1/zz".parse::<RelayAddress>(),
            Err(RelayAddressError::Key(_))
        ));
        assert!("pollen-relay://nohost/00".parse::<RelayAddress>().is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = load_or_create_key(dir.path()).unwrap();
        let k2 = load_or_create_key(dir.path()).unwrap();
        assert_eq!(k1, k2);
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(load_or_create_key(dir.path()).is_err());
    }
}
