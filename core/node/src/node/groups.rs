//! Private groups (an admin hands out epoch keys, rotated on removal) and
//! public channels (a key anyone can derive from the name).

use super::{Node, NodeError, check_name};
use crate::conversation::ConversationId;
use crate::routing;
use crate::store::{ConversationKind, ConversationRow, GroupRow};
use pollen_proto::envelope::{Recipient, SharedKey};
use pollen_proto::payload::{MAX_GROUP_MEMBERS, Member, Payload};

impl Node {
    /// Creates a group with this node as admin and sends each member the key.
    pub fn create_group(
        &self,
        name: &str,
        members: &[String],
    ) -> Result<ConversationRow, NodeError> {
        let name = check_name(name)?.to_owned();
        if self
            .store
            .conversations_named(&name)?
            .iter()
            .any(|c| c.kind == ConversationKind::Group)
        {
            return Err(NodeError::BadName(name, "a group with that name exists"));
        }
        let mut list = vec![Member {
            identity: self.public,
            name: self.me.name().to_owned(),
        }];
        for alias in members {
            let c = self.contact(alias)?;
            if !list.iter().any(|m| m.identity == c.identity) {
                list.push(Member {
                    identity: c.identity,
                    name: c.alias,
                });
            }
        }
        check_size(&name, &list)?;
        let mut id = ConversationId([0u8; 16]);
        pollen_proto::random::fill(&mut id.0)
            .map_err(|e| NodeError::CannotSend(name.clone(), rng_failed(e)))?;
        self.transaction(|s| -> Result<(), NodeError> {
            s.ensure_conversation(&id, ConversationKind::Group, &name, None)?;
            self.rekey(&id, &name, 1, &list)
        })?;
        self.store
            .conversation(&id)?
            .ok_or_else(|| NodeError::UnknownConversation(name.clone()))
    }

    /// Adds a contact to a group this node administers: a new epoch key goes
    /// to every member, the new one included, who reads from now on (not what
    /// was written under earlier keys).
    pub fn add_member(&self, group: &str, alias: &str) -> Result<u32, NodeError> {
        let (conv, g) = self.administered(group)?;
        let added = self.contact(alias)?;
        if g.members.iter().any(|m| m.identity == added.identity) {
            return Err(NodeError::AlreadyMember(added.alias, conv.name));
        }
        let mut members = g.members;
        members.push(Member {
            identity: added.identity,
            name: added.alias,
        });
        check_size(&conv.name, &members)?;
        let epoch = g.epoch + 1;
        self.transaction(|_| self.rekey(&conv.id, &conv.name, epoch, &members))?;
        Ok(epoch)
    }

    /// Removes a member: a new epoch key goes to everyone else, so the removed
    /// member cannot read anything sent afterwards.
    pub fn remove_member(&self, group: &str, alias: &str) -> Result<u32, NodeError> {
        let (conv, g) = self.administered(group)?;
        let removed = self.contact(alias)?;
        if !g.members.iter().any(|m| m.identity == removed.identity) {
            return Err(NodeError::NotMember(alias.to_owned(), conv.name));
        }
        let members: Vec<Member> = g
            .members
            .into_iter()
            .filter(|m| m.identity != removed.identity)
            .collect();
        let epoch = g.epoch + 1;
        self.transaction(|_| -> Result<(), NodeError> {
            self.rekey(&conv.id, &conv.name, epoch, &members)?;
            // Tell the removed member, without a key, so their app stops offering to send.
            let notice = Payload::GroupKey {
                group: conv.id,
                name: conv.name.clone(),
                epoch,
                key: [0; 32],
                members: members.clone(),
            };
            self.seal_and_store(
                Recipient::Direct(&removed.identity),
                &notice.encode(),
                self.now(),
                routing::COPIES,
            )?;
            Ok(())
        })?;
        Ok(epoch)
    }

    /// The group called `group` (its name, or its id in hex as the apps
    /// give it) and its member list, if this node is its admin.
    fn administered(&self, group: &str) -> Result<(ConversationRow, GroupRow), NodeError> {
        let by_id = hex::decode(group.trim())
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(ConversationId);
        let found = match by_id {
            Some(id) => self.store.conversation(&id)?,
            None => None,
        };
        let conv = match found {
            Some(c) => Some(c),
            None => self
                .store
                .conversations_named(group.trim())?
                .into_iter()
                .find(|c| c.kind == ConversationKind::Group),
        }
        .filter(|c| c.kind == ConversationKind::Group)
        .ok_or_else(|| NodeError::UnknownConversation(group.to_owned()))?;
        let g = self
            .store
            .group(&conv.id)?
            .ok_or_else(|| NodeError::UnknownConversation(group.to_owned()))?;
        if g.admin != self.public.signing {
            return Err(NodeError::NotAdmin(conv.name));
        }
        Ok((conv, g))
    }

    /// Makes a fresh epoch key, stores it and seals it to every other member.
    fn rekey(
        &self,
        id: &ConversationId,
        name: &str,
        epoch: u32,
        members: &[Member],
    ) -> Result<(), NodeError> {
        let key = SharedKey::random()?;
        self.store
            .put_group(id, &self.public.signing, epoch, members)?;
        self.conversation_changed(id);
        self.store.insert_shared_key(&key, id, epoch)?;
        let payload = Payload::GroupKey {
            group: *id,
            name: name.to_owned(),
            epoch,
            key: key.0,
            members: members.to_vec(),
        }
        .encode();
        let now = self.now();
        for m in members.iter().filter(|m| m.identity != self.public) {
            self.seal_and_store(
                Recipient::Direct(&m.identity),
                &payload,
                now,
                routing::COPIES,
            )?;
        }
        Ok(())
    }

    /// Joins a public channel: its key comes from its name, so anyone who
    /// knows the name can read it.
    pub fn join_channel(&self, name: &str) -> Result<ConversationRow, NodeError> {
        let bare = name.trim().trim_start_matches('#');
        check_name(bare)?;
        let key = SharedKey::for_channel(bare);
        let id = key.id();
        let display = format!("#{}", bare.to_lowercase());
        self.transaction(|s| -> Result<(), NodeError> {
            s.ensure_conversation(&id, ConversationKind::Channel, &display, None)?;
            s.insert_shared_key(&key, &id, 0)?;
            self.conversation_changed(&id);
            Ok(())
        })?;
        // Envelopes of this channel carried so far can be read now.
        self.transaction(|_| -> Result<(), NodeError> {
            let mut batch = super::ingest::Batch::new(self)?;
            batch.open_carried_with(&key, &id)?;
            batch.flush()
        })?;
        self.store
            .conversation(&id)?
            .ok_or(NodeError::UnknownConversation(display))
    }
}

/// A group key payload lists at most [`MAX_GROUP_MEMBERS`]; more would be
/// refused by every member's decoder, so it is refused here first.
fn check_size(group: &str, members: &[Member]) -> Result<(), NodeError> {
    if members.len() > MAX_GROUP_MEMBERS {
        return Err(NodeError::GroupFull(group.to_owned(), MAX_GROUP_MEMBERS));
    }
    Ok(())
}

fn rng_failed(_: getrandom::Error) -> &'static str {
    "the operating system's random generator failed"
}
