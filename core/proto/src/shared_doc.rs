//! Shared documents: any Automerge document, named by a header its creator
//! signs, carried in envelopes to a contact, a group or a channel.
//!
//! The header fixes who may write (the creator and the listed writers) for
//! the document's life: every replica decides whether a change is allowed
//! from the header alone, whatever order changes arrive in. Readers are
//! whoever can open the envelopes that carry it (the audiences it was
//! shared with). The id is a hash of the signed fields, so a header cannot
//! be altered without naming another document, and the signature stops
//! anyone from making a document that claims someone else created it.

use crate::codec::{DecodeError, Reader, Writer};
use crate::identity::{ContactKey, Identity, MAX_NAME_BYTES, PublicIdentity};
use thiserror::Error;

/// Most writers a header may list besides its creator.
pub const MAX_WRITERS: usize = 64;
/// Longest document title.
pub const MAX_TITLE_BYTES: usize = MAX_NAME_BYTES;
/// Longest application type tag (what kind of document, e.g. `board`).
pub const MAX_APP_BYTES: usize = 32;

const SIGNING_CONTEXT: &[u8] = b"pollen 2026 shared document header v1";
const ID_CONTEXT: &str = "pollen 2026 shared document id";

crate::byte_id!(
    /// A shared document's id: a hash of its signed header.
    DocId,
    16,
    "document id"
);

/// Why a header could not be read or made.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DocHeaderError {
    /// The bytes are malformed.
    #[error("malformed document header: {0}")]
    Decode(#[from] DecodeError),
    /// More writers than allowed.
    #[error("document lists {0} writers, more than {MAX_WRITERS}")]
    TooManyWriters(usize),
    /// The creator's signature does not verify.
    #[error("document header is not signed by its creator")]
    BadSignature,
    /// The writers are not listed sorted and unique (one encoding per header).
    #[error("document writers are not sorted and unique")]
    UnsortedWriters,
    /// An empty or over-long title or app tag.
    #[error("document {0} is empty, too long or has control characters")]
    BadText(&'static str),
}

/// The immutable description of a shared document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocHeader {
    /// Who created it (and signed this header).
    pub creator: PublicIdentity,
    /// Random bytes: two documents with the same title are two documents.
    pub nonce: [u8; 16],
    /// What kind of document, for apps (`doc` for a plain one, `board` for
    /// a needs-and-offers board).
    pub app: String,
    /// The title shown in lists.
    pub title: String,
    /// Everyone besides the creator who may write, sorted and unique.
    pub writers: Vec<ContactKey>,
    /// The creator's Ed25519 signature over the fields above.
    pub signature: [u8; 64],
}

fn check_text(s: &str, max: usize, what: &'static str) -> Result<(), DocHeaderError> {
    if s.trim().is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(DocHeaderError::BadText(what));
    }
    Ok(())
}

impl DocHeader {
    /// A new header signed by `creator`. Writers are sorted and deduplicated;
    /// the creator is never listed (they always may write).
    pub fn new(
        creator: &Identity,
        nonce: [u8; 16],
        app: &str,
        title: &str,
        writers: &[ContactKey],
    ) -> Result<DocHeader, DocHeaderError> {
        let me = creator.public();
        let mut writers: Vec<ContactKey> = writers
            .iter()
            .copied()
            .filter(|w| *w != me.signing)
            .collect();
        writers.sort();
        writers.dedup();
        if writers.len() > MAX_WRITERS {
            return Err(DocHeaderError::TooManyWriters(writers.len()));
        }
        check_text(app, MAX_APP_BYTES, "app tag")?;
        check_text(title, MAX_TITLE_BYTES, "title")?;
        let mut header = DocHeader {
            creator: me,
            nonce,
            app: app.to_owned(),
            title: title.trim().to_owned(),
            writers,
            signature: [0; 64],
        };
        header.signature = creator.sign(&header.signed_bytes());
        Ok(header)
    }

