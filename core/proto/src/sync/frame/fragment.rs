//! Splitting session messages into record plaintexts (WHOLE, or FIRST then
//! MOREs), and what that costs on the wire.

use super::{
    FIRST_HEADER, FrameError, KIND_FIRST, KIND_MORE, KIND_WHOLE, LEN_PREFIX, MAX_PLAIN, MIN_PLAIN,
    MORE_HEADER, TAG_LEN, WHOLE_HEADER, clamp_record, max_plain,
};
use crate::codec::Writer;

/// Splits session messages into record plaintexts.
#[derive(Debug, Default, Clone)]
pub struct Fragmenter {
    // Visible to the frame tests, which check how stream ids advance and wrap.
    pub(super) next_stream: u16,
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
