//! Who may hold an accepted TCP link: the defence against connection
//! exhaustion (threat model: "A hostile neighbour"; checklist D8).
//!
//! A connection costs a slot from accept until its handshake completes, so
//! strangers that connect and stay silent could fill every slot. The gate:
//!
//! - gives a link a short deadline to start and finish its handshake;
//! - caps the links one remote address holds, and its unfinished ones;
//! - when full, closes the oldest unfinished link to make room for a new one
//!   (an established session is never pushed out by a newcomer);
//! - lets each remote address start only so many handshakes per second
//!   (counted when the peer's first bytes arrive, so silent links cost
//!   nothing and a burst of churn is refused before any key agreement).
//!
//! Bookkeeping is bounded: at most `max_links` entries and `MAX_TRACKED`
//! per-address buckets (the least recently used is forgotten).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Per-address handshake buckets kept at most.
pub const MAX_TRACKED: usize = 4096;

/// The gate's limits.
#[derive(Clone, Debug)]
pub struct GateConfig {
    /// Accepted links at once.
    pub max_links: usize,
    /// Links one remote address may hold.
    pub max_per_address: usize,
    /// Links of one remote address that have not finished their handshake.
    pub max_pending_per_address: usize,
    /// Time from accept to a finished handshake.
    pub handshake_deadline: Duration,
    /// Handshakes one remote address may start per second, sustained.
    pub handshakes_per_s: f64,
    /// Handshakes one remote address may start at once.
    pub handshake_burst: f64,
}

impl GateConfig {
    /// A phone or `pollen serve`: a few neighbours at a time, on a LAN.
    pub fn node(max_links: usize) -> GateConfig {
        GateConfig {
            max_links,
            max_per_address: (max_links / 2).max(1),
            max_pending_per_address: 4,
            handshake_deadline: Duration::from_secs(3),
            handshakes_per_s: 4.0,
            handshake_burst: 16.0,
        }
    }

    /// A relay: many clients, some behind one NAT address, over the internet.
    pub fn relay(max_links: usize) -> GateConfig {
        GateConfig {
            max_links,
            max_per_address: (max_links / 8).max(1),
            max_pending_per_address: 16,
            handshake_deadline: Duration::from_secs(5),
            // Generous: many phones may share one carrier-grade NAT address.
            handshakes_per_s: 64.0,
            handshake_burst: 256.0,
        }
    }
}

impl GateConfig {
    /// The same limits with no per-address ones (links, unfinished
    /// handshakes, handshake rate): for a benchmark whose many clients all
    /// come from one loopback address. The total and the deadline stay.
    pub fn without_address_limits(self) -> GateConfig {
        GateConfig {
            max_per_address: self.max_links,
            max_pending_per_address: self.max_links,
            handshakes_per_s: 1e9,
            handshake_burst: 1e9,
            ..self
        }
    }
}

/// Why a connection was closed by the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every slot holds an established session.
    #[error("every link slot holds an established session")]
    Full,
    /// The remote address holds its share of established sessions.
    #[error("this address holds too many links")]
    AddressFull,
    /// The remote address starts handshakes too fast.
    #[error("this address starts handshakes too fast")]
    HandshakeRate,
}

struct Entry {
    ip: IpAddr,
    established: bool,
    /// Dropped to close the link (eviction).
    _evict: oneshot::Sender<()>,
}

struct Bucket {
    tokens: f64,
    at_ms: u64,
    used_ms: u64,
}

/// The bookkeeping of accepted links, shared by the accept loop and the
/// link tasks (one thread).
pub struct Gate {
    config: GateConfig,
    links: BTreeMap<u64, Entry>,
    next: u64,
    buckets: HashMap<IpAddr, Bucket>,
}

/// A link admitted by the gate; `evicted` completes when the gate closes it.
pub struct Ticket {
    /// The link's id in the gate.
    pub id: u64,
    /// Completes when the gate wants the link closed.
    pub evicted: oneshot::Receiver<()>,
}

impl Gate {
    /// An empty gate.
    pub fn new(config: GateConfig) -> Gate {
        Gate {
            config,
            links: BTreeMap::new(),
            next: 0,
            buckets: HashMap::new(),
        }
    }

    /// Shared handle for the accept loop and its tasks.
    pub fn shared(config: GateConfig) -> Rc<RefCell<Gate>> {
        Rc::new(RefCell::new(Gate::new(config)))
    }

    /// The limits.
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// Links held now.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when no link is held.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Admits a new connection from `ip`, closing the oldest unfinished link
    /// (of that address first) if that is what it takes.
    pub fn admit(&mut self, ip: IpAddr) -> Result<Ticket, Refusal> {
        let ip = address_key(ip);
        let (mut held, mut pending) = (0, 0);
        for e in self.links.values().filter(|e| e.ip == ip) {
            held += 1;
            pending += usize::from(!e.established);
        }
        if pending >= self.config.max_pending_per_address
            || (held >= self.config.max_per_address && pending > 0)
        {
            self.evict_oldest(Some(ip));
        } else if held >= self.config.max_per_address {
            return Err(Refusal::AddressFull);
        }
        if self.links.len() >= self.config.max_links && !self.evict_oldest(None) {
            return Err(Refusal::Full);
        }
        let (tx, rx) = oneshot::channel();
        let id = self.next;
        self.next += 1;
        self.links.insert(
            id,
            Entry {
                ip,
                established: false,
                _evict: tx,
            },
        );
        Ok(Ticket { id, evicted: rx })
    }

