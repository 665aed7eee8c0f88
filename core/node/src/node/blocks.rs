//! Blocked people. What they write is dropped when it opens here: a direct
//! message is not shown and gets no delivery proof (so its author learns
//! nothing: the carriers' acknowledgements do not tell an opened envelope
//! from a carried one), a group or channel post is not shown but still
//! carried on to the other members, and a group key they send is ignored.
//! Sending to a blocked contact is refused until they are unblocked. The
//! list lives in the `meta` table (`node.blocked`, one key in hex per line).

use super::{Node, NodeError};
use pollen_proto::identity::ContactKey;

const KEY: &str = "node.blocked";

/// One blocked person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// Their signing key.
    pub key: ContactKey,
    /// Their alias, when they are a contact.
    pub alias: Option<String>,
}

impl Node {
    /// Blocks a contact (by alias) or anyone (by signing key in hex, as a
    /// group or channel shows its authors). Returns the key.
    pub fn block(&self, who: &str) -> Result<ContactKey, NodeError> {
        let key = self.person(who)?;
        let mut keys = self.blocked_keys()?;
        if !keys.contains(&key) {
            keys.push(key);
            self.save_blocked(&keys)?;
        }
        Ok(key)
    }

    /// Unblocks a contact or key; false if they were not blocked.
    pub fn unblock(&self, who: &str) -> Result<bool, NodeError> {
        let key = self.person(who)?;
        let mut keys = self.blocked_keys()?;
        let before = keys.len();
        keys.retain(|k| *k != key);
        self.save_blocked(&keys)?;
        Ok(keys.len() != before)
    }

    /// Everyone blocked, in the order they were blocked.
    pub fn blocked(&self) -> Result<Vec<Blocked>, NodeError> {
        self.blocked_keys()?
            .into_iter()
            .map(|key| {
                let alias = self.store.contact_by_key(&key)?.map(|c| c.alias);
                Ok(Blocked { key, alias })
            })
            .collect()
    }

    /// Whether this person is blocked.
    pub fn is_blocked(&self, key: &ContactKey) -> Result<bool, NodeError> {
        Ok(self.blocked_keys()?.contains(key))
    }

    /// A contact's key by alias, or a key given in hex.
    fn person(&self, who: &str) -> Result<ContactKey, NodeError> {
        let who = who.trim();
        if let Some(c) = self.store.contact_by_alias(who)? {
            return Ok(c.identity.signing);
        }
        who.parse::<ContactKey>()
            .map_err(|_| NodeError::UnknownContact(who.to_owned()))
    }

    fn blocked_keys(&self) -> Result<Vec<ContactKey>, NodeError> {
        let raw = self.store.meta(KEY)?.unwrap_or_default();
        // A line that is not a key (a later version's, a damaged one) is skipped.
        Ok(String::from_utf8_lossy(&raw)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect())
    }

    fn save_blocked(&self, keys: &[ContactKey]) -> Result<(), NodeError> {
        let text: Vec<String> = keys.iter().map(ContactKey::to_hex).collect();
        self.store.set_meta(KEY, text.join("\n").as_bytes())?;
        Ok(())
    }
}
