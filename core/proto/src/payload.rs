//! What travels inside an opened envelope: a conversation change or a group key.
//!
//! The layout is versioned by the envelope (v1) and by the leading kind byte,
//! so a newer kind is refused with [`PayloadError::UnknownKind`] rather than
//! misread.

use crate::codec::{DecodeError, Reader, Writer};
use crate::identity::{ContactKey, MAX_NAME_BYTES, PublicIdentity};
use crate::shared_doc::{DocHeader, DocHeaderError};
use thiserror::Error;

/// Longest root key a change may name (`m:` + 32 hex, or `read:` + 64 hex).
pub const MAX_KEY_BYTES: usize = 80;
/// Largest Automerge change carried in one envelope.
pub const MAX_CHANGE_BYTES: usize = 16 * 1024;
crate::byte_id!(
    /// Id of a conversation (direct, group or channel): for a direct one a
    /// hash of both people's keys, for a group random, for a channel derived
    /// from its key ([`crate::envelope::SharedKey::id`]).
    ConversationId,
    16,
    "conversation id"
);

/// Largest group a key message can describe.
pub const MAX_GROUP_MEMBERS: usize = 64;

const KIND_CHANGE: u8 = 1;
const KIND_GROUP_KEY: u8 = 2;
const KIND_DOC_CHANGE: u8 = 3;

/// One group member as listed in a group key message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's public keys.
    pub identity: PublicIdentity,
    /// The member's display name as the admin knows it.
    pub name: String,
}

/// A decoded payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// An Automerge change of the conversation the envelope belongs to.
    Change {
        /// The root key of the conversation document the change writes.
        key: String,
        /// The Automerge change bytes.
        change: Vec<u8>,
    },
    /// A group's epoch key, sent sealed to each member by the group's admin.
    GroupKey {
        /// Stable id of the group (its conversation id).
        group: ConversationId,
        /// The group's name.
        name: String,
        /// Epoch number; a higher epoch replaces the key for new messages.
        epoch: u32,
        /// The epoch key.
        key: [u8; 32],
        /// Everyone who holds this epoch's key.
        members: Vec<Member>,
    },
    /// An Automerge change of a shared document, with the document's signed
    /// header (so that any replica can check the writer, in any order).
    DocChange {
        /// The document's header.
        header: DocHeader,
        /// The Automerge change bytes.
        change: Vec<u8>,
    },
}

/// Why a payload could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The bytes are malformed.
    #[error("malformed payload: {0}")]
    Decode(#[from] DecodeError),
    /// A kind this build does not know.
    #[error("payload kind {0} is not supported by this build")]
    UnknownKind(u8),
    /// A shared document's header is malformed or not signed by its creator.
    #[error("{0}")]
    Doc(#[from] DocHeaderError),
    /// A group listing more members than allowed.
    #[error("group lists {0} members, more than {MAX_GROUP_MEMBERS}")]
    TooManyMembers(usize),
}

impl Payload {
    /// Encodes the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Payload::Change { key, change } => {
                w.u8(KIND_CHANGE)
                    .short_bytes(key.as_bytes())
                    .long_bytes(change);
            }
            Payload::GroupKey {
                group,
                name,
                epoch,
                key,
                members,
            } => {
                w.u8(KIND_GROUP_KEY)
                    .bytes(&group.0)
                    .short_bytes(name.as_bytes())
                    .u32(*epoch)
                    .bytes(key)
                    .u8(members.len() as u8);
                for m in members {
                    w.bytes(&m.identity.signing.0)
                        .bytes(&m.identity.agreement)
                        .short_bytes(m.name.as_bytes());
                }
            }
            Payload::DocChange { header, change } => {
                w.u8(KIND_DOC_CHANGE);
                header.write(&mut w);
                w.long_bytes(change);
            }
        }
        w.finish()
    }

    /// Decodes untrusted payload bytes.
    pub fn decode(bytes: &[u8]) -> Result<Payload, PayloadError> {
        let mut r = Reader::new(bytes);
        let payload = match r.u8("payload kind")? {
            KIND_CHANGE => Payload::Change {
                key: r.short_str(MAX_KEY_BYTES, "change key")?.to_owned(),
                change: r.long_bytes(MAX_CHANGE_BYTES, "change")?.to_vec(),
            },
            KIND_GROUP_KEY => {
                let group = ConversationId(r.array("group id")?);
                let name = r.short_str(MAX_NAME_BYTES, "group name")?.to_owned();
                let epoch = r.u32("epoch")?;
                let key = r.array("group key")?;
                let count = r.u8("member count")? as usize;
                if count > MAX_GROUP_MEMBERS {
                    return Err(PayloadError::TooManyMembers(count));
                }
                let mut members = Vec::with_capacity(count);
                for _ in 0..count {
                    let identity = PublicIdentity {
                        signing: ContactKey(r.array("member signing key")?),
                        agreement: r.array("member agreement key")?,
                    };
                    let name = r.short_str(MAX_NAME_BYTES, "member name")?.to_owned();
                    members.push(Member { identity, name });
                }
                Payload::GroupKey {
                    group,
                    name,
                    epoch,
                    key,
                    members,
                }
            }
            KIND_DOC_CHANGE => Payload::DocChange {
                header: DocHeader::read(&mut r)?,
                change: r.long_bytes(MAX_CHANGE_BYTES, "document change")?.to_vec(),
            },
            other => return Err(PayloadError::UnknownKind(other)),
        };
        r.finish()?;
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let change = Payload::Change {
            key: "m:00".into(),
            change: vec![1, 2, 3],
        };
        assert_eq!(Payload::decode(&change.encode()).unwrap(), change);
        let group = Payload::GroupKey {
            group: ConversationId([7; 16]),
            name: "crew".into(),
            epoch: 3,
            key: [9; 32],
            members: vec![Member {
                identity: PublicIdentity {
                    signing: ContactKey([1; 32]),
                    agreement: [2; 32],
                },
                name: "ana".into(),
            }],
        };
        assert_eq!(Payload::decode(&group.encode()).unwrap(), group);
        let ana = crate::identity::Identity::generate("Ana").unwrap();
        let doc = Payload::DocChange {
            header: DocHeader::new(&ana, [5; 16], "board", "Needs", &[]).unwrap(),
            change: vec![4, 5],
        };
        assert_eq!(Payload::decode(&doc.encode()).unwrap(), doc);
    }

    #[test]
    fn refuses_unknown_kind_and_lies() {
        assert_eq!(Payload::decode(&[9]), Err(PayloadError::UnknownKind(9)));
        let mut lying = vec![KIND_CHANGE, 1, b'k'];
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Payload::decode(&lying),
            Err(PayloadError::Decode(DecodeError::TooLong { .. }))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Payload::decode(&bytes);
        }
    }
}
