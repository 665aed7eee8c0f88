//! Joining record plaintexts back into session messages, within limits a
//! peer cannot push past.

use super::{FrameError, KIND_FIRST, KIND_MORE, KIND_WHOLE, WHOLE_HEADER};
use crate::codec::Reader;
use std::collections::BTreeMap;

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
