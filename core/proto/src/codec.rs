//! Bounded binary reading and writing shared by every wire format in the core.
//!
//! Every decoder of untrusted bytes goes through [`Reader`], which never reads
//! past the end, never allocates more than the bytes it was given, and reports
//! what was wrong as a [`DecodeError`].

use thiserror::Error;

/// What was wrong with bytes that failed to decode.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended before the field `what` was complete.
    #[error("truncated: input ended inside {what}")]
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// A declared length is larger than the format allows.
    #[error("{what} is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// The field whose length was declared.
        what: &'static str,
        /// The declared length.
        len: usize,
        /// The largest length the format allows.
        max: usize,
    },
    /// Bytes were left over after the last field.
    #[error("{0} unexpected trailing bytes")]
    Trailing(usize),
    /// A text field is not valid UTF-8.
    #[error("{0} is not valid UTF-8")]
    BadUtf8(&'static str),
    /// A field holds a value the format does not define.
    #[error("invalid {what}: {value}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// The value seen.
        value: u64,
    },
}

/// A declared count or length `len` of `what`, refused above `max` before
/// anything is read or allocated for it.
pub fn capped(len: usize, max: usize, what: &'static str) -> Result<usize, DecodeError> {
    if len > max {
        return Err(DecodeError::TooLong { what, len, max });
    }
    Ok(len)
}

/// A cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf` from its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes exactly `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { what });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Reads a little-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads bytes preceded by a u8 length, refusing lengths over `max`.
    pub fn short_bytes(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u8(what)? as usize;
        Self::check_len(len, max, what)?;
        self.bytes(len, what)
    }

    /// Reads bytes preceded by a u32 length, refusing lengths over `max`
    /// before looking at (or allocating for) the content.
    pub fn long_bytes(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)? as usize;
        Self::check_len(len, max, what)?;
        self.bytes(len, what)
    }

    /// Reads a UTF-8 string preceded by a u8 length.
    pub fn short_str(&mut self, max: usize, what: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.short_bytes(max, what)?).map_err(|_| DecodeError::BadUtf8(what))
    }

    /// Reads a UTF-8 string preceded by a u32 length.
    pub fn long_str(&mut self, max: usize, what: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.long_bytes(max, what)?).map_err(|_| DecodeError::BadUtf8(what))
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }

    fn check_len(len: usize, max: usize, what: &'static str) -> Result<(), DecodeError> {
        if len > max {
            Err(DecodeError::TooLong { what, len, max })
        } else {
            Ok(())
        }
    }
}

/// Appends fields in the layout [`Reader`] reads.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a little-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends a little-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends a little-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends bytes preceded by a u8 length. Callers keep `b` under 256 bytes.
    pub fn short_bytes(&mut self, b: &[u8]) -> &mut Self {
        debug_assert!(b.len() <= u8::MAX as usize);
        self.u8(b.len() as u8).bytes(b)
    }

    /// Appends bytes preceded by a u32 length.
    pub fn long_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32).bytes(b)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lying_length_is_refused_before_reading() {
        let mut w = Writer::new();
        w.u32(u32::MAX).bytes(b"abc");
        let bytes = w.finish();
        let err = Reader::new(&bytes).long_bytes(1024, "body").unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLong {
                what: "body",
                len: u32::MAX as usize,
                max: 1024
            }
        );
    }

    #[test]
    fn round_trip_and_trailing() {
        let mut w = Writer::new();
        w.u8(7)
            .u16(300)
            .u64(1 << 40)
            .short_bytes(b"hi")
            .long_bytes(b"there");
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u16("b").unwrap(), 300);
        assert_eq!(r.u64("c").unwrap(), 1 << 40);
        assert_eq!(r.short_str(8, "d").unwrap(), "hi");
        assert_eq!(r.long_bytes(8, "e").unwrap(), b"there");
        r.finish().unwrap();
        let mut r = Reader::new(&bytes);
        r.u8("a").unwrap();
        assert_eq!(r.finish(), Err(DecodeError::Trailing(bytes.len() - 1)));
        assert!(matches!(
            Reader::new(&[5, 1]).short_bytes(8, "x"),
            Err(DecodeError::Truncated { what: "x" })
        ));
    }
}