    /// The signed fields, as signed.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(SIGNING_CONTEXT);
        self.write_fields(&mut w);
        w.finish()
    }

    /// The signed fields, in wire order (without the context or signature).
    fn write_fields(&self, w: &mut Writer) {
        w.bytes(&self.creator.signing.0)
            .bytes(&self.creator.agreement)
            .bytes(&self.nonce)
            .short_bytes(self.app.as_bytes())
            .short_bytes(self.title.as_bytes())
            .u8(self.writers.len() as u8);
        for k in &self.writers {
            w.bytes(&k.0);
        }
    }

    /// The document's id: BLAKE3 `derive_key` over the signed fields.
    pub fn id(&self) -> DocId {
        let h = blake3::derive_key(ID_CONTEXT, &self.signed_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[..16]);
        DocId(id)
    }

    /// Whether `who` may write to the document.
    pub fn may_write(&self, who: &ContactKey) -> bool {
        *who == self.creator.signing || self.writers.binary_search(who).is_ok()
    }

    /// Encodes the header.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        self.write_fields(w);
        w.bytes(&self.signature);
    }

    /// Decodes untrusted bytes and checks the signature.
    pub fn decode(bytes: &[u8]) -> Result<DocHeader, DocHeaderError> {
        let mut r = Reader::new(bytes);
        let h = Self::read(&mut r)?;
        r.finish()?;
        Ok(h)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DocHeader, DocHeaderError> {
        let creator = PublicIdentity {
            signing: ContactKey(r.array("creator signing key")?),
            agreement: r.array("creator agreement key")?,
        };
        let nonce = r.array("document nonce")?;
        let app = r.short_str(MAX_APP_BYTES, "document app tag")?.to_owned();
        let title = r.short_str(MAX_TITLE_BYTES, "document title")?.to_owned();
        let count = r.u8("writer count")? as usize;
        if count > MAX_WRITERS {
            return Err(DocHeaderError::TooManyWriters(count));
        }
        let mut writers = Vec::with_capacity(count);
        for _ in 0..count {
            writers.push(ContactKey(r.array("writer key")?));
        }
        let signature = r.array("document signature")?;
        let header = DocHeader {
            creator,
            nonce,
            app,
            title,
            writers,
            signature,
        };
        check_text(&header.app, MAX_APP_BYTES, "app tag")?;
        check_text(&header.title, MAX_TITLE_BYTES, "title")?;
        // Sorted and unique, as `new` writes them: one encoding per header.
        if header.writers.windows(2).any(|w| w[0] >= w[1]) {
            return Err(DocHeaderError::UnsortedWriters);
        }
        header
            .creator
            .verify(&header.signed_bytes(), &header.signature)
            .map_err(|_| DocHeaderError::BadSignature)?;
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ana() -> Identity {
        Identity::generate("Ana").unwrap()
    }

    #[test]
    fn round_trips_and_names_one_document() {
        let ana = ana();
        let chen = Identity::generate("Chen").unwrap().public().signing;
        let h = DocHeader::new(&ana, [1; 16], "board", "Needs", &[chen, chen]).unwrap();
        assert_eq!(h.writers, vec![chen]);
        let back = DocHeader::decode(&h.encode()).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.id(), h.id());
        assert!(h.may_write(&ana.public().signing) && h.may_write(&chen));
        let other = DocHeader::new(&ana, [2; 16], "board", "Needs", &[chen]).unwrap();
        assert_ne!(other.id(), h.id());
    }

    #[test]
    fn a_changed_writer_list_or_a_forged_creator_is_refused() {
        let ana = ana();
        let mallory = Identity::generate("Mallory").unwrap();
        let mut h = DocHeader::new(&ana, [1; 16], "doc", "Plan", &[]).unwrap();
        h.writers = vec![mallory.public().signing];
        assert_eq!(
            DocHeader::decode(&h.encode()),
            Err(DocHeaderError::BadSignature)
        );
        // Mallory signs a header that names Ana as creator: her signature is not Ana's.
        let mut forged = DocHeader::new(&mallory, [1; 16], "doc", "Plan", &[]).unwrap();
        forged.creator = ana.public();
        assert_eq!(
            DocHeader::decode(&forged.encode()),
            Err(DocHeaderError::BadSignature)
        );
    }

    #[test]
    fn refuses_bad_titles_and_unsorted_writers() {
        let ana = ana();
        assert!(matches!(
            DocHeader::new(&ana, [0; 16], "doc", " ", &[]),
            Err(DocHeaderError::BadText("title"))
        ));
        let keys = [ContactKey([3; 32]), ContactKey([2; 32])];
        let mut h = DocHeader::new(&ana, [0; 16], "doc", "x", &keys).unwrap();
        h.writers.reverse();
        h.signature = ana.sign(&h.signed_bytes());
        assert_eq!(
            DocHeader::decode(&h.encode()),
            Err(DocHeaderError::UnsortedWriters)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = DocHeader::decode(&bytes);
        }
    }
}

#[cfg(test)]
mod vectors {
    use super::*;
    use crate::doc_vectors::documented_value;

    const HEADING: &str = "### Shared document test vectors";

    fn alice() -> Identity {
        let mut secret = vec![1u8];
        secret.extend([0x11; 32]);
        secret.extend([0x22; 32]);
        secret.push(5);
        secret.extend(b"Alice");
        Identity::from_secret_bytes(&secret).unwrap()
    }

    /// The documented header: Alice's board "Needs", nonce 16 × 0x07, one
    /// writer whose signing key is 32 × 0x42.
    #[test]
    fn the_documented_header_is_what_this_build_makes() {
        let h = DocHeader::new(
            &alice(),
            [7; 16],
            "board",
            "Needs",
            &[ContactKey([0x42; 32])],
        )
        .unwrap();
        let encoded = h.encode();
        assert_eq!(hex::encode(&encoded), documented_value(HEADING, "header"));
        assert_eq!(h.id().to_hex(), documented_value(HEADING, "id"));
        assert_eq!(DocHeader::decode(&encoded).unwrap(), h);
    }
}
