//! LAN discovery with mDNS (`mdns-sd`): advertise `_pollen._tcp` and browse
//! for neighbours. The advertisement carries no identity, no name and nothing
//! stable across runs: the instance and host names are random per run.

use super::RuntimeError;
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

/// The DNS-SD service type.
pub const SERVICE_TYPE: &str = "_pollen._tcp.local.";

/// A neighbour seen (or withdrawn) on the LAN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A neighbour's instance and the addresses it listens on.
    Up(String, Vec<SocketAddr>),
    /// A neighbour withdrew its advertisement.
    Down(String),
}

/// A running advertisement and browse.
pub struct Discovery {
    daemon: ServiceDaemon,
    fullname: String,
    events: mdns_sd::Receiver<ServiceEvent>,
}

fn mdns_err(e: mdns_sd::Error) -> RuntimeError {
    RuntimeError::Discovery(e.to_string())
}

/// Interfaces whose flags lack IFF_MULTICAST (Linux), which mDNS cannot use.
fn non_multicast_interfaces() -> Vec<String> {
    const IFF_MULTICAST: u32 = 0x1000;
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let flags = std::fs::read_to_string(e.path().join("flags")).ok()?;
            let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).ok()?;
            (flags & IFF_MULTICAST == 0).then_some(name)
        })
        .collect()
}

/// A fresh service instance name, `pollen-` and 16 random hex digits: it
/// says nothing about who advertises it. The LAN's mDNS and the phones'
/// Bonjour (`pollen-ffi`'s `PlatformLinks`) both name themselves with it.
pub fn instance_name() -> Result<String, getrandom::Error> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)?;
    Ok(format!("pollen-{}", hex::encode(random)))
}

impl Discovery {
    /// Advertises this node's TCP `port` and starts browsing.
    pub fn start(port: u16) -> Result<Discovery, RuntimeError> {
        let daemon = ServiceDaemon::new().map_err(mdns_err)?;
        // The listener is IPv4, and loopback is not a neighbourhood.
        daemon.disable_interface(IfKind::IPv6).map_err(mdns_err)?;
        daemon
            .disable_interface(IfKind::LoopbackV4)
            .map_err(mdns_err)?;
        for name in non_multicast_interfaces() {
            tracing::debug!(interface = %name, "skipping interface without multicast");
            daemon
                .disable_interface(IfKind::Name(name))
                .map_err(mdns_err)?;
        }
        let instance = instance_name().map_err(|e| RuntimeError::Discovery(e.to_string()))?;
        let host = format!("{instance}.local.");
        let info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", port, None)
            .map_err(mdns_err)?
            .enable_addr_auto();
        let fullname = info.get_fullname().to_owned();
        daemon.register(info).map_err(mdns_err)?;
        let events = daemon.browse(SERVICE_TYPE).map_err(mdns_err)?;
        tracing::info!(%instance, port, "advertising on mDNS");
        Ok(Discovery {
            daemon,
            fullname,
            events,
        })
    }

    /// This node's own advertisement, to ignore when browsing finds it.
    pub fn own_name(&self) -> &str {
        &self.fullname
    }

    /// The next neighbour seen or withdrawn (other events are skipped).
    pub async fn next(&self, own_addrs: &HashSet<SocketAddr>) -> Option<Found> {
        loop {
            let event = self.events.recv_async().await.ok()?;
            match event {
                ServiceEvent::ServiceResolved(info) => {
                    if info.get_fullname() == self.fullname {
                        continue;
                    }
                    let port = info.get_port();
                    let mut addrs: Vec<SocketAddr> = info
                        .get_addresses_v4()
                        .into_iter()
                        .map(|ip| SocketAddr::new(IpAddr::V4(ip), port))
                        .filter(|a| !own_addrs.contains(a))
                        .collect();
                    addrs.sort();
                    if addrs.is_empty() {
                        continue;
                    }
                    return Some(Found::Up(info.get_fullname().to_owned(), addrs));
                }
                ServiceEvent::ServiceRemoved(_, fullname) if fullname != self.fullname => {
                    return Some(Found::Down(fullname));
                }
                _ => {}
            }
        }
    }

    /// Withdraws the advertisement and stops the daemon.
    pub fn shutdown(self) {
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            let _ = done.recv_timeout(std::time::Duration::from_secs(1));
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(std::time::Duration::from_secs(1));
        }
    }
}
