//! Pinned contacts and the key changes that were refused.

use super::{Store, StoreError, blob};
use pollen_proto::identity::{ContactKey, PublicIdentity};
use rusqlite::{OptionalExtension, Row, params};

/// A contact whose keys are pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The pinned keys.
    pub identity: PublicIdentity,
    /// The local name the user chose (unique, case-insensitive).
    pub alias: String,
    /// The name the contact's card claimed.
    pub card_name: String,
    /// True once the user compared safety numbers in person.
    pub verified: bool,
    /// Unix seconds when pinned.
    pub added_at: u64,
}

/// A card that claimed a pinned contact with different keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyChange {
    /// The contact it claimed to be.
    pub alias: String,
    /// Fingerprint of the pinned keys.
    pub old_fingerprint: String,
    /// The card that was refused.
    pub new_card: String,
    /// Unix seconds when it was seen.
    pub seen_at: u64,
}

const CONTACT_COLUMNS: &str = "signing, agreement, alias, card_name, verified, added_at";

/// signing, agreement, alias, card name, verified, added at.
type RawContact = (Vec<u8>, Vec<u8>, String, String, bool, i64);

fn contact_from_row(r: &Row<'_>) -> rusqlite::Result<RawContact> {
    RawContact::try_from(r)
}

fn to_contact(
    (signing, agreement, alias, card_name, verified, added_at): RawContact,
) -> Result<Contact, StoreError> {
    Ok(Contact {
        identity: PublicIdentity {
            signing: ContactKey(blob(signing)?),
            agreement: blob(agreement)?,
        },
        alias,
        card_name,
        verified,
        added_at: added_at.max(0) as u64,
    })
}

impl Store {
    /// Pins a new contact.
    pub fn insert_contact(&self, c: &Contact) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO contacts (signing, agreement, alias, card_name, verified, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                &c.identity.signing[..],
                &c.identity.agreement[..],
                c.alias,
                c.card_name,
                c.verified,
                c.added_at as i64
            ],
        )?;
        Ok(())
    }

    /// The contact with this alias (case-insensitive).
    pub fn contact_by_alias(&self, alias: &str) -> Result<Option<Contact>, StoreError> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE alias = ?1 COLLATE NOCASE");
        self.conn()
            .query_row(&sql, [alias], contact_from_row)
            .optional()?
            .map(to_contact)
            .transpose()
    }

    /// The contact with this signing key.
    pub fn contact_by_key(&self, signing: &ContactKey) -> Result<Option<Contact>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE signing = ?1"
        ))?;
        st.query_row([&signing[..]], contact_from_row)
            .optional()?
            .map(to_contact)
            .transpose()
    }

    /// Contacts whose card claimed `name` (case-insensitive).
    pub fn contacts_by_card_name(&self, name: &str) -> Result<Vec<Contact>, StoreError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE card_name = ?1 COLLATE NOCASE OR alias = ?1 COLLATE NOCASE"
        );
        let mut st = self.conn().prepare(&sql)?;
        let rows = st.query_map([name], contact_from_row)?;
        rows.map(|r| to_contact(r?)).collect()
    }

    /// Every contact, by alias.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts ORDER BY alias COLLATE NOCASE");
        let mut st = self.conn().prepare(&sql)?;
        let rows = st.query_map([], contact_from_row)?;
        rows.map(|r| to_contact(r?)).collect()
    }

    /// Marks a contact verified in person.
    pub fn set_verified(&self, signing: &ContactKey, verified: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE contacts SET verified = ?2 WHERE signing = ?1",
            params![&signing[..], verified],
        )?;
        Ok(())
    }

    /// Records a refused key change (once per card).
    pub fn record_key_change(&self, k: &KeyChange) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO key_changes (alias, old_fp, new_card, seen_at) VALUES (?1, ?2, ?3, ?4)",
            params![k.alias, k.old_fingerprint, k.new_card, k.seen_at as i64],
        )?;
        Ok(())
    }

    /// Every refused key change, newest first.
    pub fn key_changes(&self) -> Result<Vec<KeyChange>, StoreError> {
        let mut st = self.conn().prepare(
            "SELECT alias, old_fp, new_card, seen_at FROM key_changes ORDER BY seen_at DESC",
        )?;
        let rows = st.query_map([], |r| {
            Ok(KeyChange {
                alias: r.get(0)?,
                old_fingerprint: r.get(1)?,
                new_card: r.get(2)?,
                seen_at: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// Unpins a contact.
    pub fn delete_contact(&self, signing: &ContactKey) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM contacts WHERE signing = ?1", [&signing[..]])?;
        Ok(())
    }
}
