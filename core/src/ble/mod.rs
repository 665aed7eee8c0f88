//! Bluetooth LE transport, sans-IO (see `docs/PROTOCOL.md`, "Bluetooth LE").
//!
//! - [`profile`]: the GATT service, its characteristics, sizes from the MTU;
//! - [`advert`]: the rotating advertised identifier and its encodings;
//! - [`chunk`]: link framing of the session stream over GATT values;
//! - [`link`]: one link: HELLO exchange, framing and the sync session;
//! - [`manager`]: which neighbours to connect, scan and advertise duty cycle;
//! - [`hub`]: the manager and the links together, what a platform drives;
//! - [`driver`]: the hub behind a callback interface, for phones' platform code;
//! - [`sim`]: a simulated radio for tests and benchmarks;
//! - [`bench`]: goodput and meeting figures on the simulated radio.
//!
//! The radios themselves live elsewhere: btleplug in `runtime::ble` (feature
//! `ble`), Kotlin and Swift on the phones through the bindings.

pub mod advert;
pub mod bench;
pub mod chunk;
pub mod driver;
pub mod hub;
pub mod link;
pub mod manager;
pub mod profile;
pub mod sim;

pub use advert::{AdvertId, AdvertKey};
pub use driver::{BleDriver, BleRadio};
pub use hub::{Advert, BleCommand, BleHub, HubEvent};
pub use link::{BleLink, Role};
pub use manager::{LinkId, LinkManager, ManagerConfig, PowerMode};
