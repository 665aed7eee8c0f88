//! Link framing: length-prefixed records, fragmentation and reassembly.
//!
//! Two layers sit between a link's raw byte stream and the sync session (see
//! `docs/PROTOCOL.md`, "Link framing"):
//!
//! 1. **Records** on the wire: a big-endian `u16` length, then that many bytes
//!    of body (a Noise handshake or transport message, opaque here).
//!    [`encode_record`] writes one; [`RecordDecoder`] cuts a byte stream back
//!    into records, refusing a declared length over the link's `max_record` as
//!    soon as the two length bytes are seen.
//! 2. **Fragments** inside a decrypted record body, so one session message of
//!    up to [`ReassemblyLimits::max_message`] bytes can cross records as small
//!    as [`MIN_RECORD`]. [`Fragmenter`] splits, [`Reassembler`] joins.
//!
//! Everything is sans-IO and bounded: no allocation is sized from an untrusted
//! header, and every error is a reason to drop the link.

mod fragment;
mod reassembly;
mod record;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use fragment::{Fragmenter, wire_cost};
pub use reassembly::{Reassembler, ReassemblyLimits};
pub use record::{RecordDecoder, encode_record};

use crate::codec::DecodeError;
use thiserror::Error;

/// Smallest `max_record` a link may negotiate (sized for BLE links); every
/// peer must accept records this large.
pub const MIN_RECORD: usize = 180;
/// Largest `max_record`; a record, prefix included, then always fits `u16::MAX` bytes.
pub const MAX_RECORD: usize = 65_535;
/// Bytes of the record length prefix.
pub const LEN_PREFIX: usize = 2;
/// Bytes the link's AEAD adds to every record body.
pub const TAG_LEN: usize = 16;

/// Fragment kind: the rest of the plaintext is one complete message.
pub const KIND_WHOLE: u8 = 0x00;
/// Fragment kind: opens a stream (`u16` id, `u32` total) with its first chunk.
pub const KIND_FIRST: u8 = 0x01;
/// Fragment kind: continues a stream (`u16` id) with the next chunk.
pub const KIND_MORE: u8 = 0x02;

/// Header bytes of a WHOLE fragment (kind).
pub const WHOLE_HEADER: usize = 1;
/// Header bytes of a FIRST fragment (kind, stream id, total length).
pub const FIRST_HEADER: usize = 1 + 2 + 4;
/// Header bytes of a MORE fragment (kind, stream id).
pub const MORE_HEADER: usize = 1 + 2;

/// Smallest record plaintext [`Fragmenter::split`] accepts: a FIRST header
/// and one byte, so every fragment makes progress.
pub const MIN_PLAIN: usize = FIRST_HEADER + 1;
/// Largest record plaintext: what a [`MAX_RECORD`] record carries.
pub const MAX_PLAIN: usize = max_plain(MAX_RECORD);

/// Plaintext bytes one record of `max_record` bytes on the wire can carry,
/// after the length prefix and the AEAD tag (0 if it cannot carry any).
pub const fn max_plain(max_record: usize) -> usize {
    max_record.saturating_sub(LEN_PREFIX + TAG_LEN)
}

/// Why framing failed. Every variant is fatal to the link; the message is the
/// logged disconnect reason.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A record (length prefix included) is larger than the link allows.
    #[error("record of {len} bytes exceeds the link maximum of {max}")]
    Oversized {
        /// Record size on the wire, length prefix included.
        len: usize,
        /// The link's `max_record`.
        max: usize,
    },
    /// A record declared an empty body; nothing legitimate sends one.
    #[error("zero-length record")]
    ZeroLength,
    /// The caller pushed more bytes without draining complete records first.
    #[error("record decoder not drained before push (caller bug)")]
    Undrained,
    /// A record plaintext starts with a fragment kind this version does not define.
    #[error("unknown fragment kind 0x{0:02x}")]
    UnknownKind(u8),
    /// A fragment header ended early.
    #[error("fragment truncated inside {what}")]
    Truncated {
        /// The header field being read.
        what: &'static str,
    },
    /// A MORE fragment names a stream that is not open.
    #[error("fragment for unknown stream {0}")]
    UnknownStream(u16),
    /// A FIRST fragment reuses the id of a stream still being reassembled.
    #[error("fragment stream {0} opened twice")]
    DuplicateStream(u16),
    /// A stream delivered more bytes than its declared total.
    #[error("fragment stream {stream} overflows its declared {total} bytes")]
    Overflow {
        /// The stream id.
        stream: u16,
        /// The total its FIRST fragment declared.
        total: usize,
    },
    /// A message is larger than the receiver accepts (or than a `u32` can declare).
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// The (declared) message length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A FIRST fragment declares a message that a WHOLE record of the same
    /// size would have carried; nothing legitimate fragments such a message.
    #[error("needless fragmentation: {total} bytes fit one record of {capacity}")]
    NeedlessFragment {
        /// The declared total.
        total: usize,
        /// What a WHOLE record of the FIRST record's size carries.
        capacity: usize,
    },
    /// A FIRST or MORE fragment carries no message bytes.
    #[error("empty fragment")]
    EmptyFragment,
    /// The peer opened more fragment streams at once than allowed.
    #[error("more than {max} fragmented messages in progress")]
    TooManyReassemblies {
        /// The allowed number of concurrent streams.
        max: usize,
    },
    /// A fragment stream received nothing for the reassembly timeout.
    #[error("fragment stream {stream} stalled for {idle_ms} ms")]
    ReassemblyTimeout {
        /// The stream id.
        stream: u16,
        /// How long it has been idle.
        idle_ms: u64,
    },
    /// The record plaintext size is too small to fragment into.
    #[error("record plaintext of {max_plain} bytes is below the minimum of {min}")]
    FrameTooSmall {
        /// The size asked for.
        max_plain: usize,
        /// [`MIN_PLAIN`].
        min: usize,
    },
    /// The record plaintext size is more than any record can carry.
    #[error("record plaintext of {max_plain} bytes is above the maximum of {max}")]
    FrameTooLarge {
        /// The size asked for.
        max_plain: usize,
        /// [`MAX_PLAIN`].
        max: usize,
    },
}

impl From<DecodeError> for FrameError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Truncated { what } => FrameError::Truncated { what },
            // Fragment headers are fixed-size fields only, so a Reader can
            // fail in no other way; keep a sensible mapping anyway.
            _ => FrameError::Truncated {
                what: "fragment header",
            },
        }
    }
}

/// Clamps a negotiated record size into the range the protocol allows.
pub(super) fn clamp_record(max_record: usize) -> usize {
    max_record.clamp(MIN_RECORD, MAX_RECORD)
}
