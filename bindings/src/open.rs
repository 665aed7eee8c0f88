//! Opening a phone's node: the identity in the app's data directory, made on
//! first use. The one rule both apps follow at launch, written once.

use crate::error::PollenError;
use crate::node::PollenNode;
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

#[cfg(test)]
mod tests {
    use super::*;

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
