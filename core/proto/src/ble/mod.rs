//! Bluetooth LE on the wire (see `docs/PROTOCOL.md`, "Bluetooth LE"): what
//! two radios agree on, without I/O.
//!
//! - [`profile`]: the GATT service, its characteristics, sizes from the MTU;
//! - [`advert`]: the rotating advertised identifier and its encodings;
//! - [`chunk`]: link framing of the session stream over GATT values;
//! - [`link`]: one link: HELLO exchange, framing and the sync session.
//!
//! Which neighbours to connect and when is the node's (`pollen_node::ble`).

pub mod advert;
pub mod chunk;
pub mod link;
pub mod profile;

pub use advert::{AdvertId, AdvertKey};
pub use link::{BleLink, Role};
