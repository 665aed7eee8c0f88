//! Session messages: what travels, encrypted and reassembled, once the link is up.
//!
//! Each message starts with a type byte; integers are little-endian like every
//! other Pollen format (the record length prefix is big-endian, as in Noise's
//! own framing). Every count and length is capped before anything is read.

use crate::chunk::companion::MAX_CHUNK_WIRE_BYTES;
use crate::codec::{DecodeError, Reader, Writer, capped};
use crate::envelope::MAX_ENVELOPE_BYTES;
use crate::sync::encounter::EncounterSummary;
use thiserror::Error;

/// Most blinded interests one side may announce.
pub const MAX_INTERESTS: usize = 4096;
/// Most ids in one `Want` message.
pub const MAX_WANT_IDS: usize = 1024;
/// Longest close reason.
pub const MAX_REASON_BYTES: usize = 200;
/// Bytes of a blinded routing tag (and of a blinded blob).
pub const BLINDED_LEN: usize = 8;
/// Bytes of a blinded routing tag on the wire from session version 7 (a
/// `Hello` of type 14): the rest of [`Blinded`] is zero.
pub const SHORT_BLINDED_LEN: usize = 4;
/// Most blinded blobs one `Wanted` message names.
pub const MAX_WANTED_BLOBS: usize = 256;

const T_HELLO: u8 = 1;
const T_RECON: u8 = 2;
const T_WANT: u8 = 3;
const T_ENVELOPE: u8 = 4;
const T_PROOF: u8 = 5;
const T_ACK: u8 = 6;
const T_DONE: u8 = 7;
const T_CLOSE: u8 = 8;
const T_COPY: u8 = 9;
const T_CHUNK: u8 = 10;
const T_OFFER: u8 = 11;
const T_WANTED: u8 = 12;
const T_CHUNK_COPY: u8 = 13;
const T_HELLO_SHORT: u8 = 14;

/// A routing tag keyed with the session's handshake hash, so a neighbour can
/// match envelopes to what the other side wants without learning tags it
/// cannot compute itself, and without tags that link one session to the next.
pub type Blinded = [u8; BLINDED_LEN];

/// One session message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// First message of each side: its receive window and what it wants first.
    Hello {
        /// Bytes of transfer items the sender of Hello accepts unacknowledged.
        window: u32,
        /// The TCP port the sender accepts sessions on (0: none), so a
        /// neighbour it dialled can dial back when it has news.
        port: u16,
        /// Blinded direct tags: envelopes addressed to this side.
        direct: Vec<Blinded>,
        /// Blinded tags of its groups and channels.
        shared: Vec<Blinded>,
        /// Its encounter summary (version 5 and later, and only while
        /// encounter routing is on): what follows the tag lists, if anything.
        encounters: Option<EncounterSummary>,
        /// Tags blinded to [`SHORT_BLINDED_LEN`] bytes (session version 7
        /// and later, message type 14): half the Hello, which was most of
        /// the bytes between neighbours with little to exchange.
        short: bool,
    },
    /// A reconciliation message (see [`super::recon`]).
    Recon(Vec<u8>),
    /// Ids the initiator wants from the responder; `last` ends reconciliation.
    Want {
        /// Whether this is the last want message of the session.
        last: bool,
        /// The ids wanted.
        ids: Vec<[u8; 32]>,
    },
    /// One envelope.
    Envelope(Vec<u8>),
    /// One delivery proof (the preimage of a commitment).
    Proof([u8; 32]),
    /// The receiver has committed this many more transfer items.
    Ack(u32),
    /// The sender has nothing more to send and nothing unacknowledged.
    Done,
    /// The sender closes the session for this reason.
    Close(String),
    /// One envelope with the copy budget the receiver may hand on to
    /// carriers (session version 2 and later).
    Copy {
        /// Copies the receiver holds, at least 1.
        copies: u32,
        /// The envelope bytes.
        envelope: Vec<u8>,
    },
    /// One attachment chunk (session version 3 and later; see
    /// [`crate::chunk::Chunk`]).
    Chunk(Vec<u8>),
    /// Ids the initiator of a routed session would send; the responder
    /// answers with a `Want` for those it lacks (session version 4 and
    /// later). Same layout as `Want`.
    Offer {
        /// Whether this is the last offer message of the session.
        last: bool,
        /// The ids offered.
        ids: Vec<[u8; 32]>,
    },
    /// The attachments this side fetches (session version 6 and later):
    /// sent right after Hello, and again when a message opened during the
    /// session makes this side want another blob.
    Wanted {
        /// Blinded ids of blobs this side wants: any holder sends their
        /// chunks whatever its copy budget.
        blobs: Vec<Blinded>,
        /// Chunk item ids of newly wanted blobs that this side lacks, for a
        /// peer that already reconciled to send if it holds them.
        ids: Vec<[u8; 32]>,
    },
    /// One attachment chunk with the copy budget the receiver may hand on
    /// to carriers (session version 6 and later).
    ChunkCopy {
        /// Copies the receiver holds, at least 1.
        copies: u32,
        /// The encoded chunk.
        chunk: Vec<u8>,
    },
}

