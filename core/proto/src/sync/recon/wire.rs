//! Strict parsing of negentropy v1 messages, before negentropy sees them.

use super::{PROTOCOL_VERSION, ReconError};
use crate::codec::{DecodeError, Reader};

pub(super) const FINGERPRINT_SIZE: usize = 16;
pub(super) const ID_SIZE: usize = 32;

/// Checks that `msg` is a complete negentropy v1 message, strictly: the crate
/// reads a varint that runs off the end as if it were complete, and silently
/// drops the high bits of an overlong one.
pub(super) fn validate(msg: &[u8]) -> Result<(), ReconError> {
    let mut r = Reader::new(msg);
    let version = r
        .u8("version")
        .map_err(|_| DecodeError::Truncated { what: "version" })?;
    if version != PROTOCOL_VERSION {
        return Err(ReconError::UnsupportedVersion(version));
    }
    while r.remaining() > 0 {
        varint(&mut r, "bound timestamp")?;
        let id_len = varint(&mut r, "bound id length")?;
        if id_len > ID_SIZE as u64 {
            return Err(DecodeError::TooLong {
                what: "bound id prefix",
                len: usize::try_from(id_len).unwrap_or(usize::MAX),
                max: ID_SIZE,
            }
            .into());
        }
        r.bytes(id_len as usize, "bound id prefix")?;
        match varint(&mut r, "range mode")? {
            0 => {}
            1 => {
                r.bytes(FINGERPRINT_SIZE, "fingerprint")?;
            }
            2 => {
                let count = varint(&mut r, "id count")?;
                let room = (r.remaining() / ID_SIZE) as u64;
                if count > room {
                    return Err(DecodeError::Truncated { what: "id list" }.into());
                }
                r.bytes(count as usize * ID_SIZE, "id list")?;
            }
            mode => {
                return Err(DecodeError::Invalid {
                    what: "range mode",
                    value: mode,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Negentropy's varint: big-endian groups of 7 bits, high bit = more follow.
fn varint(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    let mut value: u64 = 0;
    for _ in 0..10 {
        let byte = r.u8(what)?;
        if value >> 57 != 0 {
            return Err(DecodeError::Invalid { what, value });
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::TooLong {
        what,
        len: 11,
        max: 10,
    })
}
