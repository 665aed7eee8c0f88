//! Bounds on untrusted Automerge change bytes, checked before Automerge
//! parses them (checklist D1, D2).
//!
//! Automerge inflates a compressed change chunk without an output cap, and
//! its run-length encoded columns accept counts up to `i64::MAX`, so a small
//! sealed change could make the receiver inflate gigabytes or iterate for
//! ever. This module walks the chunk itself: the header, a bounded
//! inflation of a compressed chunk, the change header (dependency and actor
//! counts) and every operation column, summing the values each column
//! declares. Anything over the caps is refused before Automerge sees it.

use super::{ConversationError, MAX_CHANGE_BYTES, MAX_DEPS};
use std::io::Read;

/// Most bytes a compressed change may inflate to.
pub const MAX_INFLATED_BYTES: usize = 4 * MAX_CHANGE_BYTES;
/// Most operations (values per column) one change may declare. A Pollen
/// change writes at most five keys.
pub const MAX_OPS: u64 = 256;
/// Most other actors a change may name.
pub const MAX_OTHER_ACTORS: u64 = 256;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

fn bad(what: &str) -> ConversationError {
    ConversationError::Automerge(format!("change refused before parsing: {what}"))
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], ConversationError> {
        let n = usize::try_from(n).map_err(|_| bad("length"))?;
        if n > self.b.len() {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, ConversationError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let byte = *self.take(1)?.first().ok_or_else(|| bad("truncated"))?;
            let part = u64::from(byte & 0x7f);
            if i == 9 && part > 1 {
                return Err(bad("integer overflow"));
            }
            v |= part << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("integer overflow"))
    }

    fn sleb(&mut self) -> Result<i64, ConversationError> {
        let mut v: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = *self.take(1)?.first().ok_or_else(|| bad("truncated"))?;
            if shift >= 63 && byte & 0x7f > 1 && byte & 0x7f != 0x7f {
                return Err(bad("integer overflow"));
            }
            v |= i64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Ok(v);
            }
            if shift > 63 {
                return Err(bad("integer overflow"));
            }
        }
    }
}

/// Checks `bytes` (a change chunk, compressed or not) against the caps.
pub fn check_bounds(bytes: &[u8]) -> Result<(), ConversationError> {
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(ConversationError::TooLarge(bytes.len()));
    }
    let mut r = Reader { b: bytes };
    if r.take(4)? != MAGIC {
        return Err(bad("not a change"));
    }
    r.take(4)?; // checksum: Automerge checks it
    let kind = r.take(1)?[0];
    let len = r.uleb()?;
    let body = r.take(len)?;
    match kind {
        CHUNK_CHANGE => check_body(body),
        CHUNK_COMPRESSED => check_body(&inflate(body)?),
        _ => Err(bad("not a change chunk")),
    }
}

/// Checks that a saved document holds only the chunks a save writes (a
/// document chunk, then changes queued for their dependencies), so a
/// corrupt database row never reaches Automerge's bundle parser, which
/// panics on some malformed input (found by the `conversation_change`
/// fuzz target).
pub fn check_saved_chunks(bytes: &[u8]) -> Result<(), ConversationError> {
    let mut r = Reader { b: bytes };
    while !r.b.is_empty() {
        if r.take(4)? != MAGIC {
            return Err(corrupt("not a saved conversation"));
        }
        r.take(4)?;
        let kind = r.take(1)?[0];
        let len = r.uleb()?;
        r.take(len)?;
        if !matches!(kind, CHUNK_DOCUMENT | CHUNK_CHANGE | CHUNK_COMPRESSED) {
            return Err(corrupt("a chunk a save never writes"));
        }
    }
    Ok(())
}

fn corrupt(what: &str) -> ConversationError {
    ConversationError::Automerge(format!("saved conversation refused: {what}"))
}

/// Inflates at most [`MAX_INFLATED_BYTES`].
fn inflate(body: &[u8]) -> Result<Vec<u8>, ConversationError> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(body)
        .take(MAX_INFLATED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| bad("bad compression"))?;
    if out.len() > MAX_INFLATED_BYTES {
        return Err(bad("inflates past the cap"));
    }
    Ok(out)
}

fn check_body(body: &[u8]) -> Result<(), ConversationError> {
    let mut r = Reader { b: body };
    let deps = r.uleb()?;
    if deps > MAX_DEPS as u64 {
        return Err(ConversationError::TooManyDeps(deps as usize));
    }
    r.take(deps.saturating_mul(32))?;
    let actor = r.uleb()?;
    r.take(actor)?;
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    let message = r.uleb()?;
    r.take(message)?;
    let others = r.uleb()?;
    if others > MAX_OTHER_ACTORS {
        return Err(bad("too many actors"));
    }
    for _ in 0..others {
        let n = r.uleb()?;
        r.take(n)?;
    }
    let columns = r.uleb()?;
    if columns > 64 {
        return Err(bad("too many columns"));
    }
    let mut specs = Vec::new();
    for _ in 0..columns {
        let spec = r.uleb()?;
        let len = r.uleb()?;
        specs.push((spec, len));
    }
    for (spec, len) in specs {
        let data = r.take(len)?;
        if spec & 0x08 != 0 {
            return Err(bad("compressed column"));
        }
        let values = column_values(spec & 0x07, data)?;
        if values > MAX_OPS {
            return Err(bad("a column declares too many operations"));
        }
    }
    Ok(())
}

