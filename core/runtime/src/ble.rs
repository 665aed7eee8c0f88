//! The BLE central on desktops (Linux with BlueZ, macOS, Windows) through
//! btleplug: a [`BleRadio`] like the phones' platform radios, driven by the
//! host's [`BleCtl`] (the same driver, hub and manager the phones run). This
//! file only carries out the radio's commands and reports what the adapter
//! heard; every decision stays in the driver.
//!
//! btleplug has no peripheral role, so a desktop node finds phones (which
//! advertise and accept through their platform code) but is not found.

use crate::host::ble_ctl::BleCtl;
use btleplug::api::{
    Central, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter, WriteType,
};
use btleplug::platform::{Manager, Peripheral, PeripheralId};
use pollen_node::ble::{BleRadio, LinkId};
use pollen_proto::ble::advert::RandomnessError;
use pollen_proto::ble::profile::{NOTIFY_UUID, SERVICE_UUID, WRITE_UUID};

/// The platform's Bluetooth adapter (btleplug's).
pub use btleplug::platform::Adapter;
use futures::StreamExt;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Longest wait for a connection and its service discovery.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the BLE central cannot run.
#[derive(Debug, Error)]
pub enum BleError {
    /// The platform Bluetooth service is unreachable (on Linux: no D-Bus
    /// system bus, or no BlueZ on it).
    #[error("cannot reach the Bluetooth service: {0}")]
    Platform(String),
    /// The Bluetooth service has no adapter.
    #[error("no Bluetooth adapter found")]
    NoAdapter,
    /// The adapter refused an operation.
    #[error("Bluetooth adapter: {0}")]
    Adapter(String),
    /// No randomness for the advertising secret.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
}

/// The first Bluetooth adapter, with its description.
pub async fn adapter() -> Result<(Adapter, String), BleError> {
    let manager = Manager::new()
        .await
        .map_err(|e| BleError::Platform(e.to_string()))?;
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| BleError::Platform(e.to_string()))?;
    let adapter = adapters.into_iter().next().ok_or(BleError::NoAdapter)?;
    let info = adapter
        .adapter_info()
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?;
    Ok((adapter, info))
}

/// A device heard during a scan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeenDevice {
    /// The platform's handle of the device.
    pub handle: String,
    /// It advertises the Pollen service.
    pub pollen: bool,
    /// The Pollen identifier it advertises (hex), if any.
    pub advert_id: Option<String>,
    /// Signal strength, if known.
    pub rssi: Option<i16>,
}

/// Scans for `duration` and lists what was heard (Pollen nodes flagged).
pub async fn scan(adapter: &Adapter, duration: Duration) -> Result<Vec<SeenDevice>, BleError> {
    let filter = ScanFilter {
        services: vec![Uuid::from_u128(SERVICE_UUID)],
    };
    adapter
        .start_scan(filter)
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?;
    tokio::time::sleep(duration).await;
    let _ = adapter.stop_scan().await;
    let mut out = Vec::new();
    for p in adapter
        .peripherals()
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?
    {
        let Ok(Some(props)) = p.properties().await else {
            continue;
        };
        let service = Uuid::from_u128(SERVICE_UUID);
        let data = props.service_data.get(&service).map(Vec::as_slice);
        let pollen = data.is_some() || props.services.contains(&service);
        let advert_id = pollen_proto::ble::advert::parse(data, props.local_name.as_deref())
            .ok()
            .flatten()
            .filter(|_| pollen)
            .map(|id| id.to_string());
        out.push(SeenDevice {
            handle: p.id().to_string(),
            pollen,
            advert_id,
            rssi: props.rssi,
        });
    }
    Ok(out)
}

/// What the driver asked the radio to do.
enum Command {
    Scan(bool),
    Connect(String),
    Disconnect(LinkId),
    Send(LinkId, Vec<u8>),
}

/// What a connection task reports.
enum Msg {
    Up {
        link: LinkId,
        handle: String,
        mtu: u16,
        writer: mpsc::UnboundedSender<Vec<u8>>,
    },
    Failed {
        handle: String,
        reason: String,
    },
    Value(LinkId, Vec<u8>),
    Written(LinkId),
    Down(LinkId),
}

