//! The identity key at rest, sealed by the phone's keystore (the Android
//! Keystore, the iOS Keychain): with a guard, the database holds only the
//! sealed secret, so a copy of the file alone does not give the identity.
//! The platform does the sealing with a key that never leaves its keystore;
//! the core decides what is sealed, when a plain secret is upgraded, and
//! that any failure leaves the database untouched (fail closed).

use super::{DB_FILE, IDENTITY_KEY, Node, NodeError, open_store, restrict_permissions};
use crate::node::Clock;
use crate::store::Store;
use pollen_proto::identity::Identity;
use std::path::Path;
use thiserror::Error;

/// Where the sealed secret is kept: never the plain form's key, so that the
/// two are never confused.
pub(super) const SEALED_IDENTITY_KEY: &str = "identity.sealed";

/// Seals and opens the identity secret with a key held by the platform.
pub trait KeyGuard: Send + Sync {
    /// Seals `plain` (authenticated encryption with the keystore's key).
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, KeyGuardError>;
    /// Opens what [`KeyGuard::seal`] gave; an error when the key is gone or
    /// the bytes were not sealed by it.
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyGuardError>;
}

/// The platform's reason a seal or open failed.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct KeyGuardError(pub String);

impl Node {
    /// Creates a new identity in `dir` whose secret is stored only sealed by
    /// `guard`.
    pub fn init_guarded(
        dir: &Path,
        name: &str,
        clock: Box<dyn Clock>,
        guard: &dyn KeyGuard,
    ) -> Result<Node, NodeError> {
        std::fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
        let store = open_store(dir)?;
        if has_identity(&store)? {
            return Err(NodeError::AlreadyInitialized(dir.to_owned()));
        }
        let me = Identity::generate(name)?;
        store.set_meta(SEALED_IDENTITY_KEY, &seal(guard, &me)?)?;
        restrict_permissions(&dir.join(DB_FILE));
        Ok(Self::assemble(store, me, clock, dir))
    }

    /// Opens the identity in `dir` with `guard`. A plain secret (written
    /// before the phone had a guard) is sealed and the plain copy erased.
    /// A guard that cannot open the sealed secret is an error, and nothing
    /// is written.
    pub fn open_guarded(
        dir: &Path,
        clock: Box<dyn Clock>,
        guard: &dyn KeyGuard,
    ) -> Result<Node, NodeError> {
        if !dir.join(DB_FILE).exists() {
            return Err(NodeError::NotInitialized(dir.to_owned()));
        }
        let store = open_store(dir)?;
        let me = if let Some(sealed) = store.meta(SEALED_IDENTITY_KEY)? {
            let plain = guard.unseal(&sealed).map_err(NodeError::KeyGuard)?;
            Identity::from_secret_bytes(&plain)?
        } else if let Some(plain) = store.meta(IDENTITY_KEY)? {
            let me = Identity::from_secret_bytes(&plain)?;
            let sealed = seal(guard, &me)?;
            store.erase_meta_replacing(IDENTITY_KEY, SEALED_IDENTITY_KEY, &sealed)?;
            me
        } else {
            return Err(NodeError::NotInitialized(dir.to_owned()));
        };
        Ok(Self::assemble(store, me, clock, dir))
    }
}

/// True when the store holds an identity, plain or sealed.
pub(super) fn has_identity(store: &Store) -> Result<bool, NodeError> {
    Ok(store.meta(IDENTITY_KEY)?.is_some() || store.meta(SEALED_IDENTITY_KEY)?.is_some())
}

fn seal(guard: &dyn KeyGuard, me: &Identity) -> Result<Vec<u8>, NodeError> {
    let sealed = guard
        .seal(&me.to_secret_bytes())
        .map_err(NodeError::KeyGuard)?;
    // A guard that cannot open what it sealed would lock the user out on
    // the next start: check before anything is written.
    let back = guard.unseal(&sealed).map_err(NodeError::KeyGuard)?;
    if back != me.to_secret_bytes() {
        return Err(NodeError::KeyGuard(KeyGuardError(
            "the key guard did not give back what it sealed".into(),
        )));
    }
    Ok(sealed)
}

#[cfg(test)]
#[path = "key_guard_tests.rs"]
mod tests;
