//! Bluetooth LE neighbours, sans-IO: which to connect, when, and the links
//! to them (the wire side is `pollen_proto::ble`).
//!
//! - [`manager`]: which neighbours to connect, when to scan and advertise;
//! - [`duty`]: the power modes and the scan and advertising duty cycle each means;
//! - [`hub`]: the manager and the links together, what a platform drives;
//! - [`driver`]: the hub behind a callback interface, for phones' platform code;
//! - [`radio_links`]: the phone radio's own link table (ids, values waiting
//!   for the stack, when to hang up), for Swift's and Kotlin's radios;
//! - [`sim`]: a simulated radio for tests and benchmarks;
//! - [`bench`]: goodput and meeting figures on the simulated radio.
//!
//! The radios themselves live elsewhere: btleplug in `pollen_runtime::ble`
//! (feature `ble`), Kotlin and Swift on the phones through the bindings.

pub mod bench;
pub mod driver;
pub mod duty;
pub mod hub;
pub mod manager;
pub mod radio_links;
pub mod sim;

pub use driver::{BleDriver, BleRadio};
pub use hub::{Advert, BleCommand, BleHub, HubEvent};
pub use manager::{LinkId, LinkManager, ManagerConfig, PowerMode};
pub use pollen_proto::ble::{AdvertId, AdvertKey, BleLink, Role};
pub use radio_links::{RadioLinks, Step};
