//! Opening what is addressed to this node: direct envelopes (answered with a
//! delivery proof), group and channel envelopes (checked against the group's
//! members, then carried on), group keys, and carried envelopes a new key opens.

use super::{Batch, IngestOutcome, Rejection, content_error};
use crate::admission;
use crate::conversation::ConversationId;
use crate::node::{NodeError, NodeEvent, check_name};
use crate::store::{ConversationKind, EnvelopeClass, KeyChange};
use pollen_proto::envelope::{self, Envelope, Opened, RoutingTag, SharedKey};
use pollen_proto::identity::PublicIdentity;
use pollen_proto::payload::{Member, Payload, PayloadError};

impl Batch<'_> {
    pub(super) fn accept_direct(
        &mut self,
        env: &Envelope,
        opened: Opened,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        let node = self.node;
        let header = env.header();
        let id = env.id();
        // Whatever happens next, this envelope was for us: never take it again.
        node.store.mark_seen(&id, header.expires_at)?;
        if opened.author == node.public {
            return Ok(Err(Rejection::Content(
                "sealed by this node to itself".into(),
            )));
        }
        if node.is_blocked(&opened.author.signing)? {
            return Ok(Err(Rejection::Blocked));
        }
        let result = match Payload::decode(&opened.payload) {
            Err(e) => Err(NodeError::Payload(e)),
            Ok(Payload::Change { key, change }) => self
                .dm_conversation_for(&opened.author, &opened.author_name)
                .and_then(|conv| {
                    self.apply_change(&conv, &opened.author, &opened.author_name, &key, &change)?;
                    self.note_hops(&conv, &key, header.hops)?;
                    Ok(conv)
                }),
            Ok(Payload::DocChange {
                header: doc,
                change,
            }) => self
                .dm_conversation_for(&opened.author, &opened.author_name)
                .and_then(|conv| {
                    self.accept_doc_change(&conv, &opened.author, &doc, &change)?;
                    Ok(conv)
                }),
            Ok(Payload::GroupKey {
                group,
                name,
                epoch,
                key,
                members,
            }) => self
                .accept_group_key(&opened.author, group, &name, epoch, key, members)
                .map(|()| group),
        };
        match result {
            Ok(conversation) => {
                let secret = opened.proof_secret;
                let commitment = admission::proof_commitment(&secret);
                // Held back unless the user asked otherwise (`crate::receipts`):
                // then the neighbour that handed it over gets no proof now.
                let release_at = node.proof_release(&commitment)?;
                node.store.insert_proof(
                    &commitment,
                    &secret,
                    header.expires_at,
                    true,
                    release_at,
                )?;
                let proof = (release_at <= node.now()).then_some(secret);
                if proof.is_none() {
                    self.hold_until_released(env, origin)?;
                }
                Ok(Ok(IngestOutcome::Opened {
                    conversation,
                    proof,
                }))
            }
            Err(e) => Ok(Err(content_error(e)?)),
        }
    }

    /// While its proof is held back, the recipient keeps the envelope as a
    /// carrier would (one hop spent, the same class): sessions then find it
    /// on both sides and nobody sends it here again, and a neighbour sees a
    /// carrier, not its recipient. `Store::release_proofs` drops the copy
    /// when the proof leaves. A copy that does not fit is simply not kept.
    fn hold_until_released(&mut self, env: &Envelope, origin: &str) -> Result<(), NodeError> {
        let mut env = env.clone();
        let id = env.id();
        let keep_max = admission::hop_coin(&self.node.hop_key(), &id);
        if admission::spend_hop(&mut env, keep_max).is_ok() {
            // A full store or a spent quota refuses it: nothing lost.
            let _ = self.store_envelope(&env, &id, EnvelopeClass::Carried, origin)?;
        }
        Ok(())
    }

    pub(super) fn accept_shared(
        &mut self,
        env: &mut Envelope,
        key_used: &SharedKey,
        conv: &ConversationId,
        opened: Opened,
        origin: &str,
    ) -> Result<Result<IngestOutcome, Rejection>, NodeError> {
        if let Some(epoch) = self.group_epoch_of(key_used, conv)?
            && !self
                .node
                .store
                .was_member(conv, epoch, &opened.author.signing)?
        {
            return Ok(Err(Rejection::Content(
                "author was not a member of the group in that epoch".into(),
            )));
        }
        // A blocked author's post is not shown here, but other members still need it.
        let blocked = self.node.is_blocked(&opened.author.signing)?;
        let applied = match Payload::decode(&opened.payload) {
            Ok(Payload::Change { .. }) if blocked => Ok(()),
            Ok(Payload::Change { key, change }) => self
                .apply_change(conv, &opened.author, &opened.author_name, &key, &change)
                .and_then(|()| self.note_hops(conv, &key, env.header().hops)),
            Ok(Payload::DocChange { .. }) if blocked => Ok(()),
            Ok(Payload::DocChange { header, change }) => {
                self.accept_doc_change(conv, &opened.author, &header, &change)
            }
            Ok(Payload::GroupKey { .. }) => Err(NodeError::Payload(PayloadError::UnknownKind(2))),
            Err(e) => Err(NodeError::Payload(e)),
        };
        if let Err(e) = applied {
            return Ok(Err(content_error(e)?));
        }
        // Other members still need it: carry it on, above strangers' traffic.
        let hops = env.header().hops;
        env.set_hops(hops.saturating_sub(1));
        // A channel post floods among its readers; the budget a neighbour
        // claimed was clamped (admission), so a reader restores it.
        let channel = self
            .node
            .store
            .conversation(conv)?
            .is_some_and(|c| c.kind == ConversationKind::Channel);
        if channel {
            self.copies = crate::routing::initial_copies(true);
        }
        match self.store_envelope(env, &env.id(), EnvelopeClass::Shared, origin)? {
            Ok(_) => Ok(Ok(IngestOutcome::Opened {
                conversation: *conv,
                proof: None,
            })),
            Err(r) => Ok(Err(r)),
        }
    }

    /// For a group key, the epoch it belongs to (None for channels).
    fn group_epoch_of(
        &self,
        key: &SharedKey,
        conv: &ConversationId,
    ) -> Result<Option<u32>, NodeError> {
        if self.node.store.group(conv)?.is_none() {
            return Ok(None);
        }
        Ok(self
            .node
            .store
            .shared_keys()?
            .into_iter()
            .find(|(k, c, _)| k == key && c == conv)
            .map(|(_, _, e)| e))
    }

    /// The direct conversation with an author, flagging a claimed name that
    /// belongs to a pinned contact with other keys.
    fn dm_conversation_for(
        &self,
        author: &PublicIdentity,
        claimed: &str,
    ) -> Result<ConversationId, NodeError> {
        let node = self.node;
        if let Some(c) = node.store.contact_by_key(&author.signing)? {
            if c.identity.agreement != author.agreement {
                self.record_key_change(&c.alias, &c.identity, author)?;
            }
            return Ok(node.direct_conversation(&c.identity, &c.alias)?.id);
        }
        for c in node.store.contacts_by_card_name(claimed)? {
            self.record_key_change(&c.alias, &c.identity, author)?;
        }
        let name = format!("{}~{}", claimed, &author.fingerprint().short()[..8]);
        Ok(node.direct_conversation(author, &name)?.id)
    }

    fn record_key_change(
        &self,
        alias: &str,
        pinned: &PublicIdentity,
        offered: &PublicIdentity,
    ) -> Result<(), NodeError> {
        tracing::warn!(
            alias,
            "a message claims a pinned contact's name with other keys"
        );
        self.node.store.record_key_change(&KeyChange {
            alias: alias.to_owned(),
            old_fingerprint: pinned.fingerprint().to_hex(),
            new_card: format!("key {}", offered.fingerprint().to_hex()),
            seen_at: self.node.now(),
        })?;
        self.node.events.raise(NodeEvent::KeyChanged {
            alias: alias.to_owned(),
        });
        Ok(())
    }

    fn accept_group_key(
        &mut self,
        author: &PublicIdentity,
        group: ConversationId,
        name: &str,
        epoch: u32,
        key: [u8; 32],
        members: Vec<Member>,
    ) -> Result<(), NodeError> {
        let node = self.node;
        let name = check_name(name)?.to_owned();
        let member = members.iter().any(|m| m.identity == node.public);
        let known = node.store.group(&group)?;
        match &known {
            Some(g) if g.admin != author.signing => return Err(NodeError::NotAdmin(name)),
            Some(g) if g.epoch >= epoch => {}
            // A group we are not in and never were: nothing to keep.
            None if !member => return Err(NodeError::NotMember(node.me.name().to_owned(), name)),
            _ => {
                node.store
                    .ensure_conversation(&group, ConversationKind::Group, &name, None)?;
                node.store
                    .put_group(&group, &author.signing, epoch, &members)?;
                node.conversation_changed(&group);
            }
        }
        if !member {
            // A removal notice: the member list changes, no key comes with it.
            return Ok(());
        }
        node.store
            .insert_shared_key(&SharedKey(key), &group, epoch)?;
        self.adopt_key(&SharedKey(key), &group)
    }

    /// Starts using a shared key in this batch and opens what it can already.
    pub(crate) fn adopt_key(
        &mut self,
        key: &SharedKey,
        conv: &ConversationId,
    ) -> Result<(), NodeError> {
        if !self.shared.iter().any(|(k, _)| k == key) {
            self.shared.push((key.clone(), *conv));
            self.open_carried_with(key, conv)?;
        }
        Ok(())
    }

    /// A new key may open envelopes that arrived before it: open and apply
    /// them now, and keep carrying them as shared.
    pub(crate) fn open_carried_with(
        &mut self,
        key: &SharedKey,
        conv: &ConversationId,
    ) -> Result<(), NodeError> {
        let node = self.node;
        for rec in node
            .store
            .envelopes_of_class(EnvelopeClass::Carried, node.now())?
        {
            if RoutingTag::shared(key, rec.expires_at) != rec.tag {
                continue;
            }
            let Ok(env) = Envelope::decode(&rec.bytes) else {
                continue;
            };
            let Ok(opened) = envelope::open_shared(key, &env) else {
                continue;
            };
            if let Some(epoch) = self.group_epoch_of(key, conv)?
                && !node.store.was_member(conv, epoch, &opened.author.signing)?
            {
                continue;
            }
            if let Ok(Payload::Change { key: k, change }) = Payload::decode(&opened.payload) {
                match self.apply_change(conv, &opened.author, &opened.author_name, &k, &change) {
                    Ok(()) => node
                        .store
                        .set_envelope_class(&rec.id, EnvelopeClass::Shared)?,
                    Err(e) => {
                        let r = content_error(e)?;
                        tracing::warn!(reason = %r, "carried envelope opened with a new key is invalid");
                    }
                }
            }
        }
        Ok(())
    }
}