/// How many values a column declares, stopping as soon as it passes the cap.
fn column_values(kind: u64, data: &[u8]) -> Result<u64, ConversationError> {
    let mut r = Reader { b: data };
    let mut total: u64 = 0;
    let add = |total: &mut u64, n: u64| -> Result<(), ConversationError> {
        *total = total.saturating_add(n);
        if *total > MAX_OPS {
            Err(bad("a column declares too many operations"))
        } else {
            Ok(())
        }
    };
    match kind {
        // Raw values: their lengths are in the metadata column.
        7 => Ok(0),
        // Booleans: alternating run lengths.
        4 => {
            while !r.b.is_empty() {
                let n = r.uleb()?;
                add(&mut total, n)?;
            }
            Ok(total)
        }
        // Run-length encoded: integers (0, 1, 2, 6), deltas (3), strings (5).
        _ => {
            while !r.b.is_empty() {
                let count = r.sleb()?;
                if count > 0 {
                    add(&mut total, count as u64)?;
                    value(&mut r, kind)?;
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    add(&mut total, n)?;
                    for _ in 0..n {
                        value(&mut r, kind)?;
                    }
                } else {
                    let n = r.uleb()?;
                    add(&mut total, n)?;
                }
            }
            Ok(total)
        }
    }
}

fn value(r: &mut Reader<'_>, kind: u64) -> Result<(), ConversationError> {
    match kind {
        3 => r.sleb().map(|_| ()),
        5 => {
            let n = r.uleb()?;
            r.take(n).map(|_| ())
        }
        _ => r.uleb().map(|_| ()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn uleb(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    pub(crate) fn sleb(mut v: i64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A change chunk by `writer` whose every operation column declares
    /// `ops` operations in a handful of bytes (run-length counts), each a
    /// put of null on the writer's read marker.
    pub(crate) fn rle_bomb(writer: &[u8; 32], ops: i64) -> Vec<u8> {
        let key = format!("read:{}", hex::encode(writer));
        let null_run = |out: &mut Vec<u8>| {
            out.push(0);
            uleb(ops as u64, out);
        };
        let repeat = |v: u64, out: &mut Vec<u8>| {
            sleb(ops, out);
            uleb(v, out);
        };
        let mut cols: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut c = Vec::new();
        null_run(&mut c);
        cols.push((0x01, c.clone())); // object actor
        cols.push((0x02, c.clone())); // object counter
        cols.push((0x11, c.clone())); // key actor
        cols.push((0x13, c)); // key counter
        let mut s = Vec::new();
        sleb(ops, &mut s);
        uleb(key.len() as u64, &mut s);
        s.extend(key.as_bytes());
        cols.push((0x15, s)); // key string
        let mut b = Vec::new();
        uleb(ops as u64, &mut b);
        cols.push((0x34, b)); // insert: all false
        let mut a = Vec::new();
        repeat(1, &mut a);
        cols.push((0x42, a)); // action: put
        let mut m = Vec::new();
        repeat(0, &mut m);
        cols.push((0x56, m)); // value metadata: null
        let mut g = Vec::new();
        repeat(0, &mut g);
        cols.push((0x70, g)); // no predecessors
        let mut body = Vec::new();
        uleb(0, &mut body); // deps
        uleb(40, &mut body);
        body.extend(writer);
        body.extend([7u8; 8]);
        uleb(1, &mut body); // seq
        uleb(1, &mut body); // start op
        sleb(0, &mut body); // time
        uleb(0, &mut body); // message
        uleb(0, &mut body); // other actors
        uleb(cols.len() as u64, &mut body);
        for (spec, data) in &cols {
            uleb(*spec, &mut body);
            uleb(data.len() as u64, &mut body);
        }
        for (_, data) in &cols {
            body.extend(data);
        }
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(CHUNK_CHANGE);
        uleb(body.len() as u64, &mut chunk);
        chunk.extend(body);
        chunk
    }

    /// A compressed change chunk whose body inflates to `n` zero bytes.
    pub(crate) fn deflate_bomb(n: usize) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        let mut left = n;
        while left > 0 {
            let k = left.min(zeros.len());
            enc.write_all(&zeros[..k]).unwrap();
            left -= k;
        }
        let body = enc.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(CHUNK_COMPRESSED);
        uleb(body.len() as u64, &mut chunk);
        chunk.extend(body);
        chunk
    }

    #[test]
    fn honest_changes_pass_and_integers_round_trip() {
        let mut v = Vec::new();
        sleb(-300, &mut v);
        sleb(i64::MAX, &mut v);
        uleb(u64::MAX, &mut v);
        let mut r = Reader { b: &v };
        assert_eq!(r.sleb().unwrap(), -300);
        assert_eq!(r.sleb().unwrap(), i64::MAX);
        assert_eq!(r.uleb().unwrap(), u64::MAX);
        assert!(check_bounds(&rle_bomb(&[1; 32], 3)).is_ok());
    }
}
