//! The user's choices for receipts, kept in the `meta` table: delivery
//! proofs (`crate::receipts`, `privacy.receipts`) and read receipts
//! (`privacy.read_receipts`: whether opening a chat tells the others how far
//! this phone has read, a marker sealed inside the conversation like any
//! message); and when the next held-back proof of this phone is released.

use super::{Node, NodeError};
use crate::receipts::Receipts;
use pollen_proto::envelope::Commitment;

const KEY: &str = "privacy.receipts";
const READ_KEY: &str = "privacy.read_receipts";

impl Node {
    /// How this phone sends the delivery proofs of messages it receives.
    pub fn receipts(&self) -> Result<Receipts, NodeError> {
        Ok(match self.store.meta(KEY)? {
            Some(v) => std::str::from_utf8(&v)
                .ok()
                .and_then(Receipts::parse)
                .unwrap_or_default(),
            None => Receipts::default(),
        })
    }

    /// Sets and keeps the choice; applies to messages opened from now on.
    pub fn set_receipts(&self, mode: Receipts) -> Result<(), NodeError> {
        self.store.set_meta(KEY, mode.as_str().as_bytes())?;
        Ok(())
    }

    /// Whether reading a chat tells the others how far this phone has read
    /// (on by default). Off, reading clears the unread count here only.
    pub fn read_receipts(&self) -> Result<bool, NodeError> {
        Ok(!matches!(self.store.meta(READ_KEY)?, Some(v) if v == b"off"))
    }

    /// Turns read receipts on or off, kept across restarts.
    pub fn set_read_receipts(&self, on: bool) -> Result<(), NodeError> {
        let value: &[u8] = if on { b"on" } else { b"off" };
        self.store.set_meta(READ_KEY, value)?;
        Ok(())
    }

    /// When the next held-back proof of ours may leave (a runtime deadline:
    /// a session started then has something to offer), if one is waiting.
    pub fn next_proof_release(&self) -> Result<Option<u64>, NodeError> {
        Ok(self.store.next_proof_release(self.now())?)
    }

    /// When the proof for `commitment`, opened now, may leave this phone.
    pub(crate) fn proof_release(&self, commitment: &Commitment) -> Result<u64, NodeError> {
        let key = blake3::derive_key(
            "pollen 2026-12 proof delay v1",
            &self.me.agreement_secret_bytes(),
        );
        Ok(crate::receipts::release_at(
            self.receipts()?,
            self.now(),
            &key,
            commitment,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::receipts::Receipts;
    use crate::store::Store;

    #[test]
    fn the_choice_is_kept_and_an_unknown_value_reads_as_the_default() {
        let node = crate::Node::in_memory(
            "Ana",
            Default::default(),
            Box::new(crate::node::SystemClock),
        )
        .unwrap();
        assert_eq!(node.receipts().unwrap(), Receipts::Batched);
        node.set_receipts(Receipts::Off).unwrap();
        assert_eq!(node.receipts().unwrap(), Receipts::Off);
        let store: &Store = &node.store;
        store.set_meta(super::KEY, b"weekly").unwrap();
        assert_eq!(node.receipts().unwrap(), Receipts::Batched);
    }
}
