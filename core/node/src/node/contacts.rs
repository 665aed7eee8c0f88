//! Contacts: pin on first use, refuse key changes, verify in person.

use super::{Node, NodeError, NodeEvent, check_name, direct_conversation_id};
use crate::store::{Contact, ConversationKind, ConversationRow, KeyChange};
use pollen_proto::identity::{ContactCard, PublicIdentity, keys_equal, safety_number};

impl Node {
    /// Pins the contact on `card` under `alias` (default: the card's name).
    /// A card with other keys for a pinned alias or key is refused and recorded.
    pub fn add_contact(&self, card: &str, alias: Option<&str>) -> Result<Contact, NodeError> {
        let card = ContactCard::decode(card)?;
        if keys_equal(&card.identity.signing.0, &self.public.signing.0) {
            return Err(NodeError::BadName(
                card.name.clone(),
                "that is your own card",
            ));
        }
        let alias = check_name(alias.unwrap_or(&card.name))?.to_owned();
        let offered = card.identity.fingerprint();
        if let Some(pinned) = self.store.contact_by_key(&card.identity.signing)? {
            // The pinning decision: constant time (C4).
            if keys_equal(&pinned.identity.signing.0, &card.identity.signing.0)
                & keys_equal(&pinned.identity.agreement, &card.identity.agreement)
            {
                return Ok(pinned);
            }
            return Err(self.refuse_key_change(&pinned, &card)?);
        }
        if let Some(pinned) = self.store.contact_by_alias(&alias)? {
            return Err(self.refuse_key_change(&pinned, &card)?);
        }
        let contact = Contact {
            identity: card.identity,
            alias: alias.clone(),
            card_name: card.name.clone(),
            verified: false,
            added_at: self.now(),
        };
        self.transaction(|s| -> Result<(), NodeError> {
            s.insert_contact(&contact)?;
            // Messages that arrived before the contact was pinned move under the alias.
            let conv = direct_conversation_id(&self.public, &card.identity);
            s.rename_conversation(&conv, &alias)?;
            self.conversation_changed(&conv);
            Ok(())
        })?;
        tracing::info!(alias = %alias, fingerprint = %offered.short(), "contact pinned");
        Ok(contact)
    }

    fn refuse_key_change(
        &self,
        pinned: &Contact,
        card: &ContactCard,
    ) -> Result<NodeError, NodeError> {
        let change = KeyChange {
            alias: pinned.alias.clone(),
            old_fingerprint: pinned.identity.fingerprint().to_hex(),
            new_card: card.encode(),
            seen_at: self.now(),
        };
        self.store.record_key_change(&change)?;
        self.events.raise_now(NodeEvent::KeyChanged {
            alias: pinned.alias.clone(),
        });
        tracing::warn!(alias = %pinned.alias, "refused a card with changed keys");
        Ok(NodeError::KeyChanged {
            alias: pinned.alias.clone(),
            pinned: pinned.identity.fingerprint().to_string(),
            offered: card.identity.fingerprint().to_string(),
        })
    }

    /// Every pinned contact.
    pub fn contacts(&self) -> Result<Vec<Contact>, NodeError> {
        Ok(self.store.contacts()?)
    }

    /// Refused key changes, newest first.
    pub fn key_changes(&self) -> Result<Vec<KeyChange>, NodeError> {
        Ok(self.store.key_changes()?)
    }

    /// The contact with this alias.
    pub fn contact(&self, alias: &str) -> Result<Contact, NodeError> {
        self.store
            .contact_by_alias(alias.trim())?
            .ok_or_else(|| NodeError::UnknownContact(alias.to_owned()))
    }

    /// The safety number to compare with `alias` in person.
    pub fn safety_number(&self, alias: &str) -> Result<String, NodeError> {
        let c = self.contact(alias)?;
        Ok(safety_number(&self.public, &c.identity))
    }

    /// Records that the safety number was compared in person.
    pub fn mark_verified(&self, alias: &str) -> Result<Contact, NodeError> {
        let mut c = self.contact(alias)?;
        self.store.set_verified(&c.identity.signing, true)?;
        c.verified = true;
        Ok(c)
    }

    /// Unpins a contact (the conversation stays, under the name they claim).
    pub fn remove_contact(&self, alias: &str) -> Result<(), NodeError> {
        let c = self.contact(alias)?;
        self.store.delete_contact(&c.identity.signing)?;
        Ok(())
    }

    /// Opens (creating if needed) the direct conversation with the contact
    /// `alias`, before any message exists: the apps start a chat from the
    /// contact list this way.
    pub fn open_direct(&self, alias: &str) -> Result<ConversationRow, NodeError> {
        let c = self.contact(alias)?;
        self.direct_conversation(&c.identity, &c.alias)
    }

    /// The direct conversation with `peer`, created if needed.
    pub(crate) fn direct_conversation(
        &self,
        peer: &PublicIdentity,
        name: &str,
    ) -> Result<ConversationRow, NodeError> {
        let id = direct_conversation_id(&self.public, peer);
        self.store
            .ensure_conversation(&id, ConversationKind::Direct, name, Some(&peer.signing))?;
        self.store
            .conversation(&id)?
            .ok_or_else(|| NodeError::UnknownConversation(name.to_owned()))
    }
}