/// The desktop radio as the driver sees it: its calls queue commands for
/// the task [`run_ble`] runs, and return at once, as a phone's do.
pub struct BtleplugRadio {
    commands: mpsc::UnboundedSender<Command>,
}

impl BleRadio for BtleplugRadio {
    fn start_scan(&self) {
        let _ = self.commands.send(Command::Scan(true));
    }
    fn stop_scan(&self) {
        let _ = self.commands.send(Command::Scan(false));
    }
    fn advertise(&self, _service_data: Vec<u8>, _local_name: String, _interval_ms: u32) {
        // btleplug cannot advertise: said once when the radio starts.
    }
    fn stop_advertising(&self) {}
    fn connect(&self, handle: String) {
        let _ = self.commands.send(Command::Connect(handle));
    }
    fn disconnect(&self, link: LinkId) {
        let _ = self.commands.send(Command::Disconnect(link));
    }
    fn send(&self, link: LinkId, value: Vec<u8>) {
        let _ = self.commands.send(Command::Send(link, value));
    }
}

/// Runs the BLE central on `adapter` as the radio of `ble` until `stop`
/// completes: scanning, connecting and moving values as the host's driver
/// decides. Must run on the host thread (inside its `LocalSet`).
pub async fn run_ble(
    adapter: Adapter,
    ble: Rc<BleCtl>,
    stop: impl Future<Output = ()>,
) -> Result<(), BleError> {
    let mut heard_events = adapter
        .events()
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?;
    let (commands, mut todo) = mpsc::unbounded_channel::<Command>();
    ble.set_radio(Some(Arc::new(BtleplugRadio { commands })))
        .map_err(BleError::Adapter)?;
    tracing::info!("BLE: central only here (btleplug cannot advertise); phones find each other");
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut ids: HashMap<String, PeripheralId> = HashMap::new();
    let mut writers: HashMap<LinkId, mpsc::UnboundedSender<Vec<u8>>> = HashMap::new();
    let mut next_link = LinkId::FIRST;
    // Connection tasks, ended inside the runtime at shutdown: dropped
    // later, btleplug's D-Bus streams would panic without a reactor.
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(c) = todo.recv() => match c {
                Command::Scan(true) => {
                    let filter = ScanFilter {
                        services: vec![Uuid::from_u128(SERVICE_UUID)],
                    };
                    if let Err(e) = adapter.start_scan(filter).await {
                        tracing::warn!(error = %e, "BLE scan did not start");
                    }
                }
                Command::Scan(false) => {
                    let _ = adapter.stop_scan().await;
                }
                Command::Connect(handle) => match ids.get(&handle) {
                    Some(id) => {
                        let link = next_link.take();
                        tasks.retain(|t| !t.is_finished());
                        tasks.push(tokio::task::spawn_local(connect(
                            adapter.clone(),
                            id.clone(),
                            handle,
                            link,
                            tx.clone(),
                        )));
                    }
                    None => ble.connect_failed(handle),
                },
                // Dropping the writer lets queued values go, then disconnects.
                Command::Disconnect(link) => {
                    writers.remove(&link);
                }
                Command::Send(link, value) => {
                    if let Some(w) = writers.get(&link) {
                        let _ = w.send(value);
                    }
                }
            },
            ev = heard_events.next() => {
                let Some(ev) = ev else { break };
                if let Some(id) = advertiser(&ev) {
                    heard(&adapter, &ble, &mut ids, id).await;
                }
            }
            Some(msg) = rx.recv() => match msg {
                Msg::Up { link, handle, mtu, writer } => {
                    tracing::info!(link = link.0, %handle, mtu, "BLE link up");
                    writers.insert(link, writer);
                    ble.link_up(link, handle, true, mtu);
                }
                Msg::Failed { handle, reason } => {
                    tracing::info!(%handle, %reason, "BLE connection failed");
                    ble.connect_failed(handle);
                }
                Msg::Value(link, v) => ble.received(link, v),
                Msg::Written(link) => ble.ready(link, 1),
                Msg::Down(link) => {
                    tracing::debug!(link = link.0, "BLE link down");
                    writers.remove(&link);
                    ble.link_down(link);
                }
            },
        }
    }
    // Commit what arrived on open links, then end their tasks.
    ble.stop();
    for t in tasks {
        t.abort();
        let _ = t.await;
    }
    let _ = adapter.stop_scan().await;
    Ok(())
}

