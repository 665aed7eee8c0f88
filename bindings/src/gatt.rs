//! The Pollen GATT contract for the platforms' Bluetooth code: the service
//! and characteristic UUIDs and the sizes, from the core's profile
//! (`pollen_proto::ble::profile`, `docs/PROTOCOL.md`, "Bluetooth LE").
//! Swift and Kotlin read them from here so that a change in the core cannot
//! leave one phone's radio speaking an older profile.
//!
//! Who connects when one side cannot see the other: a backgrounded iPhone
//! advertises the service UUID only in Apple's overflow area, which an
//! Android scan filtered on the service UUID does not match. The iPhone's
//! own filtered scan still finds the Android phone (Android advertises the
//! UUID in the primary advertisement, foreground service or not), and the
//! core's link manager lets the phone with the higher identifier connect
//! after [`GattContract::passive_wait_ms`] when the lower one has not: so the
//! iPhone connects, as central, within that wait. Android keeps its filtered
//! scan (unfiltered scans are throttled and stop with the screen off).

use pollen_node::ble::manager::PASSIVE_WAIT_MS;
use pollen_proto::ble::advert::{NAME_PREFIX, SERVICE_DATA_LEN};
use pollen_proto::ble::profile::{
    ATT_HEADER, BLE_VERSION, MAX_ATT_MTU, MAX_VALUE, MIN_ATT_MTU, NOTIFY_UUID, SERVICE_UUID,
    WRITE_UUID, uuid_string,
};

/// The GATT profile every Pollen radio serves and looks for.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct GattContract {
    /// Version of the BLE link layer (advertisement, profile, framing).
    pub version: u8,
    /// The Pollen service, advertised and scanned for (lowercase, hyphenated).
    pub service_uuid: String,
    /// Written by the central without response: bytes towards the peripheral.
    pub write_uuid: String,
    /// Notified by the peripheral: bytes towards the central.
    pub notify_uuid: String,
    /// Smallest ATT MTU (every link starts with it).
    pub min_att_mtu: u16,
    /// The ATT MTU a central asks for.
    pub max_att_mtu: u16,
    /// ATT header bytes in a write or notification: the MTU is the largest
    /// value plus this (iOS reports the value length, the core wants the MTU).
    pub att_header: u16,
    /// Longest attribute value the ATT protocol allows.
    pub max_value: u16,
    /// Bytes of the service data (version, rotating identifier).
    pub service_data_len: u16,
    /// First character of the local-name form of the identifier (iOS
    /// advertises the identifier as its local name).
    pub local_name_prefix: String,
    /// How long a phone that sees a neighbour waits for the neighbour to
    /// connect before connecting itself: the bound on how late an iPhone in
    /// the background, invisible to Android's scan, reaches an Android phone.
    pub passive_wait_ms: u64,
}

/// The GATT contract of this core.
#[uniffi::export]
pub fn gatt_contract() -> GattContract {
    GattContract {
        version: BLE_VERSION,
        service_uuid: uuid_string(SERVICE_UUID),
        write_uuid: uuid_string(WRITE_UUID),
        notify_uuid: uuid_string(NOTIFY_UUID),
        min_att_mtu: MIN_ATT_MTU,
        max_att_mtu: MAX_ATT_MTU,
        att_header: ATT_HEADER as u16,
        max_value: MAX_VALUE as u16,
        service_data_len: SERVICE_DATA_LEN as u16,
        local_name_prefix: NAME_PREFIX.to_string(),
        passive_wait_ms: PASSIVE_WAIT_MS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_is_the_cores_profile() {
        let g = gatt_contract();
        // docs/PROTOCOL.md, "Bluetooth LE": the values the radios on the
        // air already use; a change here is a protocol change.
        assert_eq!(g.service_uuid, "7a3f0001-9c4e-4b8e-8f1d-5c0a6b2e9d41");
        assert_eq!(g.write_uuid, "7a3f0002-9c4e-4b8e-8f1d-5c0a6b2e9d41");
        assert_eq!(g.notify_uuid, "7a3f0003-9c4e-4b8e-8f1d-5c0a6b2e9d41");
        assert_eq!((g.min_att_mtu, g.max_att_mtu, g.att_header), (23, 517, 3));
        assert_eq!(g.max_value, 512);
        assert_eq!(g.service_data_len, 9);
        assert_eq!(g.local_name_prefix, "P");
        assert_eq!(g.version, 1);
        assert!(g.passive_wait_ms > 0);
    }
}
