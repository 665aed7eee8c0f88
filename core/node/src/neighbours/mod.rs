//! Neighbour bookkeeping, sans-IO: who is known, when to sync with each next,
//! how far to back off. Pure logic on the time it is given; the runtime acts
//! on what it decides (dial, ask the platform for a link).
//!
//! - [`cadence`]: when to sync with one neighbour next (news, resync, backoff);
//! - [`lan`]: neighbours reached by TCP (mDNS, given addresses, relays);
//! - [`platform`]: peers the platform links to (Bonjour, a test loopback).
//!
//! Bluetooth LE links are chosen by the BLE link manager (`ble::manager`:
//! who connects, duty cycle), which keeps each neighbour on this cadence with
//! [`Schedule::BLE`].

pub mod cadence;
pub mod lan;
pub mod platform;

pub use cadence::{Cadence, Schedule};
pub use lan::{Peers, Source};
pub use platform::{Due, PlatformPeers, Presence};
