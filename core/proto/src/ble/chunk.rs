//! Link framing over GATT values: the session's byte stream cut into writes
//! (central → peripheral) and notifications (peripheral → central) of at
//! most `MTU − 3` bytes, each behind a one-byte header (see
//! `docs/PROTOCOL.md`, "BLE link framing").
//!
//! ```text
//! value = 0x80 || version (u8) || advertised id (8)     HELLO, first value each way
//!       | seq (0x00..=0x7f) || 1..=511 stream bytes     DATA, seq counts mod 128
//! ```
//!
//! The sequence number exists because a platform that drops a write or a
//! notification under congestion would otherwise hand the session a stream
//! with a hole, which fails later as an unexplained decryption error; here it
//! fails at once with the reason.

use super::advert::{AdvertId, ID_LEN};
use super::profile::{BLE_VERSION, MAX_VALUE, VALUE_HEADER};
use thiserror::Error;

/// Bytes of header in front of every value.
pub const HEADER_LEN: usize = VALUE_HEADER;
/// Header byte of a HELLO value.
pub const HELLO: u8 = 0x80;
/// Bytes of a HELLO value.
pub const HELLO_LEN: usize = 2 + ID_LEN;
/// DATA sequence numbers count modulo this.
pub const SEQ_MOD: u8 = 0x80;

/// Why a received value broke the link. Every variant is fatal to it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// An empty value (nothing legitimate writes one).
    #[error("empty value")]
    Empty,
    /// A value longer than ATT allows.
    #[error("value of {0} bytes exceeds {MAX_VALUE}")]
    Oversized(usize),
    /// A header byte this version does not define.
    #[error("unknown value header 0x{0:02x}")]
    UnknownHeader(u8),
    /// DATA arrived before the peer's HELLO.
    #[error("data before hello")]
    DataBeforeHello,
    /// A second HELLO on one link.
    #[error("hello sent twice")]
    DuplicateHello,
    /// A HELLO of the wrong length.
    #[error("hello of {0} bytes, expected {HELLO_LEN}")]
    BadHello(usize),
    /// The peer speaks another link version.
    #[error("unsupported BLE link version {0}")]
    Version(u8),
    /// A DATA value with no stream bytes.
    #[error("data value without payload")]
    EmptyData,
    /// A value was lost, repeated or reordered on the way.
    #[error("value out of sequence: expected {expected}, got {got}")]
    OutOfSequence {
        /// The sequence number due.
        expected: u8,
        /// The one received.
        got: u8,
    },
}

/// One decoded value.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The peer's advertised identifier at link time.
    Hello(AdvertId),
    /// The next bytes of the peer's session stream.
    Data(&'a [u8]),
}

/// The HELLO value announcing `id`.
pub fn hello(id: AdvertId) -> Vec<u8> {
    let mut v = Vec::with_capacity(HELLO_LEN);
    v.push(HELLO);
    v.push(BLE_VERSION);
    v.extend_from_slice(&id.0);
    v
}

/// Cuts outgoing stream bytes into DATA values.
#[derive(Debug, Default)]
pub struct ChunkWriter {
    seq: u8,
}

impl ChunkWriter {
    /// A writer whose first DATA value has sequence number 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The DATA value carrying `payload` (1..=511 bytes; the caller sizes it
    /// from the MTU).
    pub fn data(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
        v.push(self.seq);
        v.extend_from_slice(payload);
        self.seq = (self.seq + 1) % SEQ_MOD;
        v
    }
}

/// Checks incoming values: HELLO first, then DATA in sequence.
#[derive(Debug, Default)]
pub struct ChunkReader {
    hello: bool,
    seq: u8,
}

