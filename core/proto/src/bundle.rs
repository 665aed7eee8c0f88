//! Sneakernet bundle files: envelopes and delivery proofs on a USB stick.
//!
//! Layout (v1), little-endian:
//! ```text
//! magic "POLLENB" | version u8 = 1
//! record*:  kind u8 = 1 (envelope) | id [32] | len u32 (<= 65536) | envelope bytes
//!           kind u8 = 2 (proof)    | secret [32]
//! end:      kind u8 = 0 | record count u32 | BLAKE3 of every preceding byte [32]
//! ```
//! Bundles are not compressed: envelopes are ciphertext and do not shrink, and
//! a format with no decompression step cannot be a decompression bomb. Reading
//! is streaming with a fixed cap per record, so memory stays bounded whatever
//! the file claims; records before a truncation or corruption are still usable
//! because each envelope is checked against its own content address.

use crate::envelope::{DeliveryProof, EnvelopeId, MAX_ENVELOPE_BYTES};
use std::io::{self, Read, Write};
use thiserror::Error;

/// First bytes of every bundle.
pub const MAGIC: &[u8; 7] = b"POLLENB";
/// The bundle format version this build writes and reads.
pub const VERSION: u8 = 1;

const KIND_END: u8 = 0;
const KIND_ENVELOPE: u8 = 1;
const KIND_PROOF: u8 = 2;

/// Why a bundle could not be read (further).
#[derive(Debug, Error)]
pub enum BundleError {
    /// Reading the file failed.
    #[error("cannot read bundle: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with the bundle magic.
    #[error("not a Pollen bundle (bad magic bytes)")]
    NotABundle,
    /// A bundle version this build does not read.
    #[error("bundle version {0} is not supported (this build reads {VERSION})")]
    UnsupportedVersion(u8),
    /// The file ended before its end marker.
    #[error("bundle is truncated (no end marker after {0} records)")]
    Truncated(u64),
    /// A record kind this build does not know.
    #[error("unknown record kind {0} after {1} records")]
    UnknownRecord(u8, u64),
    /// A record declares more bytes than an envelope may have.
    #[error("record declares {0} bytes, more than the {MAX_ENVELOPE_BYTES}-byte envelope limit")]
    RecordTooLarge(u64),
    /// The end marker's count or checksum does not match the records read.
    #[error("bundle checksum or record count does not match its contents")]
    BadChecksum,
    /// Bytes follow the end marker.
    #[error("unexpected bytes after the end of the bundle")]
    TrailingBytes,
}

/// One item of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// An envelope and the id its writer computed for it.
    Envelope {
        /// Claimed content address; the reader checks it.
        id: EnvelopeId,
        /// The encoded envelope.
        bytes: Vec<u8>,
    },
    /// A delivery proof secret.
    Proof(DeliveryProof),
}

/// Writes a bundle to any sink.
pub struct BundleWriter<W: Write> {
    out: W,
    hasher: blake3::Hasher,
    count: u32,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle (writes the magic and version).
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = Self {
            out,
            hasher: blake3::Hasher::new(),
            count: 0,
        };
        w.put(MAGIC)?;
        w.put(&[VERSION])?;
        Ok(w)
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.hasher.update(b);
        self.out.write_all(b)
    }

    /// Appends one record.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Envelope { id, bytes } => {
                self.put(&[KIND_ENVELOPE])?;
                self.put(id.as_bytes())?;
                self.put(&(bytes.len() as u32).to_le_bytes())?;
                self.put(bytes)?;
            }
            Record::Proof(secret) => {
                self.put(&[KIND_PROOF])?;
                self.put(secret.as_bytes())?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the end marker and returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[KIND_END])?;
        let count = self.count.to_le_bytes();
        self.put(&count)?;
        let sum = *self.hasher.finalize().as_bytes();
        self.out.write_all(&sum)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a bundle record by record; memory use is one record at most.
pub struct BundleReader<R: Read> {
    input: R,
    hasher: blake3::Hasher,
    count: u64,
    done: bool,
}

impl<R: Read> BundleReader<R> {
    /// Checks the magic and version.
    pub fn new(mut input: R) -> Result<Self, BundleError> {
        let mut head = [0u8; 8];
        read_exact_or(&mut input, &mut head, BundleError::NotABundle)?;
        if &head[..7] != MAGIC {
            return Err(BundleError::NotABundle);
        }
        if head[7] != VERSION {
            return Err(BundleError::UnsupportedVersion(head[7]));
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&head);
        Ok(Self {
            input,
            hasher,
            count: 0,
            done: false,
        })
    }

