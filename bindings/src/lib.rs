//! `pollen-ffi`: the UniFFI surface of the Pollen node runtime (see
//! `bindings/API.md`). A thin typed layer: the engine is
//! `pollen_runtime::host::NodeHost`, the same runtime `pollen run` uses.
//!
//! - [`PollenNode`]: the one object apps hold; every call is a job on the
//!   node's host thread;
//! - [`records`]: what the UI shows, as plain records and enums;
//! - [`app`]: the app model (chat list, timelines, notifications) from `pollen-app`;
//! - [`nearby`]: the Nearby screen, from the neighbours the host reports;
//! - [`uplink`]: relays, reached by the runtime or in one session now;
//! - `routing`: the encounter-routing switch;
//! - [`members`]: a group's members, adding and removing them;
//! - [`docs`]: shared documents and the needs-and-offers board;
//! - [`app_access`]: which other apps on the phone may use which shared
//!   documents, and the checked calls those apps make (Android's
//!   `SharedDocsService`);
//! - [`transports`]: which transports the user allows;
//! - `privacy`: the screen-privacy switch;
//! - [`blocks`]: blocking people;
//! - [`settings`]: the Settings screen's switches and lists in one record;
//! - [`PollenError`]: typed errors, thrown as exceptions;
//! - [`PollenListener`]: events, delivered on the `pollen-events` thread;
//!   [`feed::AppFeed`] is a listener that tells the screens what to do;
//! - [`PlatformTransport`]: links the platform opens (Bonjour, a loopback),
//!   run by the host like TCP connections; `peer_discovered`/`peer_lost`
//!   (`discovery`) hand it peers the platform found itself (Bonjour), and
//!   [`platform_links::PlatformLinks`] keeps such a transport's link table;
//! - [`BleRadio`]: the phone's Bluetooth LE radio, driven by the node's BLE
//!   driver on the host thread, with [`ble_links::BleLinks`], the radio's
//!   own link table (ids, values waiting for the stack, when to hang up),
//!   and [`ble_bridge::BleBridge`], that table wired to the node (iOS);
//! - `open` and `compose`: the launch's open-or-create (both apps) and the
//!   chat field's send: an edit, a reply or a new message (iOS).

mod adapters;
pub mod app;
pub mod app_access;
pub mod attachments;
pub mod ble_bridge;
pub mod ble_links;
pub mod blocks;
mod callbacks;
mod compose;
mod discovery;
pub mod docs;
mod error;
mod events;
pub mod feed;
pub mod gatt;
pub mod members;
pub mod nearby;
mod node;
mod open;
pub mod platform_links;
mod privacy;
pub mod records;
mod routing;
pub mod settings;
pub mod transports;
pub mod uplink;

#[cfg(test)]
mod test_support;

pub use callbacks::{BleRadio, CallbackError, KeyGuard, PlatformTransport, PollenListener};
pub use error::PollenError;
pub use node::PollenNode;
pub use privacy::DeliveryReceipts;

uniffi::setup_scaffolding!("pollen");
