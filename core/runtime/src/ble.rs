//! The BLE central on desktops (Linux with BlueZ, macOS, Windows) through
//! btleplug: scans for the Pollen service, connects where the [`BleHub`]
//! says, and carries GATT values between the radio and the hub. Every
//! decision stays in the hub; this file only moves bytes and events.
//!
//! btleplug has no peripheral role, so a desktop node finds phones (which
//! advertise and accept through their platform code) but is not found.

use super::LinkClock;
use super::mesh::ChangeCounter;
use btleplug::api::{
    Central, CentralEvent, Characteristic, Manager as _, Peripheral as _, ScanFilter, WriteType,
};
use btleplug::platform::{Manager, Peripheral, PeripheralId};
use pollen_node::ble::{AdvertKey, BleCommand, BleHub, HubEvent, LinkId, ManagerConfig, Role};
use pollen_proto::ble::advert::RandomnessError;
use pollen_proto::ble::profile::{NOTIFY_UUID, SERVICE_UUID, WRITE_UUID};
use pollen_proto::sync::SyncStore;

/// The platform's Bluetooth adapter (btleplug's).
pub use btleplug::platform::Adapter;
use futures::StreamExt;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Values handed to a link's writer and not yet written, at most.
const WRITES_IN_FLIGHT: usize = 8;
/// Longest wait for a connection and its service discovery.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often local writes are looked for.
const TICK: Duration = Duration::from_millis(500);

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

struct LinkIo {
    /// None once this side asked for the link to close.
    writer: Option<mpsc::UnboundedSender<Vec<u8>>>,
    in_flight: usize,
}

/// Runs the BLE central until `stop` completes: scanning, connecting and
/// syncing as the hub decides. `events` sees every session end. Must run
/// inside a `LocalSet`.
pub async fn run_ble<S>(
    adapter: Adapter,
    store: Rc<RefCell<S>>,
    config: ManagerConfig,
    events: impl Fn(HubEvent),
    stop: impl Future<Output = ()>,
) -> Result<(), BleError>
where
    S: SyncStore + ChangeCounter + 'static,
{
    let clock = LinkClock::new();
    let mut hub = BleHub::new(AdvertKey::random()?, config, clock.now_ms());
    let mut radio = adapter
        .events()
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut ids: HashMap<String, PeripheralId> = HashMap::new();
    let mut links: HashMap<LinkId, LinkIo> = HashMap::new();
    let mut next_link: LinkId = 1;
    let mut version = store.borrow_mut().change_counter();
    let mut tick = tokio::time::interval(TICK);
    let mut told_no_peripheral = false;
    // Connection tasks, ended inside the runtime at shutdown: dropped
    // later, btleplug's D-Bus streams would panic without a reactor.
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    tokio::pin!(stop);
    loop {
        // Carry out what the hub decided, then feed every link's writer.
        loop {
            while let Some(c) = hub.poll_command() {
                match c {
                    BleCommand::Scan(true) => {
                        let filter = ScanFilter {
                            services: vec![Uuid::from_u128(SERVICE_UUID)],
                        };
                        if let Err(e) = adapter.start_scan(filter).await {
                            tracing::warn!(error = %e, "BLE scan did not start");
                        }
                    }
                    BleCommand::Scan(false) => {
                        let _ = adapter.stop_scan().await;
                    }
                    BleCommand::Advertise(_) => {
                        if !told_no_peripheral {
                            told_no_peripheral = true;
                            tracing::info!(
                                "BLE: central only here (btleplug cannot advertise); phones find each other"
                            );
                        }
                    }
                    BleCommand::Connect { handle } => match ids.get(&handle) {
                        Some(id) => {
                            let link = next_link;
                            next_link += 1;
                            tasks.retain(|t| !t.is_finished());
                            tasks.push(tokio::task::spawn_local(connect(
                                adapter.clone(),
                                id.clone(),
                                handle,
                                link,
                                tx.clone(),
                            )));
                        }
                        None => hub.connect_failed(&handle, clock.now_ms()),
                    },
                    BleCommand::Disconnect { link } => {
                        // Dropping the writer lets queued values go, then disconnects.
                        if let Some(io) = links.get_mut(&link) {
                            io.writer = None;
                        }
                    }
                }
            }
            let mut fed = false;
            for (link, io) in links.iter_mut() {
                let Some(writer) = &io.writer else { continue };
                while io.in_flight < WRITES_IN_FLIGHT {
                    let Some(v) = hub.poll_value(*link, &mut *store.borrow_mut()) else {
                        break;
                    };
                    if writer.send(v).is_err() {
                        break;
                    }
                    io.in_flight += 1;
                    fed = true;
                }
            }
            if !fed {
                break;
            }
        }
        while let Some(e) = hub.poll_event() {
            events(e);
        }
        let deadline = hub
            .poll_timeout()
            .map(|ms| clock_instant(&clock, ms))
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = &mut stop => break,
            ev = radio.next() => {
                let Some(ev) = ev else { break };
                if let Some(id) = advertiser(&ev) {
                    heard(&adapter, &mut hub, &mut ids, id, clock.now_ms()).await;
                }
            }
            Some(msg) = rx.recv() => {
                let now = clock.now_ms();
                match msg {
                    Msg::Up { link, handle, mtu, writer } => {
                        tracing::info!(link, %handle, mtu, "BLE link up");
                        links.insert(link, LinkIo { writer: Some(writer), in_flight: 0 });
                        hub.link_up(link, &handle, Role::Central, mtu, now);
                    }
                    Msg::Failed { handle, reason } => {
                        tracing::info!(%handle, %reason, "BLE connection failed");
                        hub.connect_failed(&handle, now);
                    }
                    Msg::Value(link, v) => hub.received(link, &v, now, &mut *store.borrow_mut()),
                    Msg::Written(link) => {
                        if let Some(io) = links.get_mut(&link) {
                            io.in_flight = io.in_flight.saturating_sub(1);
                        }
                    }
                    Msg::Down(link) => {
                        tracing::debug!(link, "BLE link down");
                        links.remove(&link);
                        hub.link_down(link, now, &mut *store.borrow_mut());
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                hub.handle_timeout(clock.now_ms(), &mut *store.borrow_mut());
            }
            _ = tick.tick() => {
                let v = store.borrow_mut().change_counter();
                if v != version {
                    version = v;
                    hub.note_news(clock.now_ms());
                }
            }
        }
    }
    // Commit what arrived on open links, then end their tasks.
    let now = clock.now_ms();
    for link in links.keys().copied().collect::<Vec<_>>() {
        hub.link_down(link, now, &mut *store.borrow_mut());
    }
    while let Some(e) = hub.poll_event() {
        events(e);
    }
    for t in tasks {
        t.abort();
        let _ = t.await;
    }
    let _ = adapter.stop_scan().await;
    Ok(())
}

fn clock_instant(clock: &LinkClock, ms: u64) -> tokio::time::Instant {
    let wait = ms.saturating_sub(clock.now_ms());
    tokio::time::Instant::now() + Duration::from_millis(wait)
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

/// Passes an advertisement of the Pollen service to the hub.
async fn heard(
    adapter: &Adapter,
    hub: &mut BleHub,
    ids: &mut HashMap<String, PeripheralId>,
    id: &PeripheralId,
    now_ms: u64,
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
    hub.advertisement(&handle, data, props.local_name.as_deref(), now_ms);
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