/// Why a session message could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// The bytes are malformed.
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    /// A message type this version does not define.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// An empty message.
    #[error("empty message")]
    Empty,
}

impl Message {
    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Message::Hello {
                window,
                port,
                direct,
                shared,
                encounters,
                short,
            } => {
                let len = if *short {
                    SHORT_BLINDED_LEN
                } else {
                    BLINDED_LEN
                };
                w.u8(if *short { T_HELLO_SHORT } else { T_HELLO })
                    .u32(*window)
                    .u16(*port)
                    .u16(direct.len() as u16);
                for b in direct {
                    w.bytes(&b[..len]);
                }
                w.u16(shared.len() as u16);
                for b in shared {
                    w.bytes(&b[..len]);
                }
                if let Some(e) = encounters {
                    e.encode(&mut w);
                }
            }
            Message::Recon(bytes) => {
                w.u8(T_RECON).bytes(bytes);
            }
            Message::Want { last, ids } | Message::Offer { last, ids } => {
                let t = if matches!(self, Message::Want { .. }) {
                    T_WANT
                } else {
                    T_OFFER
                };
                w.u8(t).u8(*last as u8).u16(ids.len() as u16);
                for id in ids {
                    w.bytes(id);
                }
            }
            Message::Envelope(bytes) => {
                w.u8(T_ENVELOPE).bytes(bytes);
            }
            Message::Proof(secret) => {
                w.u8(T_PROOF).bytes(secret);
            }
            Message::Ack(n) => {
                w.u8(T_ACK).u32(*n);
            }
            Message::Done => {
                w.u8(T_DONE);
            }
            Message::Close(reason) => {
                let mut end = reason.len().min(MAX_REASON_BYTES);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                w.u8(T_CLOSE).short_bytes(&reason.as_bytes()[..end]);
            }
            Message::Copy { copies, envelope } => {
                w.u8(T_COPY).u32(*copies).bytes(envelope);
            }
            Message::Chunk(bytes) => {
                w.u8(T_CHUNK).bytes(bytes);
            }
            Message::Wanted { blobs, ids } => {
                w.u8(T_WANTED).u16(blobs.len() as u16);
                for b in blobs {
                    w.bytes(b);
                }
                w.u16(ids.len() as u16);
                for id in ids {
                    w.bytes(id);
                }
            }
            Message::ChunkCopy { copies, chunk } => {
                w.u8(T_CHUNK_COPY).u32(*copies).bytes(chunk);
            }
        }
        w.finish()
    }

    /// Decodes an untrusted message.
    pub fn decode(bytes: &[u8]) -> Result<Message, MessageError> {
        let mut r = Reader::new(bytes);
        if bytes.is_empty() {
            return Err(MessageError::Empty);
        }
        let msg = match r.u8("message type")? {
            t @ (T_HELLO | T_HELLO_SHORT) => {
                let short = t == T_HELLO_SHORT;
                let window = r.u32("window")?;
                let port = r.u16("port")?;
                let direct = blinded_list(&mut r, short, "direct interests")?;
                let shared = blinded_list(&mut r, short, "shared interests")?;
                let encounters = if r.remaining() > 0 {
                    Some(EncounterSummary::decode(&mut r)?)
                } else {
                    None
                };
                Message::Hello {
                    window,
                    port,
                    direct,
                    shared,
                    encounters,
                    short,
                }
            }
            T_RECON => Message::Recon(r.rest().to_vec()),
            T_WANT => {
                let (last, ids) = id_list(&mut r)?;
                Message::Want { last, ids }
            }
            T_OFFER => {
                let (last, ids) = id_list(&mut r)?;
                Message::Offer { last, ids }
            }
            T_ENVELOPE => Message::Envelope(envelope_bytes(&mut r)?),
            T_COPY => Message::Copy {
                copies: copies(&mut r)?,
                envelope: envelope_bytes(&mut r)?,
            },
            T_CHUNK => Message::Chunk(chunk_bytes(&mut r)?),
            T_CHUNK_COPY => Message::ChunkCopy {
                copies: copies(&mut r)?,
                chunk: chunk_bytes(&mut r)?,
            },
            T_WANTED => {
                let n = capped(
                    r.u16("wanted blobs")? as usize,
                    MAX_WANTED_BLOBS,
                    "wanted blobs",
                )?;
                let mut blobs = Vec::with_capacity(n.min(r.remaining() / BLINDED_LEN));
                for _ in 0..n {
                    blobs.push(r.array("wanted blob")?);
                }
                let ids = ids(&mut r, "wanted chunks")?;
                Message::Wanted { blobs, ids }
            }
            T_PROOF => Message::Proof(r.array("proof")?),
            T_ACK => Message::Ack(r.u32("ack count")?),
            T_DONE => Message::Done,
            T_CLOSE => Message::Close(
                String::from_utf8_lossy(r.short_bytes(MAX_REASON_BYTES, "close reason")?)
                    .into_owned(),
            ),
            other => return Err(MessageError::UnknownType(other)),
        };
        r.finish()?;
        Ok(msg)
    }
}

