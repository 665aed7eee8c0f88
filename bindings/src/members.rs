//! A group's members across the boundary (`pollen_app::members`): who is in
//! it, who may change it, whom the admin could add, and adding them.

use crate::PollenNode;
use crate::error::PollenError;
use crate::node::hex_id;
use pollen_app::members::{self, GroupMembers, MemberLine};
use pollen_node::node::ConversationId;

/// One member as this phone names them.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct MemberInfo {
    /// "You", the contact's alias, or the name the admin gave a stranger.
    pub name: String,
    /// The contact's alias, what `remove_member` takes; none for this phone
    /// and for members who are not contacts here.
    pub alias: Option<String>,
    /// This phone.
    pub is_me: bool,
    /// The member who may change the group.
    pub is_admin: bool,
}

/// A group's members and what this phone may do with them.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct GroupMembersInfo {
    /// This phone is the admin: it may add and remove.
    pub admin_is_me: bool,
    /// The members, this phone first.
    pub members: Vec<MemberInfo>,
    /// Contacts the admin could add (empty for others and in a full group).
    pub addable: Vec<String>,
}

impl From<MemberLine> for MemberInfo {
    fn from(m: MemberLine) -> Self {
        MemberInfo {
            name: m.name,
            alias: m.alias,
            is_me: m.is_me,
            is_admin: m.is_admin,
        }
    }
}

impl From<GroupMembers> for GroupMembersInfo {
    fn from(g: GroupMembers) -> Self {
        GroupMembersInfo {
            admin_is_me: g.admin_is_me,
            members: g.members.into_iter().map(Into::into).collect(),
            addable: g.addable,
        }
    }
}

fn group_id(hex: &str) -> Result<ConversationId, PollenError> {
    hex_id(hex).ok_or_else(|| PollenError::UnknownConversation {
        name: hex.to_owned(),
    })
}

#[uniffi::export]
impl PollenNode {
    /// The members of the group `conversation_id` (hex).
    pub fn group_members(&self, conversation_id: String) -> Result<GroupMembersInfo, PollenError> {
        let id = group_id(&conversation_id)?;
        self.read(move |n| Ok(members::group_members(n, &id)?.into()))
    }

    /// Adds the contact `alias` to a group this phone administers: a new
    /// key goes to every member, the new one included, who reads from now
    /// on. Returns the new key epoch.
    pub fn add_member(&self, conversation_id: String, alias: String) -> Result<u32, PollenError> {
        let id = group_id(&conversation_id)?;
        self.write(move |n| Ok(members::add_member(n, &id, &alias)?))
    }
}
