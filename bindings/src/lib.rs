//! `pollen-ffi`: the UniFFI surface of the Pollen core (see `bindings/API.md`).
//!
//! - [`PollenNode`]: the one object apps hold; every call goes to the node's
//!   core thread ([`core_thread`]);
//! - [`records`]: what the UI shows, as plain records and enums;
//! - [`PollenError`]: typed errors, thrown as exceptions;
//! - [`PollenListener`]: events, delivered on the `pollen-events` thread;
//! - [`PlatformTransport`]: links the platform opens (BLE, Bonjour), driven by
//!   the core like TCP connections ([`links`]);
//! - [`BleRadio`]: the phone's Bluetooth LE radio, driven by the core's BLE
//!   driver on the core thread ([`ble`]).

mod ble;
mod callbacks;
mod core_thread;
mod error;
mod events;
mod links;
mod node;
mod platform_peers;
pub mod records;

pub use callbacks::{BleRadio, CallbackError, PlatformTransport, PollenListener};
pub use error::PollenError;
pub use node::PollenNode;

uniffi::setup_scaffolding!("pollen");
