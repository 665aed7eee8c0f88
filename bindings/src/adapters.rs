//! The app's foreign traits as the runtime's own: a thrown exception is a
//! logged error, never a panic.

use crate::callbacks::{BleRadio, CallbackError, PlatformTransport};
use pollen_node::ble::{BleRadio as NodeRadio, LinkId};
use pollen_runtime::host::platform::PlatformLinks;
use std::sync::Arc;

/// The app's [`PlatformTransport`] as the host's [`PlatformLinks`].
pub(crate) struct Transport(pub Arc<dyn PlatformTransport>);

fn text(r: Result<(), CallbackError>) -> Result<(), String> {
    r.map_err(|e| e.to_string())
}

impl PlatformLinks for Transport {
    fn send(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), String> {
        text(self.0.send(link_id, bytes))
    }
    fn disconnect(&self, link_id: u64) -> Result<(), String> {
        text(self.0.disconnect(link_id))
    }
    fn connect(&self, peer: String) -> Result<(), String> {
        text(self.0.connect(peer))
    }
}

/// The app's [`BleRadio`] as the node's BLE driver calls it; a failing call
/// is logged (the driver's timers retry what matters).
pub(crate) struct Radio(pub Arc<dyn BleRadio>);

fn logged(what: &str, r: Result<(), CallbackError>) {
    if let Err(e) = r {
        tracing::warn!(what, error = %e, "BLE radio call failed");
    }
}

impl NodeRadio for Radio {
    fn start_scan(&self) {
        logged("start_scan", self.0.start_scan());
    }
    fn stop_scan(&self) {
        logged("stop_scan", self.0.stop_scan());
    }
    fn advertise(&self, service_data: Vec<u8>, local_name: String, interval_ms: u32) {
        logged(
            "advertise",
            self.0.advertise(service_data, local_name, interval_ms),
        );
    }
    fn stop_advertising(&self) {
        logged("stop_advertising", self.0.stop_advertising());
    }
    fn connect(&self, handle: String) {
        logged("connect", self.0.connect(handle));
    }
    fn disconnect(&self, link: LinkId) {
        logged("disconnect", self.0.disconnect(link.0));
    }
    fn send(&self, link: LinkId, value: Vec<u8>) {
        logged("send", self.0.send(link.0, value));
    }
}
