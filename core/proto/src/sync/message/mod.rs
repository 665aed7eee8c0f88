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

mod held_days;

use held_days::EVERY_DAY;
pub use held_days::{HELD_DAYS, HeldDays};

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
const T_HELLO_DAYS: u8 = 15;
const T_TAGS: u8 = 16;

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
        /// The expiry days of what the sender holds (session version 8,
        /// message type 15): the tag lists are then empty and the peer's
        /// `Tags` message carries its tags for those days.
        days: Option<HeldDays>,
    },
    /// A side's blinded tags (4 bytes each) for the days the peer's Hello
    /// named (session version 8): it completes that side's Hello.
    Tags {
        /// Blinded direct tags: envelopes addressed to this side.
        direct: Vec<Blinded>,
        /// Blinded tags of its groups and channels.
        shared: Vec<Blinded>,
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
    /// A short name of the message's type, for byte counts by type.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::Tags { .. } => "tags",
            Message::Recon(_) => "recon",
            Message::Want { .. } => "want",
            Message::Offer { .. } => "offer",
            Message::Envelope(_) | Message::Copy { .. } => "envelope",
            Message::Proof(_) => "proof",
            Message::Ack(_) => "ack",
            Message::Done => "done",
            Message::Close(_) => "close",
            Message::Chunk(_) | Message::ChunkCopy { .. } => "chunk",
            Message::Wanted { .. } => "wanted",
        }
    }

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
                days,
            } => {
                if let Some(days) = days {
                    // The tags follow in a `Tags` message.
                    let (first, mask) = match *days {
                        HeldDays::Every => (EVERY_DAY, 0),
                        HeldDays::From { first, mask } => (first, mask),
                    };
                    w.u8(T_HELLO_DAYS)
                        .u32(*window)
                        .u16(*port)
                        .u32(first)
                        .u64(mask);
                } else {
                    w.u8(if *short { T_HELLO_SHORT } else { T_HELLO })
                        .u32(*window)
                        .u16(*port);
                    blinded_lists(&mut w, direct, shared, *short);
                }
                if let Some(e) = encounters {
                    e.encode(&mut w);
                }
            }
            Message::Tags { direct, shared } => {
                w.u8(T_TAGS);
                blinded_lists(&mut w, direct, shared, true);
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
                    days: None,
                }
            }
            T_HELLO_DAYS => {
                let window = r.u32("window")?;
                let port = r.u16("port")?;
                let days = match (r.u32("first held day")?, r.u64("held days")?) {
                    (EVERY_DAY, 0) => HeldDays::Every,
                    (EVERY_DAY, mask) => {
                        return Err(DecodeError::Invalid {
                            what: "held days of every day",
                            value: mask,
                        }
                        .into());
                    }
                    (first, mask) => HeldDays::From { first, mask },
                };
                let encounters = if r.remaining() > 0 {
                    Some(EncounterSummary::decode(&mut r)?)
                } else {
                    None
                };
                Message::Hello {
                    window,
                    port,
                    direct: Vec::new(),
                    shared: Vec::new(),
                    encounters,
                    short: true,
                    days: Some(days),
                }
            }
            T_TAGS => Message::Tags {
                direct: blinded_list(&mut r, true, "direct interests")?,
                shared: blinded_list(&mut r, true, "shared interests")?,
            },
            T_RECON => Message::Recon(r.rest().to_vec()),
            T_WANT => {
                let (last, ids) = id_list(&mut r)?;
                Message::Want { last, ids }
            }
            T_OFFER => {
                let (last, ids) = id_list(&mut r)?;
                Message::Offer { last, ids }
            }
            T_ENVELOPE => Message::Envelope(capped_rest(&mut r, "envelope", MAX_ENVELOPE_BYTES)?),
            T_COPY => Message::Copy {
                copies: copies(&mut r)?,
                envelope: capped_rest(&mut r, "envelope", MAX_ENVELOPE_BYTES)?,
            },
            T_CHUNK => Message::Chunk(capped_rest(&mut r, "chunk", MAX_CHUNK_WIRE_BYTES)?),
            T_CHUNK_COPY => Message::ChunkCopy {
                copies: copies(&mut r)?,
                chunk: capped_rest(&mut r, "chunk", MAX_CHUNK_WIRE_BYTES)?,
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

/// The rest of a message (an envelope's or a chunk's bytes), at most `max`.
fn capped_rest(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
    let rest = r.rest();
    if rest.len() > max {
        return Err(DecodeError::TooLong {
            what,
            len: rest.len(),
            max,
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

/// Writes the two counted tag lists of a Hello or `Tags` message.
fn blinded_lists(w: &mut Writer, direct: &[Blinded], shared: &[Blinded], short: bool) {
    let len = if short {
        SHORT_BLINDED_LEN
    } else {
        BLINDED_LEN
    };
    for list in [direct, shared] {
        w.u16(list.len() as u16);
        for b in list {
            w.bytes(&b[..len]);
        }
    }
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
mod tests;