fn advertiser(ev: &CentralEvent) -> Option<&PeripheralId> {
    match ev {
        CentralEvent::DeviceDiscovered(id)
        | CentralEvent::DeviceUpdated(id)
        | CentralEvent::ServiceDataAdvertisement { id, .. }
        | CentralEvent::ServicesAdvertisement { id, .. } => Some(id),
        _ => None,
    }
}

/// Passes an advertisement of the Pollen service to the driver.
async fn heard(
    adapter: &Adapter,
    ble: &BleCtl,
    ids: &mut HashMap<String, PeripheralId>,
    id: &PeripheralId,
) {
    let Ok(p) = adapter.peripheral(id).await else {
        return;
    };
    let Ok(Some(props)) = p.properties().await else {
        return;
    };
    let service = Uuid::from_u128(SERVICE_UUID);
    let data = props.service_data.get(&service).map(Vec::as_slice);
    if data.is_none() && !props.services.contains(&service) {
        return;
    }
    let handle = id.to_string();
    tracing::debug!(%handle, "Pollen neighbour advertising");
    ids.insert(handle.clone(), id.clone());
    ble.advertisement(handle, data.map(<[u8]>::to_vec), props.local_name.clone());
}

/// Connects, finds the Pollen characteristics, subscribes, and then moves
/// values both ways until either side ends the link.
async fn connect(
    adapter: Adapter,
    id: PeripheralId,
    handle: String,
    link: LinkId,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let setup = async {
        let p = adapter.peripheral(&id).await.map_err(|e| e.to_string())?;
        p.connect().await.map_err(|e| e.to_string())?;
        p.discover_services().await.map_err(|e| e.to_string())?;
        let find = |uuid: u128| -> Option<Characteristic> {
            p.characteristics()
                .into_iter()
                .find(|c| c.uuid == Uuid::from_u128(uuid))
        };
        let (Some(write), Some(notify)) = (find(WRITE_UUID), find(NOTIFY_UUID)) else {
            let _ = p.disconnect().await;
            return Err("no Pollen service on the device".to_owned());
        };
        p.subscribe(&notify).await.map_err(|e| e.to_string())?;
        let notes = p.notifications().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((p, write, notes))
    };
    let (p, write, mut notes): (Peripheral, _, _) =
        match tokio::time::timeout(CONNECT_TIMEOUT, setup).await {
            Ok(Ok(x)) => x,
            Ok(Err(reason)) => {
                let _ = tx.send(Msg::Failed { handle, reason });
                return;
            }
            Err(_) => {
                let reason = format!("timed out after {CONNECT_TIMEOUT:?}");
                let _ = tx.send(Msg::Failed { handle, reason });
                return;
            }
        };
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    let mtu = p.mtu();
    if tx
        .send(Msg::Up {
            link,
            handle,
            mtu,
            writer: wtx,
        })
        .is_err()
    {
        return;
    }
    let notify = Uuid::from_u128(NOTIFY_UUID);
    loop {
        tokio::select! {
            n = notes.next() => match n {
                Some(n) if n.uuid == notify => {
                    if tx.send(Msg::Value(link, n.value)).is_err() {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            w = wrx.recv() => match w {
                Some(v) => {
                    if p.write(&write, &v, WriteType::WithoutResponse).await.is_err() {
                        break;
                    }
                    let _ = tx.send(Msg::Written(link));
                }
                None => break,
            },
        }
    }
    let _ = p.disconnect().await;
    let _ = tx.send(Msg::Down(link));
}
