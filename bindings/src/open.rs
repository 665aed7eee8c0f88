//! Opening a phone's node: the identity in the app's data directory, made on
//! first use, its secret sealed by the phone's keystore when the app gives a
//! key guard. The one rule both apps follow at launch, written once.

use crate::callbacks::KeyGuard;
use crate::error::PollenError;
use crate::node::PollenNode;
use pollen_node::node::{KeyGuardError, Node, NodeError, SystemClock};
use std::path::Path;
use std::sync::Arc;

#[uniffi::export]
impl PollenNode {
    /// Opens the identity in `data_dir`, creating one called `name` when the
    /// directory has none yet (any other failure to open is returned).
    #[uniffi::constructor]
    pub fn open_or_create(data_dir: String, name: String) -> Result<Arc<PollenNode>, PollenError> {
        match PollenNode::open(data_dir.clone()) {
            Err(PollenError::NotInitialized { .. }) => PollenNode::create(data_dir, name),
            opened => opened,
        }
    }
}

/// The app's guard, as the node's open path asks for it.
struct Guard(Arc<dyn KeyGuard>);

impl pollen_node::node::KeyGuard for Guard {
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        self.0
            .seal(plain.to_vec())
            .map_err(|e| KeyGuardError(e.to_string()))
    }
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        self.0
            .unseal(sealed.to_vec())
            .map_err(|e| KeyGuardError(e.to_string()))
    }
}

#[uniffi::export]
impl PollenNode {
    /// As `open_or_create`, with the identity secret sealed by `keystore`
    /// (the phone's key guard): created sealed, or a plain one sealed at this open
    /// and its plain bytes erased. A guard that cannot open the secret is
    /// `KeyGuard`, and nothing is written (no new identity over the old).
    #[uniffi::constructor]
    pub fn open_or_create_guarded(
        data_dir: String,
        name: String,
        keystore: Arc<dyn KeyGuard>,
    ) -> Result<Arc<PollenNode>, PollenError> {
        let dir = Path::new(&data_dir);
        let guard = Guard(keystore);
        let node = match Node::open_guarded(dir, Box::new(SystemClock), &guard) {
            Err(NodeError::NotInitialized(_)) => {
                Node::init_guarded(dir, &name, Box::new(SystemClock), &guard)?
            }
            opened => opened?,
        };
        PollenNode::start_with(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::CallbackError;

    /// A keystore stand-in: XOR behind a marker naming its key.
    struct Xor(u8);

    impl KeyGuard for Xor {
        fn seal(&self, plain: Vec<u8>) -> Result<Vec<u8>, CallbackError> {
            Ok([b'G', self.0]
                .into_iter()
                .chain(plain.iter().map(|b| b ^ self.0))
                .collect())
        }
        fn unseal(&self, sealed: Vec<u8>) -> Result<Vec<u8>, CallbackError> {
            match sealed.as_slice() {
                [b'G', k, rest @ ..] if *k == self.0 => {
                    Ok(rest.iter().map(|b| b ^ self.0).collect())
                }
                _ => Err(CallbackError::Failed {
                    detail: "wrong key".into(),
                }),
            }
        }
    }

    #[test]
    fn a_guarded_identity_reopens_with_its_guard_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pollen").to_string_lossy().into_owned();
        let first =
            PollenNode::open_or_create_guarded(data.clone(), "Ann".into(), Arc::new(Xor(5)))
                .unwrap();
        let fingerprint = first.identity().unwrap().fingerprint;
        first.shutdown();
        drop(first);
        assert!(matches!(
            PollenNode::open(data.clone()),
            Err(PollenError::IdentitySealed { .. })
        ));
        assert!(matches!(
            PollenNode::open_or_create_guarded(data.clone(), "Mallory".into(), Arc::new(Xor(6))),
            Err(PollenError::KeyGuard { detail }) if detail.contains("wrong key")
        ));
        let again =
            PollenNode::open_or_create_guarded(data, "Bob".into(), Arc::new(Xor(5))).unwrap();
        assert_eq!(again.identity().unwrap().fingerprint, fingerprint);
        again.shutdown();
    }

    #[test]
    fn the_first_launch_creates_the_identity_and_later_ones_open_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pollen").to_string_lossy().into_owned();
        let first = PollenNode::open_or_create(data.clone(), "Ann".into()).unwrap();
        let fingerprint = first.identity().unwrap().fingerprint;
        first.shutdown();
        drop(first);
        let again = PollenNode::open_or_create(data, "Bob".into()).unwrap();
        let identity = again.identity().unwrap();
        assert_eq!(
            (identity.name, identity.fingerprint),
            ("Ann".into(), fingerprint)
        );
        again.shutdown();
    }
}