    fn evict_oldest(&mut self, ip: Option<IpAddr>) -> bool {
        let victim = self
            .links
            .iter()
            .find(|(_, e)| !e.established && ip.is_none_or(|ip| e.ip == ip))
            .map(|(id, _)| *id);
        match victim {
            Some(id) => {
                let e = self.links.remove(&id);
                tracing::debug!(ip = ?e.map(|e| e.ip), "closing the oldest unfinished link for a new one");
                true
            }
            None => false,
        }
    }

    /// The peer on link `id` started its handshake at `now_ms`: false when
    /// its address is over the handshake rate (the link must then close).
    pub fn handshake(&mut self, ip: IpAddr, now_ms: u64) -> bool {
        let ip = address_key(ip);
        let (rate, burst) = (self.config.handshakes_per_s, self.config.handshake_burst);
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= MAX_TRACKED {
            // Forget the least recently used address; it starts full again,
            // which only favours it.
            if let Some(old) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.used_ms)
                .map(|(ip, _)| *ip)
            {
                self.buckets.remove(&old);
            }
        }
        let b = self.buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            at_ms: now_ms,
            used_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.at_ms = b.at_ms.max(now_ms);
        b.used_ms = now_ms;
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Link `id` finished its handshake: it can no longer be pushed out.
    pub fn established(&mut self, id: u64) {
        if let Some(e) = self.links.get_mut(&id) {
            e.established = true;
        }
    }

    /// Link `id` closed.
    pub fn close(&mut self, id: u64) {
        self.links.remove(&id);
    }

    /// Per-address buckets held now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// One IPv6 host usually holds a whole /64: count it as one address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::from(o)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn silent_links_of_one_address_are_pushed_out_by_newcomers() {
        let mut g = Gate::new(GateConfig::node(8));
        let mut tickets: Vec<Ticket> = (0..120).map(|_| g.admit(ip(1)).unwrap()).collect();
        // Only the newest few of the flood are still held.
        assert_eq!(g.len(), 4);
        assert!(
            tickets[0]
                .evicted
                .try_recv()
                .is_err_and(|e| e == oneshot::error::TryRecvError::Closed)
        );
        // An honest peer from another address gets in, and so does one from
        // the flooding address itself.
        let honest = g.admit(ip(2)).unwrap();
        g.established(honest.id);
        let same = g.admit(ip(1)).unwrap();
        g.established(same.id);
        assert_eq!(g.len(), 5);
    }

    #[test]
    fn established_sessions_are_never_pushed_out_and_one_address_gets_a_share() {
        let mut g = Gate::new(GateConfig::node(8));
        for _ in 0..4 {
            let t = g.admit(ip(1)).unwrap();
            g.established(t.id);
        }
        assert_eq!(g.admit(ip(1)).err(), Some(Refusal::AddressFull));
        for n in 2..6 {
            let t = g.admit(ip(n)).unwrap();
            g.established(t.id);
        }
        assert_eq!(g.admit(ip(9)).err(), Some(Refusal::Full));
        // A slot freed by a closed session is usable again.
        g.close(0);
        assert!(g.admit(ip(9)).is_ok());
    }

    #[test]
    fn handshake_churn_is_rate_limited_per_address_and_buckets_are_bounded() {
        let mut g = Gate::new(GateConfig::node(8));
        let started = (0..100).filter(|_| g.handshake(ip(1), 1_000)).count();
        assert_eq!(started, 16, "the burst, then nothing");
        assert!(g.handshake(ip(2), 1_000), "other addresses are unaffected");
        assert!(!g.handshake(ip(1), 1_100));
        assert!(g.handshake(ip(1), 1_300), "refilled at 4 per second");
        for n in 0..(MAX_TRACKED as u32 + 100) {
            g.handshake(IpAddr::from(n.to_be_bytes()), 2_000 + u64::from(n));
        }
        assert_eq!(g.tracked(), MAX_TRACKED);
    }

    #[test]
    fn without_address_limits_one_address_may_fill_every_slot() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let strict = GateConfig::relay(64);
        let mut g = Gate::new(strict.clone());
        let _held: Vec<_> = (0..64).map(|_| g.admit(ip)).collect();
        assert!(
            g.len() <= strict.max_per_address,
            "with the limits, one address holds at most {} links, not {}",
            strict.max_per_address,
            g.len()
        );
        let mut g = Gate::new(strict.without_address_limits());
        let tickets: Vec<_> = (0..64).map(|_| g.admit(ip).expect("admitted")).collect();
        assert_eq!(g.len(), 64);
        assert!((0..64).all(|_| g.handshake(ip, 0)), "no handshake rate");
        let _one_more = g.admit(ip).expect("the oldest unfinished link makes room");
        assert_eq!(g.len(), 64, "the total still holds");
        drop(tickets);
    }
}
