//! The Pollen GATT profile: the service and characteristic UUIDs, and how a
//! link's write size and record size follow the negotiated ATT MTU (see
//! `docs/PROTOCOL.md`, "Bluetooth LE").

use crate::sync::frame::MIN_RECORD;

/// Version of the BLE link layer (profile, advertisement and link framing).
pub const BLE_VERSION: u8 = 1;

/// The Pollen GATT service, advertised by every node.
pub const SERVICE_UUID: u128 = 0x7a3f_0001_9c4e_4b8e_8f1d_5c0a_6b2e_9d41;
/// Written by the central (write without response): bytes towards the peripheral.
pub const WRITE_UUID: u128 = 0x7a3f_0002_9c4e_4b8e_8f1d_5c0a_6b2e_9d41;
/// Notified by the peripheral: bytes towards the central.
pub const NOTIFY_UUID: u128 = 0x7a3f_0003_9c4e_4b8e_8f1d_5c0a_6b2e_9d41;

/// Smallest ATT MTU (Bluetooth Core, every link starts with it).
pub const MIN_ATT_MTU: u16 = 23;
/// Largest ATT MTU a Pollen node asks for (Android's maximum).
pub const MAX_ATT_MTU: u16 = 517;
/// Bytes of ATT header in a write command or notification.
pub const ATT_HEADER: usize = 3;
/// Bytes of link-framing header in front of every value (one byte: HELLO or
/// a DATA sequence number).
pub const VALUE_HEADER: usize = 1;
/// Longest attribute value the ATT protocol allows.
pub const MAX_VALUE: usize = 512;

/// Writes a record spans: the receiver decrypts a record after this many
/// values, and the per-record cost (18 bytes of length and tag, 3 of fragment
/// header) stays near 3% of it.
pub const RECORD_VALUES: usize = 4;
/// Largest record a BLE link negotiates, so a lost link wastes little.
pub const MAX_BLE_RECORD: usize = 2048;

/// The UUID in its usual text form (lowercase, hyphenated), as the platform
/// Bluetooth APIs take it.
pub fn uuid_string(uuid: u128) -> String {
    let h = format!("{uuid:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Largest GATT value (write or notification) on a link with this ATT MTU:
/// `MTU − 3`, at most 512; MTUs outside `23..=517` are clamped.
pub fn value_len(att_mtu: u16) -> usize {
    (usize::from(att_mtu.clamp(MIN_ATT_MTU, MAX_ATT_MTU)) - ATT_HEADER).min(MAX_VALUE)
}

/// Session bytes one DATA value carries (the value less its header byte).
pub fn payload_len(att_mtu: u16) -> usize {
    value_len(att_mtu) - VALUE_HEADER
}

/// The record size a side offers in its session preamble on this MTU:
/// [`RECORD_VALUES`] values' worth of payload, within `MIN_RECORD..=MAX_BLE_RECORD`.
pub fn record_size(att_mtu: u16) -> usize {
    (payload_len(att_mtu) * RECORD_VALUES).clamp(MIN_RECORD, MAX_BLE_RECORD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_mtu() {
        assert_eq!(
            (value_len(23), payload_len(23), record_size(23)),
            (20, 19, 180)
        );
        assert_eq!(
            (value_len(185), payload_len(185), record_size(185)),
            (182, 181, 724)
        );
        assert_eq!(
            (value_len(517), payload_len(517), record_size(517)),
            (512, 511, 2044)
        );
        // Out-of-range MTUs from a buggy stack are clamped, not trusted.
        assert_eq!(value_len(0), 20);
        assert_eq!(value_len(u16::MAX), 512);
    }

    #[test]
    fn uuids_print_in_platform_form() {
        assert_eq!(
            uuid_string(SERVICE_UUID),
            "7a3f0001-9c4e-4b8e-8f1d-5c0a6b2e9d41"
        );
        assert_ne!(WRITE_UUID, NOTIFY_UUID);
    }
}
