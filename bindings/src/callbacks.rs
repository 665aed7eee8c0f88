//! The foreign traits the app implements: events, platform links, the
//! Bluetooth LE radio and the keystore's key guard.

use crate::records::{ConversationInfo, KeyChangeInfo, MessageInfo, MessageStatus, NeighbourInfo};

/// What a callback into the app can fail with. Any exception the app throws
/// arrives as `Failed`, so it is logged instead of becoming a Rust panic.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The app's code failed.
    #[error("callback failed: {detail}")]
    Failed {
        /// What the app reported.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Failed { detail: e.reason }
    }
}

/// Events for the UI, called in order on the `pollen-events` thread (never the
/// core thread), so an implementation may call back into the node.
#[uniffi::export(with_foreign)]
pub trait PollenListener: Send + Sync {
    /// A message from someone else arrived.
    fn on_new_message(&self, message: MessageInfo) -> Result<(), CallbackError>;
    /// One of this node's messages was delivered or read (or a status moved).
    fn on_message_status_changed(
        &self,
        conversation_id: String,
        message_id: String,
        status: MessageStatus,
    ) -> Result<(), CallbackError>;
    /// A conversation's list entry or messages changed (edits, reactions,
    /// deletions, own sends, unread count).
    fn on_conversation_changed(&self, conversation: ConversationInfo) -> Result<(), CallbackError>;
    /// A neighbour was found (mDNS on the LAN, or a platform link's peer).
    fn on_neighbour_appeared(&self, neighbour: NeighbourInfo) -> Result<(), CallbackError>;
    /// A neighbour went away.
    fn on_neighbour_left(&self, neighbour: NeighbourInfo) -> Result<(), CallbackError>;
    /// A card with other keys was offered for a pinned contact and refused.
    fn on_key_changed(&self, change: KeyChangeInfo) -> Result<(), CallbackError>;
}

/// Links the platform opens (Bonjour, a test loopback; phones' BLE has
/// `BleRadio`). Called on the core thread: implementations queue the work and
/// return at once, and may call only the non-blocking `link_*` methods of the
/// node from here.
#[uniffi::export(with_foreign)]
pub trait PlatformTransport: Send + Sync {
    /// Writes `bytes` (at most the link's `max_write`) to the link, in order.
    fn send(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), CallbackError>;
    /// Closes the link; the core already treats it as gone.
    fn disconnect(&self, link_id: u64) -> Result<(), CallbackError>;
    /// Asks for a link to `peer` (a name the platform gave in `link_up`); the
    /// platform answers with `link_up(.., initiator = true, ..)` if it can.
    fn connect(&self, peer: String) -> Result<(), CallbackError>;
}

/// The phone's Bluetooth LE radio (scanner, advertiser, GATT client and
/// server), driven by the core's BLE driver: `core::ble::BleRadio` across
/// the boundary. Called on the core thread: every method queues its work
/// and returns at once, and may call only the non-blocking `ble_*` methods
/// of the node from here. A thrown exception is logged, not retried.
#[uniffi::export(with_foreign)]
pub trait BleRadio: Send + Sync {
    /// Scan for the Pollen service UUID; report each advertisement with
    /// `ble_advertisement`.
    fn start_scan(&self) -> Result<(), CallbackError>;
    /// Stop scanning.
    fn stop_scan(&self) -> Result<(), CallbackError>;
    /// Advertise the Pollen service with this service data (Android) or
    /// local name (iOS), replacing any earlier advertisement.
    fn advertise(
        &self,
        service_data: Vec<u8>,
        local_name: String,
        interval_ms: u32,
    ) -> Result<(), CallbackError>;
    /// Stop advertising.
    fn stop_advertising(&self) -> Result<(), CallbackError>;
    /// Connect to the advertiser with this handle; answer with `ble_link_up`
    /// or `ble_connect_failed`.
    fn connect(&self, handle: String) -> Result<(), CallbackError>;
    /// Close the link after the values already handed over; answer with
    /// `ble_link_down` once it is gone.
    fn disconnect(&self, link_id: u64) -> Result<(), CallbackError>;
    /// Queue one value to write (central) or notify (peripheral); answer
    /// with `ble_ready` once values went out.
    fn send(&self, link_id: u64, value: Vec<u8>) -> Result<(), CallbackError>;
}

/// Seals the identity secret with a key that never leaves the phone's
/// keystore (Android Keystore, iOS Keychain): authenticated encryption, so
/// that bytes not sealed by that key fail to open. Called on the caller's
/// thread while the node opens.
#[uniffi::export(with_foreign)]
pub trait KeyGuard: Send + Sync {
    /// Seals `plain`.
    fn seal(&self, plain: Vec<u8>) -> Result<Vec<u8>, CallbackError>;
    /// Opens what `seal` gave (not `open`: UniFFI's C header spells that
    /// name in backticks); an error when the key is gone or the bytes
    /// were not sealed with it.
    fn unseal(&self, sealed: Vec<u8>) -> Result<Vec<u8>, CallbackError>;
}
