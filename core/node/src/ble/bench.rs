//! Figures of the BLE transport on the simulated radio with real nodes:
//! goodput as a share of the link's capacity, and the time two phones that
//! just met need to sync a batch of messages. Used by `pollen bench ble`
//! and by the tests that hold the targets.

use super::hub::BleHub;
use super::manager::{ManagerConfig, PowerMode};
use super::sim::{Phone, Radio, World};
use crate::node::{Clock, Node, NodeError};
use pollen_proto::ble::advert::AdvertKey;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Virtual start time of every benchmark (unix ms).
pub const T0_MS: u64 = 1_800_000_000_000;

/// A benchmark could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// Setting up a node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The sync did not complete in the virtual time allowed.
    #[error("no complete sync within {0} ms of virtual time")]
    Timeout(u64),
}

/// A node clock that follows the simulation's virtual time.
#[derive(Clone, Default)]
pub struct SimClock(pub Arc<AtomicU64>);

impl Clock for SimClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst) / 1000
    }

    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A phone with a fresh node named `name` under `root`.
pub fn phone(
    root: &Path,
    name: &str,
    clock: &SimClock,
    seed: u8,
    max_mtu: u16,
    config: ManagerConfig,
) -> Result<Phone<Node>, NodeError> {
    let node = Node::init(&root.join(name), name, Box::new(clock.clone()))?;
    let hub = BleHub::new(
        AdvertKey::from_secret([seed; 32]),
        config,
        clock.0.load(Ordering::SeqCst),
    );
    let mut phone = Phone::new(hub, node, max_mtu);
    phone.clock = Some(clock.0.clone());
    Ok(phone)
}

/// Goodput over one link.
#[derive(Debug, Clone, Serialize)]
pub struct Goodput {
    /// The ATT MTU of the link.
    pub mtu: u16,
    /// The link's capacity in GATT value bytes per second.
    pub capacity_bytes_per_s: u64,
    /// Envelopes moved.
    pub envelopes: u64,
    /// Envelope bytes moved.
    pub envelope_bytes: u64,
    /// From link up to both sessions finished.
    pub elapsed_ms: u64,
    /// Envelope bytes per second.
    pub goodput_bytes_per_s: f64,
    /// Goodput over capacity.
    pub share: f64,
}

/// Text of `len` characters that does not compress (Automerge compresses
/// change bytes, so repeated words would shrink to the smallest envelope).
pub fn noise_text(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .";
    let mut bytes = vec![0u8; len];
    blake3::Hasher::new()
        .update(&seed.to_le_bytes())
        .finalize_xof()
        .fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 63)] as char)
        .collect()
}

/// Moves `messages` channel messages of `text_len` incompressible
/// characters from one phone to a carrier over a link with this MTU and
/// capacity, and measures goodput.
pub fn goodput(
    root: &Path,
    mtu: u16,
    bytes_per_s: u64,
    messages: usize,
    text_len: usize,
) -> Result<Goodput, BenchError> {
    let clock = SimClock(Arc::new(AtomicU64::new(T0_MS)));
    let config = ManagerConfig::default();
    let a = phone(root, "sender", &clock, 1, mtu, config)?;
    let b = phone(root, "carrier", &clock, 2, mtu, config)?;
    a.store.join_channel("bench")?;
    for i in 0..messages {
        a.store
            .send_channel("bench", &noise_text(i as u64, text_len))?;
    }
    let before = b.store.status()?.envelope_bytes;
    let radio = Radio {
        bytes_per_s,
        ..Radio::default()
    };
    let mut world = World::new(vec![a, b], radio, T0_MS);
    world.set_range(0, 1, true);
    let limit = 3_600_000;
    let done = world.run_until(limit, |w| w.stats.sessions_finished >= 2);
    if !done {
        return Err(BenchError::Timeout(limit));
    }
    let up = world.stats.first_link_ms.unwrap_or(T0_MS);
    let elapsed_ms = world.now_ms() - up;
    let status = world.phones[1].store.status()?;
    let envelope_bytes = status.envelope_bytes - before;
    let goodput_bytes_per_s = envelope_bytes as f64 * 1000.0 / elapsed_ms.max(1) as f64;
    Ok(Goodput {
        mtu,
        capacity_bytes_per_s: bytes_per_s,
        envelopes: status.carried_for_others,
        envelope_bytes,
        elapsed_ms,
        goodput_bytes_per_s,
        share: goodput_bytes_per_s / bytes_per_s as f64,
    })
}

