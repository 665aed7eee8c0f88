//! Blocking people (`pollen_node::node::Node::block`): their messages are
//! dropped without a delivery proof; writing to them is refused.

use crate::PollenNode;
use crate::error::PollenError;

/// One blocked person.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BlockedInfo {
    /// Their signing key (hex).
    pub key: String,
    /// Their alias, when they are a contact.
    pub alias: Option<String>,
}

/// Everyone blocked on `node`, as the apps list them.
pub(crate) fn blocked(node: &pollen_node::Node) -> Result<Vec<BlockedInfo>, PollenError> {
    Ok(node
        .blocked()?
        .into_iter()
        .map(|b| BlockedInfo {
            key: b.key.to_hex(),
            alias: b.alias,
        })
        .collect())
}

#[uniffi::export]
impl PollenNode {
    /// Blocks a contact (alias) or anyone (signing key in hex, as
    /// `MessageInfo.author_key` gives it); returns the key.
    pub fn block(&self, who: String) -> Result<String, PollenError> {
        self.read(move |n| Ok(n.block(&who)?.to_hex()))
    }

    /// Unblocks a contact or key; false if they were not blocked.
    pub fn unblock(&self, who: String) -> Result<bool, PollenError> {
        self.read(move |n| Ok(n.unblock(&who)?))
    }

    /// Everyone blocked.
    pub fn blocked(&self) -> Result<Vec<BlockedInfo>, PollenError> {
        self.read(blocked)
    }
}