    /// Records read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<(), BundleError> {
        read_exact_or(&mut self.input, buf, BundleError::Truncated(self.count))?;
        self.hasher.update(buf);
        Ok(())
    }

    /// The next record, `Ok(None)` after a valid end marker.
    pub fn next_record(&mut self) -> Result<Option<Record>, BundleError> {
        if self.done {
            return Ok(None);
        }
        let mut kind = [0u8; 1];
        self.take(&mut kind)?;
        match kind[0] {
            KIND_ENVELOPE => {
                let mut id = [0u8; 32];
                self.take(&mut id)?;
                let mut len = [0u8; 4];
                self.take(&mut len)?;
                let len = u32::from_le_bytes(len) as u64;
                if len > MAX_ENVELOPE_BYTES as u64 {
                    return Err(BundleError::RecordTooLarge(len));
                }
                let mut bytes = vec![0u8; len as usize];
                self.take(&mut bytes)?;
                self.count += 1;
                Ok(Some(Record::Envelope {
                    id: EnvelopeId(id),
                    bytes,
                }))
            }
            KIND_PROOF => {
                let mut secret = [0u8; 32];
                self.take(&mut secret)?;
                self.count += 1;
                Ok(Some(Record::Proof(DeliveryProof(secret))))
            }
            KIND_END => {
                let mut count = [0u8; 4];
                self.take(&mut count)?;
                let expected = *self.hasher.finalize().as_bytes();
                let mut sum = [0u8; 32];
                read_exact_or(
                    &mut self.input,
                    &mut sum,
                    BundleError::Truncated(self.count),
                )?;
                if sum != expected || u32::from_le_bytes(count) as u64 != self.count {
                    return Err(BundleError::BadChecksum);
                }
                let mut extra = [0u8; 1];
                if self.input.read(&mut extra)? != 0 {
                    return Err(BundleError::TrailingBytes);
                }
                self.done = true;
                Ok(None)
            }
            other => Err(BundleError::UnknownRecord(other, self.count)),
        }
    }
}

fn read_exact_or<R: Read>(r: &mut R, buf: &mut [u8], eof: BundleError) -> Result<(), BundleError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(eof),
        Err(e) => Err(BundleError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Vec<u8> {
        let mut w = BundleWriter::new(Vec::new()).unwrap();
        w.write(&Record::Envelope {
            id: EnvelopeId([1; 32]),
            bytes: vec![9; 300],
        })
        .unwrap();
        w.write(&Record::Proof(DeliveryProof([2; 32]))).unwrap();
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> (Vec<Record>, Option<BundleError>) {
        let mut out = Vec::new();
        let mut r = match BundleReader::new(bytes) {
            Ok(r) => r,
            Err(e) => return (out, Some(e)),
        };
        loop {
            match r.next_record() {
                Ok(Some(rec)) => out.push(rec),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn round_trip() {
        let (records, err) = read_all(&sample());
        assert!(err.is_none());
        assert_eq!(records.len(), 2);
        assert_eq!(records[1], Record::Proof(DeliveryProof([2; 32])));
    }

    #[test]
    fn truncation_keeps_earlier_records() {
        let bytes = sample();
        let (records, err) = read_all(&bytes[..bytes.len() - 20]);
        assert_eq!(records.len(), 2);
        assert!(matches!(err, Some(BundleError::Truncated(2))));
    }

    #[test]
    fn lying_length_is_refused_without_allocating() {
        let mut bytes = MAGIC.to_vec();
        bytes.push(VERSION);
        bytes.push(KIND_ENVELOPE);
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let (_, err) = read_all(&bytes);
        assert!(matches!(err, Some(BundleError::RecordTooLarge(_))));
    }

    #[test]
    fn garbage_and_versions() {
        assert!(matches!(
            read_all(b"\x1f\x8b\x08\x00garbage").1,
            Some(BundleError::NotABundle)
        ));
        assert!(matches!(
            read_all(b"POLLENB\x09").1,
            Some(BundleError::UnsupportedVersion(9))
        ));
        let mut bad = sample();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(matches!(read_all(&bad).1, Some(BundleError::BadChecksum)));
        let mut extra = sample();
        extra.push(0);
        assert!(matches!(
            read_all(&extra).1,
            Some(BundleError::TrailingBytes)
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut bytes = MAGIC.to_vec();
            bytes.push(VERSION);
            bytes.extend_from_slice(&tail);
            let _ = read_all(&bytes);
        }
    }
}