/// Two phones meeting.
#[derive(Debug, Clone, Serialize)]
pub struct Meeting {
    /// Direct messages waiting on the first phone.
    pub messages: usize,
    /// From both phones coming in range to all messages shown on the second.
    pub ms_to_sync: u64,
    /// Of which: until the link was up (discovery and connection set-up).
    pub ms_to_link: u64,
    /// Links made for that sync.
    pub links: u64,
    /// After that sync, the recipient's user writes a reply: until it is
    /// shown on the first phone (the news that waited 10 + 20 s before
    /// what the user wrote got its own gap).
    pub ms_reply_after_sync: u64,
}

/// Two phones come into range; one holds `messages` short direct messages
/// for the other. Measures the time until all are shown on the recipient.
pub fn meeting(
    root: &Path,
    messages: usize,
    mtu: u16,
    bytes_per_s: u64,
) -> Result<Meeting, BenchError> {
    let clock = SimClock(Arc::new(AtomicU64::new(T0_MS)));
    let config = ManagerConfig {
        power: PowerMode::Foreground,
        ..ManagerConfig::default()
    };
    let a = phone(root, "ana", &clock, 3, mtu, config)?;
    let b = phone(root, "bo", &clock, 4, mtu, config)?;
    a.store.add_contact(&b.store.card(), Some("bo"))?;
    b.store.add_contact(&a.store.card(), Some("ana"))?;
    for i in 0..messages {
        a.store
            .send_direct("bo", &format!("see you at the well at {i}"))?;
    }
    let radio = Radio {
        bytes_per_s,
        ..Radio::default()
    };
    let mut world = World::new(vec![a, b], radio, T0_MS);
    world.set_range(0, 1, true);
    let limit = 600_000;
    let done = world.run_until(limit, |w| {
        w.stats.sessions_finished >= 2
            && w.phones[1]
                .store
                .status()
                .is_ok_and(|s| s.messages >= messages as u64)
    });
    if !done {
        return Err(BenchError::Timeout(limit));
    }
    let ms_to_sync = world.now_ms() - T0_MS;
    let ms_to_link = world.stats.first_link_ms.unwrap_or(T0_MS) - T0_MS;
    let links = world.stats.links_up;
    // Settle (the finished link closes), then Bo answers.
    world.run_until(1_000, |w| w.link_count() == 0);
    let shown = |w: &World<Node>| w.phones[0].store.status().map_or(0, |s| s.messages);
    let before = shown(&world);
    let wrote = world.now_ms();
    world.phones[1].store.send_direct("ana", "on my way")?;
    let phone = &mut world.phones[1];
    phone.hub.note_local_write(wrote, &mut phone.store);
    if !world.run_until(limit, |w| shown(w) > before) {
        return Err(BenchError::Timeout(limit));
    }
    Ok(Meeting {
        messages,
        ms_to_sync,
        ms_to_link,
        links,
        ms_reply_after_sync: world.now_ms() - wrote,
    })
}

/// The duty cycle of one power mode and what it costs.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    /// The mode.
    pub mode: String,
    /// Scanning on per period.
    pub scan_on_ms: u64,
    /// Scan period.
    pub scan_period_ms: u64,
    /// Advertising interval.
    pub adv_interval_ms: u64,
    /// Expected radio-on seconds per hour for scanning and advertising.
    pub radio_on_s_per_hour: f64,
}

/// The battery budget of every power mode.
pub fn budgets() -> Vec<Budget> {
    [
        PowerMode::Foreground,
        PowerMode::Background,
        PowerMode::Saver,
    ]
    .into_iter()
    .map(|m| {
        let d = m.duty_cycle();
        Budget {
            mode: format!("{m:?}").to_lowercase(),
            scan_on_ms: d.scan_on_ms,
            scan_period_ms: d.scan_period_ms,
            adv_interval_ms: d.adv_interval_ms,
            radio_on_s_per_hour: d.radio_on_ms_per_hour() as f64 / 1000.0,
        }
    })
    .collect()
}
