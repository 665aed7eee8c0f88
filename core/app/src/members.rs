//! A group's members as its screen shows them: who is in it, who may change
//! it, and which contacts could still be added. Adding and removing go
//! through the node, which refuses what the user may not do (not the admin,
//! already a member, a full group) with the reason.

use crate::AppError;
use pollen_node::Node;
use pollen_node::node::ConversationId;
use pollen_proto::payload::MAX_GROUP_MEMBERS;

/// One member, as this phone names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberLine {
    /// "You", the contact's alias, or the name the admin gave a stranger.
    pub name: String,
    /// The contact's alias (what add and remove take); none for this phone
    /// and for members who are not contacts here.
    pub alias: Option<String>,
    /// This phone's own identity.
    pub is_me: bool,
    /// The member who may change the group.
    pub is_admin: bool,
}

/// A group's members and what this phone may do with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMembers {
    /// This phone is the admin: it may add and remove.
    pub admin_is_me: bool,
    /// The current members: this phone first, then by name.
    pub members: Vec<MemberLine>,
    /// Contacts not in the group, by alias (empty unless `admin_is_me` and
    /// the group has room).
    pub addable: Vec<String>,
}

/// The members of the group `id`.
pub fn group_members(node: &Node, id: &ConversationId) -> Result<GroupMembers, AppError> {
    let group = node
        .store()
        .group(id)?
        .ok_or_else(|| AppError::UnknownConversation(id.to_hex()))?;
    let me = node.public();
    let mut members = Vec::with_capacity(group.members.len());
    for m in &group.members {
        let is_me = m.identity == *me;
        let contact = if is_me {
            None
        } else {
            node.store().contact_by_key(&m.identity.signing)?
        };
        members.push(MemberLine {
            name: if is_me {
                "You".to_owned()
            } else {
                contact
                    .as_ref()
                    .map_or_else(|| m.name.clone(), |c| c.alias.clone())
            },
            alias: contact.map(|c| c.alias),
            is_me,
            is_admin: m.identity.signing == group.admin,
        });
    }
    members.sort_by(|a, b| {
        b.is_me
            .cmp(&a.is_me)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    let admin_is_me = group.admin == me.signing;
    let addable = if admin_is_me && group.members.len() < MAX_GROUP_MEMBERS {
        node.contacts()?
            .into_iter()
            .filter(|c| !group.members.iter().any(|m| m.identity == c.identity))
            .map(|c| c.alias)
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupMembers {
        admin_is_me,
        members,
        addable,
    })
}

/// Adds the contact `alias` to the group `id`; returns the new key epoch.
pub fn add_member(node: &Node, id: &ConversationId, alias: &str) -> Result<u32, AppError> {
    Ok(node.add_member(&id.to_hex(), alias)?)
}

/// Removes the contact `alias` from the group `id`; returns the new key epoch.
pub fn remove_member(node: &Node, id: &ConversationId, alias: &str) -> Result<u32, AppError> {
    Ok(node.remove_member(&id.to_hex(), alias)?)
}
