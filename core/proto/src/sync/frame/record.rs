//! Records on the wire: a body behind its big-endian `u16` length, written
//! whole and cut back out of a link's byte stream.

use super::{FrameError, LEN_PREFIX, MAX_RECORD, clamp_record};

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
