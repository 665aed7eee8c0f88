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

use crate::codec::{DecodeError, Reader, Writer};
use std::collections::BTreeMap;
use thiserror::Error;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

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
fn clamp_record(max_record: usize) -> usize {
    max_record.clamp(MIN_RECORD, MAX_RECORD)
}

/// Frames `body` as one record: big-endian `u16` length, then the body.
/// Refuses an empty body and a record larger than `max_record` (or [`MAX_RECORD`]).
pub fn encode_record(body: &[u8], max_record: usize) -> Result<Vec<u8>, FrameError> {
    if body.is_empty() {
        return Err(FrameError::ZeroLength);
    }
    let max = max_record.min(MAX_RECORD);
    let len = body.len().saturating_add(LEN_PREFIX);
    if len > max {
        return Err(FrameError::Oversized { len, max });
    }
    let mut out = Vec::with_capacity(len);
    // Fits: len <= MAX_RECORD, so body.len() <= u16::MAX.
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

/// Cuts a link's byte stream into record bodies.
///
/// Contract: after each [`push`](Self::push), call
/// [`next_record`](Self::next_record) until it returns `Ok(None)`. The decoder
/// then holds at most one partial record between pushes, so its memory is
/// bounded by `max_record` plus the size of the current push; a push on an
/// undrained decoder is refused ([`FrameError::Undrained`]) rather than
/// buffered. After any other error the decoder stays failed and holds nothing.
#[derive(Debug)]
pub struct RecordDecoder {
    max_record: usize,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`; compacted on push so
    /// `next_record` does not shift the buffer once per record.
    pos: usize,
    failed: Option<FrameError>,
}

/// Above this, the buffer's capacity is given back after a large push so a
/// single burst does not pin memory for the life of the link.
const DECODER_KEEP_CAPACITY: usize = 2 * MAX_RECORD;

impl RecordDecoder {
    /// A decoder for records of at most `max_record` bytes on the wire,
    /// clamped to `MIN_RECORD..=MAX_RECORD`.
    pub fn new(max_record: usize) -> Self {
        Self {
            max_record: clamp_record(max_record),
            buf: Vec::new(),
            pos: 0,
            failed: None,
        }
    }

    /// Changes the limit (clamped like [`new`](Self::new)); it applies from
    /// the next record header read, which is how a renegotiation after the
    /// preamble takes effect between two `next_record` calls.
    pub fn set_max_record(&mut self, max_record: usize) {
        self.max_record = clamp_record(max_record);
    }

    /// The limit in force.
    pub fn max_record(&self) -> usize {
        self.max_record
    }

    /// Bytes held: at most one partial record between drained pushes.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes bytes from the link. Fails at once if they complete a record
    /// header that declares a zero or too-large length.
    pub fn push(&mut self, input: &[u8]) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.front_is_complete() {
            return Err(FrameError::Undrained);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        if self.buf.capacity() > DECODER_KEEP_CAPACITY {
            self.buf.shrink_to(MAX_RECORD);
        }
        self.buf.extend_from_slice(input);
        // Check the header now rather than when the body has arrived, so a
        // lying length costs the peer the link instead of costing us memory.
        self.front_len().map(|_| ())
    }

    /// The next complete record body, `None` if more bytes are needed.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(len) = self.front_len()? else {
            return Ok(None);
        };
        let start = self.pos + LEN_PREFIX;
        if self.buf.len() - start < len {
            return Ok(None);
        }
        let body = self.buf[start..start + len].to_vec();
        self.pos = start + len;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        Ok(Some(body))
    }

    /// The body length declared by the header at `pos`, checked against the
    /// current limit; `None` if the header is not complete. Fails the decoder
    /// on a bad header.
    fn front_len(&mut self) -> Result<Option<usize>, FrameError> {
        let Some(header) = self.buf.get(self.pos..self.pos + LEN_PREFIX) else {
            return Ok(None);
        };
        let len = u16::from_be_bytes([header[0], header[1]]) as usize;
        let err = if len == 0 {
            FrameError::ZeroLength
        } else if len + LEN_PREFIX > self.max_record {
            FrameError::Oversized {
                len: len + LEN_PREFIX,
                max: self.max_record,
            }
        } else {
            return Ok(Some(len));
        };
        self.buf = Vec::new();
        self.pos = 0;
        self.failed = Some(err.clone());
        Err(err)
    }

    /// True if a whole record is waiting (the caller did not drain).
    fn front_is_complete(&self) -> bool {
        match self.buf.get(self.pos..self.pos + LEN_PREFIX) {
            Some(h) => {
                let len = u16::from_be_bytes([h[0], h[1]]) as usize;
                self.buf.len() - self.pos >= LEN_PREFIX + len
            }
            None => false,
        }
    }
}

/// Splits session messages into record plaintexts.
#[derive(Debug, Default, Clone)]
pub struct Fragmenter {
    next_stream: u16,
}

impl Fragmenter {
    /// A fragmenter whose first stream id is 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record plaintexts, each at most `max_plain` bytes, that carry `msg`:
    /// one WHOLE if it fits, else a FIRST and MOREs under a fresh stream id
    /// (ids increase by one per fragmented message and wrap at `u16::MAX`).
    pub fn split(&mut self, msg: &[u8], max_plain: usize) -> Result<Vec<Vec<u8>>, FrameError> {
        if max_plain < MIN_PLAIN {
            return Err(FrameError::FrameTooSmall {
                max_plain,
                min: MIN_PLAIN,
            });
        }
        if max_plain > MAX_PLAIN {
            return Err(FrameError::FrameTooLarge {
                max_plain,
                max: MAX_PLAIN,
            });
        }
        if msg.len() <= max_plain - WHOLE_HEADER {
            let mut w = Writer::with_capacity(WHOLE_HEADER + msg.len());
            w.u8(KIND_WHOLE).bytes(msg);
            return Ok(vec![w.finish()]);
        }
        let Ok(total) = u32::try_from(msg.len()) else {
            return Err(FrameError::MessageTooLarge {
                len: msg.len(),
                max: u32::MAX as usize,
            });
        };
        let stream = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(1);

        let (first, mut rest) = msg.split_at(max_plain - FIRST_HEADER);
        let more_cap = max_plain - MORE_HEADER;
        let mut out = Vec::with_capacity(1 + rest.len().div_ceil(more_cap));
        let mut w = Writer::with_capacity(max_plain);
        w.u8(KIND_FIRST).u16(stream).u32(total).bytes(first);
        out.push(w.finish());
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(rest.len().min(more_cap));
            let mut w = Writer::with_capacity(MORE_HEADER + chunk.len());
            w.u8(KIND_MORE).u16(stream).bytes(chunk);
            out.push(w.finish());
            rest = tail;
        }
        Ok(out)
    }
}

/// Exact bytes on the wire to carry one message of `message_len` bytes in
/// records of at most `max_record` bytes (clamped to `MIN_RECORD..=MAX_RECORD`):
/// length prefixes, AEAD tags, fragment headers and the message itself.
pub fn wire_cost(message_len: usize, max_record: usize) -> usize {
    let plain = max_plain(clamp_record(max_record));
    let per_record = LEN_PREFIX + TAG_LEN;
    if message_len <= plain - WHOLE_HEADER {
        return per_record + WHOLE_HEADER + message_len;
    }
    let more = (message_len - (plain - FIRST_HEADER)).div_ceil(plain - MORE_HEADER);
    (more + 1)
        .saturating_mul(per_record)
        .saturating_add(FIRST_HEADER)
        .saturating_add(more.saturating_mul(MORE_HEADER))
        .saturating_add(message_len)
}

/// What a [`Reassembler`] accepts from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Fragmented messages that may be in progress at once.
    pub max_concurrent: usize,
    /// Largest message, fragmented or whole.
    pub max_message: usize,
    /// How long a fragmented message may go without a fragment.
    pub timeout_ms: u64,
}

impl Default for ReassemblyLimits {
    /// 4 streams of up to 1 MiB (4 MiB worst case per link), 30 s idle.
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            max_message: 1 << 20,
            timeout_ms: 30_000,
        }
    }
}

/// One fragmented message being put back together.
#[derive(Debug)]
struct Partial {
    total: usize,
    data: Vec<u8>,
    last_ms: u64,
}

/// Joins record plaintexts back into session messages.
///
/// Memory is bounded by the limits: at most `max_concurrent` partial messages,
/// each grown as its chunks arrive and never beyond its declared total (itself
/// at most `max_message`), so [`held_bytes`](Self::held_bytes) never exceeds
/// `max_concurrent * max_message`. Timeouts fire only through
/// [`check_timeouts`](Self::check_timeouts), which the caller runs at
/// [`next_deadline`](Self::next_deadline).
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    streams: BTreeMap<u16, Partial>,
}

impl Reassembler {
    /// An empty reassembler enforcing `limits`.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Self {
            limits,
            streams: BTreeMap::new(),
        }
    }

    /// Takes one record plaintext; returns a message when it is complete.
    /// Any error is fatal to the link (the state stays bounded and panic-free,
    /// but the stream of messages can no longer be trusted).
    pub fn push(&mut self, plain: &[u8], now_ms: u64) -> Result<Option<Vec<u8>>, FrameError> {
        let mut r = Reader::new(plain);
        match r.u8("fragment kind")? {
            KIND_WHOLE => {
                let msg = r.rest();
                self.check_size(msg.len())?;
                Ok(Some(msg.to_vec()))
            }
            KIND_FIRST => {
                let stream = r.u16("stream id")?;
                let total = r.u32("total length")?;
                let total = usize::try_from(total).unwrap_or(usize::MAX);
                let chunk = r.rest();
                self.first(stream, total, chunk, plain.len(), now_ms)?;
                Ok(None)
            }
            KIND_MORE => {
                let stream = r.u16("stream id")?;
                self.more(stream, r.rest(), now_ms)
            }
            kind => Err(FrameError::UnknownKind(kind)),
        }
    }

    fn check_size(&self, len: usize) -> Result<(), FrameError> {
        if len > self.limits.max_message {
            return Err(FrameError::MessageTooLarge {
                len,
                max: self.limits.max_message,
            });
        }
        Ok(())
    }

    fn first(
        &mut self,
        stream: u16,
        total: usize,
        chunk: &[u8],
        record_plain: usize,
        now_ms: u64,
    ) -> Result<(), FrameError> {
        if self.streams.contains_key(&stream) {
            return Err(FrameError::DuplicateStream(stream));
        }
        self.check_size(total)?;
        // A sender fragments only what a WHOLE record cannot carry, and a
        // FIRST record is no larger than the sender's records, so a total that
        // fits a WHOLE of this record's size is a peer wasting our state. This
        // also guarantees total > chunk: a FIRST never completes or overflows.
        let capacity = record_plain - WHOLE_HEADER;
        if total <= capacity {
            return Err(FrameError::NeedlessFragment { total, capacity });
        }
        if chunk.is_empty() {
            return Err(FrameError::EmptyFragment);
        }
        if self.streams.len() >= self.limits.max_concurrent {
            return Err(FrameError::TooManyReassemblies {
                max: self.limits.max_concurrent,
            });
        }
        // Sized from the bytes received, not from the untrusted total.
        let data = chunk.to_vec();
        self.streams.insert(
            stream,
            Partial {
                total,
                data,
                last_ms: now_ms,
            },
        );
        Ok(())
    }

    fn more(
        &mut self,
        stream: u16,
        chunk: &[u8],
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(p) = self.streams.get_mut(&stream) else {
            return Err(FrameError::UnknownStream(stream));
        };
        if chunk.is_empty() {
            // Each fragment must make progress, so a stream's record count
            // is bounded by its total.
            return Err(FrameError::EmptyFragment);
        }
        let len = p.data.len() + chunk.len();
        if len > p.total {
            return Err(FrameError::Overflow {
                stream,
                total: p.total,
            });
        }
        if len > p.data.capacity() {
            // Amortised doubling, but never past the declared total, so the
            // capacity (what held_bytes reports) stays within the limits.
            let want = len.max(p.data.capacity().saturating_mul(2)).min(p.total);
            p.data.reserve_exact(want - p.data.len());
        }
        p.data.extend_from_slice(chunk);
        p.last_ms = now_ms;
        if p.data.len() < p.total {
            return Ok(None);
        }
        Ok(self.streams.remove(&stream).map(|p| p.data))
    }

    /// Fails if a fragmented message has had no fragment for `timeout_ms` or
    /// more at `now_ms` (a stalled peer); that stream is dropped.
    pub fn check_timeouts(&mut self, now_ms: u64) -> Result<(), FrameError> {
        let stalled = self
            .streams
            .iter()
            .map(|(&id, p)| (p.last_ms.saturating_add(self.limits.timeout_ms), id))
            .min()
            .filter(|&(deadline, _)| now_ms >= deadline);
        match stalled {
            Some((_, stream)) => {
                let idle_ms = self
                    .streams
                    .remove(&stream)
                    .map_or(0, |p| now_ms.saturating_sub(p.last_ms));
                Err(FrameError::ReassemblyTimeout { stream, idle_ms })
            }
            None => Ok(()),
        }
    }

    /// When [`check_timeouts`](Self::check_timeouts) should next run, if any
    /// message is in progress.
    pub fn next_deadline(&self) -> Option<u64> {
        self.streams
            .values()
            .map(|p| p.last_ms.saturating_add(self.limits.timeout_ms))
            .min()
    }

    /// Bytes reserved for messages in progress.
    pub fn held_bytes(&self) -> usize {
        self.streams.values().map(|p| p.data.capacity()).sum()
    }

    /// Fragmented messages in progress.
    pub fn in_progress(&self) -> usize {
        self.streams.len()
    }
}