/// The rest of a message as envelope bytes, at most an envelope's size.
fn envelope_bytes(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let rest = r.rest();
    if rest.len() > MAX_ENVELOPE_BYTES {
        return Err(DecodeError::TooLong {
            what: "envelope",
            len: rest.len(),
            max: MAX_ENVELOPE_BYTES,
        });
    }
    Ok(rest.to_vec())
}

/// A copy budget: at least 1.
fn copies(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    match r.u32("copies")? {
        0 => Err(DecodeError::Invalid {
            what: "copies",
            value: 0,
        }),
        n => Ok(n),
    }
}

/// The rest of a message as an encoded chunk, at most a chunk's size.
fn chunk_bytes(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let rest = r.rest();
    if rest.len() > MAX_CHUNK_WIRE_BYTES {
        return Err(DecodeError::TooLong {
            what: "chunk",
            len: rest.len(),
            max: MAX_CHUNK_WIRE_BYTES,
        });
    }
    Ok(rest.to_vec())
}

/// A count, then at most [`MAX_WANT_IDS`] ids.
fn ids(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<[u8; 32]>, DecodeError> {
    let n = capped(r.u16(what)? as usize, MAX_WANT_IDS, what)?;
    let mut ids = Vec::with_capacity(n.min(r.remaining() / 32));
    for _ in 0..n {
        ids.push(r.array(what)?);
    }
    Ok(ids)
}

/// The body of a `Want` or an `Offer`: the last flag, then at most
/// [`MAX_WANT_IDS`] ids.
fn id_list(r: &mut Reader<'_>) -> Result<(bool, Vec<[u8; 32]>), DecodeError> {
    let last = match r.u8("want flag")? {
        0 => false,
        1 => true,
        v => {
            return Err(DecodeError::Invalid {
                what: "want flag",
                value: v as u64,
            });
        }
    };
    Ok((last, ids(r, "want list")?))
}

fn blinded_list(
    r: &mut Reader<'_>,
    short: bool,
    what: &'static str,
) -> Result<Vec<Blinded>, DecodeError> {
    let n = capped(r.u16(what)? as usize, MAX_INTERESTS, what)?;
    let len = if short {
        SHORT_BLINDED_LEN
    } else {
        BLINDED_LEN
    };
    let mut out = Vec::with_capacity(n.min(r.remaining() / len));
    for _ in 0..n {
        let mut b = [0u8; BLINDED_LEN];
        if short {
            let head: [u8; SHORT_BLINDED_LEN] = r.array(what)?;
            b[..SHORT_BLINDED_LEN].copy_from_slice(&head);
        } else {
            b = r.array(what)?;
        }
        out.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples() -> Vec<Message> {
        vec![
            Message::Hello {
                window: 1 << 20,
                port: 7745,
                direct: vec![[1; 8], [2; 8]],
                shared: vec![[3; 8]],
                encounters: None,
                short: false,
            },
            Message::Hello {
                window: 1 << 20,
                port: 7745,
                direct: vec![[1, 2, 3, 4, 0, 0, 0, 0]],
                shared: vec![[5, 6, 7, 8, 0, 0, 0, 0], [9, 9, 9, 9, 0, 0, 0, 0]],
                encounters: None,
                short: true,
            },
            Message::Hello {
                window: 4096,
                port: 0,
                direct: vec![],
                shared: vec![],
                encounters: Some(EncounterSummary::build(
                    20_454,
                    vec![[5; 8]],
                    &[([6; 8], 200), ([7; 8], 30)],
                    &[191, 128, 64, 26],
                )),
                short: false,
            },
            Message::Recon(vec![0x61, 1, 2, 3]),
            Message::Want {
                last: true,
                ids: vec![[9; 32]],
            },
            Message::Envelope(vec![1; 512]),
            Message::Proof([7; 32]),
            Message::Ack(42),
            Message::Done,
            Message::Close("peer idle".into()),
            Message::Copy {
                copies: 8,
                envelope: vec![2; 300],
            },
            Message::Chunk(vec![1, 2, 3]),
            Message::Offer {
                last: false,
                ids: vec![[4; 32], [5; 32]],
            },
            Message::Wanted {
                blobs: vec![[8; 8]],
                ids: vec![[6; 32]],
            },
            Message::ChunkCopy {
                copies: 4,
                chunk: vec![3; 100],
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in samples() {
            assert_eq!(Message::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn lying_counts_and_unknown_types_are_refused() {
        assert_eq!(Message::decode(&[]), Err(MessageError::Empty));
        assert_eq!(Message::decode(&[99]), Err(MessageError::UnknownType(99)));
        // A want list claiming 65535 ids in 3 bytes.
        assert!(matches!(
            Message::decode(&[T_WANT, 0, 0xff, 0xff]),
            Err(MessageError::Decode(DecodeError::TooLong { .. }))
        ));
        assert!(matches!(
            Message::decode(&[T_WANT, 0, 2, 0, 1, 2]),
            Err(MessageError::Decode(DecodeError::Truncated { .. }))
        ));
        assert!(Message::decode(&[T_DONE, 0]).is_err());
        assert!(Message::decode(&[T_WANT, 7, 0, 0]).is_err());
        assert!(Message::decode(&[T_OFFER, 2, 0, 0]).is_err());
        assert!(matches!(
            Message::decode(&[T_OFFER, 1, 0xff, 0xff]),
            Err(MessageError::Decode(DecodeError::TooLong { .. }))
        ));
        // A copy with no budget, and one whose budget is cut short.
        assert!(matches!(
            Message::decode(&[T_COPY, 0, 0, 0, 0, 1, 2, 3]),
            Err(MessageError::Decode(DecodeError::Invalid {
                what: "copies",
                ..
            }))
        ));
        assert!(matches!(
            Message::decode(&[T_COPY, 1, 0]),
            Err(MessageError::Decode(DecodeError::Truncated { .. }))
        ));
    }

    #[test]
    fn copy_matches_the_documented_vectors() {
        let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
        for copies in [16, 0x0102_0304] {
            let name = if copies == 16 {
                "copy(copies 16, envelope eeeeee)"
            } else {
                "copy(copies 0x01020304, envelope eeeeee)"
            };
            let m = Message::Copy {
                copies,
                envelope: vec![0xee; 3],
            };
            assert_eq!(hex::encode(m.encode()), value(name));
            assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
        }
        assert_eq!(value("copy(copies 0)"), "malformed");
        assert!(Message::decode(&hex::decode("0900000000eeeeee").unwrap()).is_err());
    }

    #[test]
    fn wanted_and_chunk_copy_match_the_documented_vectors() {
        let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
        let cases = [
            (
                "wanted(blob 08x8, no ids)",
                Message::Wanted {
                    blobs: vec![[8; 8]],
                    ids: vec![],
                },
            ),
            (
                "wanted(no blobs, id 06x32)",
                Message::Wanted {
                    blobs: vec![],
                    ids: vec![[6; 32]],
                },
            ),
            (
                "chunk_copy(copies 4, chunk cccccc)",
                Message::ChunkCopy {
                    copies: 4,
                    chunk: vec![0xcc; 3],
                },
            ),
        ];
        for (name, m) in cases {
            assert_eq!(hex::encode(m.encode()), value(name));
            assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
        }
        assert_eq!(value("chunk_copy(copies 0)"), "malformed");
        assert!(Message::decode(&hex::decode("0d00000000cccccc").unwrap()).is_err());
        // 257 blobs claimed: over the cap before anything is read.
        assert!(matches!(
            Message::decode(&[T_WANTED, 0x01, 0x01]),
            Err(MessageError::Decode(DecodeError::TooLong { .. }))
        ));
    }

    #[test]
    fn offer_matches_the_documented_vectors() {
        let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
        let cases = [
            ("offer(last, no ids)", true, vec![]),
            ("offer(not last, id 07x32)", false, vec![[7; 32]]),
        ];
        for (name, last, ids) in cases {
            let m = Message::Offer { last, ids };
            assert_eq!(hex::encode(m.encode()), value(name));
            assert_eq!(Message::decode(&hex::decode(value(name)).unwrap()), Ok(m));
        }
    }

    #[test]
    fn long_close_reasons_are_cut_on_a_char_boundary() {
        let m = Message::Close("é".repeat(150));
        let Message::Close(back) = Message::decode(&m.encode()).unwrap() else {
            panic!("not a close");
        };
        assert_eq!(back.len(), MAX_REASON_BYTES);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(m) = Message::decode(&bytes) {
                prop_assert_eq!(Message::decode(&m.encode()), Ok(m));
            }
        }
    }
}