impl ChunkReader {
    /// A reader expecting the peer's HELLO.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one received value.
    pub fn push<'a>(&mut self, value: &'a [u8]) -> Result<Chunk<'a>, ChunkError> {
        let Some((&header, body)) = value.split_first() else {
            return Err(ChunkError::Empty);
        };
        if value.len() > MAX_VALUE {
            return Err(ChunkError::Oversized(value.len()));
        }
        match header {
            HELLO => {
                if self.hello {
                    return Err(ChunkError::DuplicateHello);
                }
                if value.len() != HELLO_LEN {
                    return Err(ChunkError::BadHello(value.len()));
                }
                if body[0] != BLE_VERSION {
                    return Err(ChunkError::Version(body[0]));
                }
                let mut id = [0u8; ID_LEN];
                id.copy_from_slice(&body[1..]);
                self.hello = true;
                Ok(Chunk::Hello(AdvertId(id)))
            }
            seq if seq < SEQ_MOD => {
                if !self.hello {
                    return Err(ChunkError::DataBeforeHello);
                }
                if seq != self.seq {
                    return Err(ChunkError::OutOfSequence {
                        expected: self.seq,
                        got: seq,
                    });
                }
                if body.is_empty() {
                    return Err(ChunkError::EmptyData);
                }
                self.seq = (self.seq + 1) % SEQ_MOD;
                Ok(Chunk::Data(body))
            }
            other => Err(ChunkError::UnknownHeader(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ble::profile::payload_len;
    use proptest::prelude::*;

    const ID: AdvertId = AdvertId([9, 8, 7, 6, 5, 4, 3, 2]);

    fn split(stream: &[u8], mtu: u16) -> Vec<Vec<u8>> {
        let mut w = ChunkWriter::new();
        let mut out = vec![hello(ID)];
        out.extend(stream.chunks(payload_len(mtu)).map(|c| w.data(c)));
        out
    }

    proptest! {
        #[test]
        fn round_trip(stream in proptest::collection::vec(any::<u8>(), 0..20_000),
                      mtu in 23u16..=600) {
            let values = split(&stream, mtu);
            let mut r = ChunkReader::new();
            let mut got = Vec::new();
            for v in &values {
                prop_assert!(v.len() <= crate::ble::profile::value_len(mtu));
                match r.push(v).unwrap() {
                    Chunk::Hello(id) => prop_assert_eq!(id, ID),
                    Chunk::Data(d) => got.extend_from_slice(d),
                }
            }
            prop_assert_eq!(got, stream);
        }

        #[test]
        fn a_lost_or_repeated_value_is_caught(stream in proptest::collection::vec(any::<u8>(), 40..4000),
                                              pick in any::<prop::sample::Index>(),
                                              repeat in any::<bool>()) {
            let mut values = split(&stream, 23);
            let i = 1 + pick.index(values.len() - 1);
            if repeat {
                let v = values[i].clone();
                values.insert(i, v);
            } else {
                values.remove(i);
            }
            let mut r = ChunkReader::new();
            let failed = values.iter().any(|v| r.push(v).is_err());
            // Dropping the very last value leaves a valid (shorter) prefix.
            prop_assert!(failed || (!repeat && i == values.len()));
        }

        /// C3: the 7-bit DATA counter wraps many times without overflow; a
        /// replayed value is refused unless its number happens to be due,
        /// and then the Noise record counter above it refuses the bytes.
        #[test]
        fn c3_sequence_numbers_wrap_without_overflow(n in 1usize..2_000, replay in any::<prop::sample::Index>()) {
            let mut w = ChunkWriter::new();
            let mut r = ChunkReader::new();
            prop_assert!(r.push(&hello(ID)).is_ok());
            let values: Vec<Vec<u8>> = (0..n).map(|i| w.data(&(i as u32).to_be_bytes())).collect();
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(v[0] as usize, i % SEQ_MOD as usize);
                prop_assert_eq!(r.push(v), Ok(Chunk::Data(&(i as u32).to_be_bytes()[..])));
            }
            // Any earlier value replayed now is out of sequence unless its
            // number is due (a multiple of 128 back), and then Noise refuses it.
            let k = replay.index(n);
            let due = n % SEQ_MOD as usize;
            let got = r.push(&values[k]);
            if k % SEQ_MOD as usize == due {
                prop_assert!(got.is_ok());
            } else {
                prop_assert_eq!(got, Err(ChunkError::OutOfSequence { expected: due as u8, got: values[k][0] }), "replayed {}", k);
            }
        }

        #[test]
        fn arbitrary_values_never_panic(values in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..600), 0..20)) {
            let mut r = ChunkReader::new();
            for v in &values {
                if let Ok(Chunk::Data(d)) = r.push(v) {
                    prop_assert!(!d.is_empty() && d.len() < MAX_VALUE);
                }
            }
        }
    }

    #[test]
    fn vectors() {
        // docs/PROTOCOL.md, "BLE link framing test vectors".
        assert_eq!(hex::encode(hello(ID)), "80010908070605040302");
        let mut w = ChunkWriter::new();
        assert_eq!(hex::encode(w.data(b"POLN")), "00504f4c4e");
        assert_eq!(hex::encode(w.data(&[0xff])), "01ff");
    }

    #[test]
    fn errors() {
        let mut r = ChunkReader::new();
        assert_eq!(r.push(&[]), Err(ChunkError::Empty));
        assert_eq!(r.push(&[0, 1]), Err(ChunkError::DataBeforeHello));
        assert_eq!(r.push(&[0x80, 1, 2]), Err(ChunkError::BadHello(3)));
        assert_eq!(
            r.push(&[0x80, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(ChunkError::Version(2))
        );
        assert_eq!(r.push(&hello(ID)), Ok(Chunk::Hello(ID)));
        assert_eq!(r.push(&hello(ID)), Err(ChunkError::DuplicateHello));
        assert_eq!(r.push(&[0x81, 0]), Err(ChunkError::UnknownHeader(0x81)));
        assert_eq!(r.push(&[0]), Err(ChunkError::EmptyData));
        assert_eq!(r.push(&vec![0; 513]), Err(ChunkError::Oversized(513)));
        assert_eq!(
            r.push(&[1, 0]),
            Err(ChunkError::OutOfSequence {
                expected: 0,
                got: 1
            })
        );
        for i in 0..300u32 {
            assert_eq!(r.push(&[(i % 128) as u8, 7]), Ok(Chunk::Data(&[7])));
        }
    }
}
