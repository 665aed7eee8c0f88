//! Private groups (admin, epoch, members) and the shared keys that open
//! group and channel envelopes.

use super::{Store, StoreError, blob};
use crate::conversation::ConversationId;
use pollen_proto::envelope::SharedKey;
use pollen_proto::identity::{ContactKey, PublicIdentity};
use pollen_proto::payload::Member;
use rusqlite::{OptionalExtension, params};

/// (key, conversation id, epoch) of a group or channel key.
pub type SharedKeyRow = (SharedKey, ConversationId, u32);

/// A private group as this node knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    /// Group id (also its conversation id).
    pub id: ConversationId,
    /// Signing key of the member who may change membership.
    pub admin: ContactKey,
    /// Current epoch.
    pub epoch: u32,
    /// Current members, this node included.
    pub members: Vec<Member>,
}

impl Store {
    /// Creates or advances a group to `epoch` with exactly `members`.
    pub fn put_group(
        &self,
        id: &ConversationId,
        admin: &ContactKey,
        epoch: u32,
        members: &[Member],
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO groups (id, admin, epoch) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch",
            params![&id[..], &admin[..], epoch],
        )?;
        let mut st = self.conn().prepare_cached(
            "INSERT OR REPLACE INTO group_members (grp, epoch, signing, agreement, name) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for m in members {
            st.execute(params![
                &id[..],
                epoch,
                &m.identity.signing[..],
                &m.identity.agreement[..],
                m.name
            ])?;
        }
        Ok(())
    }

    /// The group with this id.
    pub fn group(&self, id: &ConversationId) -> Result<Option<GroupRow>, StoreError> {
        let Some((admin, epoch)) = self
            .conn()
            .query_row(
                "SELECT admin, epoch FROM groups WHERE id = ?1",
                [&id[..]],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u32>(1)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let mut st = self.conn().prepare(
            "SELECT signing, agreement, name FROM group_members WHERE grp = ?1 AND epoch = ?2 ORDER BY name",
        )?;
        let rows = st.query_map(params![&id[..], epoch], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut members = Vec::new();
        for row in rows {
            let (s, a, name) = row?;
            members.push(Member {
                identity: PublicIdentity {
                    signing: ContactKey(blob(s)?),
                    agreement: blob(a)?,
                },
                name,
            });
        }
        Ok(Some(GroupRow {
            id: *id,
            admin: ContactKey(blob(admin)?),
            epoch,
            members,
        }))
    }

    /// True when `signing` was a member of the group in `epoch`.
    pub fn was_member(
        &self,
        group: &ConversationId,
        epoch: u32,
        signing: &ContactKey,
    ) -> Result<bool, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT 1 FROM group_members WHERE grp = ?1 AND epoch = ?2 AND signing = ?3",
        )?;
        Ok(st.exists(params![&group[..], epoch, &signing[..]])?)
    }

    /// Remembers a key that opens envelopes of `conversation`.
    pub fn insert_shared_key(
        &self,
        key: &SharedKey,
        conversation: &ConversationId,
        epoch: u32,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO shared_keys (key, conversation, epoch) VALUES (?1, ?2, ?3)",
            params![&key.0[..], &conversation[..], epoch],
        )?;
        Ok(())
    }

    /// Every shared key with its conversation and epoch.
    pub fn shared_keys(&self) -> Result<Vec<SharedKeyRow>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT key, conversation, epoch FROM shared_keys")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (k, c, e) = row?;
            out.push((SharedKey(blob(k)?), ConversationId(blob(c)?), e));
        }
        Ok(out)
    }

    /// The newest key of a conversation (what new messages are sealed with).
    pub fn current_shared_key(
        &self,
        conversation: &ConversationId,
    ) -> Result<Option<SharedKey>, StoreError> {
        self.conn()
            .query_row(
                "SELECT key FROM shared_keys WHERE conversation = ?1 ORDER BY epoch DESC LIMIT 1",
                [&conversation[..]],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
            .map(|k| blob(k).map(SharedKey))
            .transpose()
    }
}
