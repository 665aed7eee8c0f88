//! Encounter-aware routing state of one phone: PRoPHET-style delivery
//! predictability per rotating routing tag (`docs/ROUTING.md`, *Encounter
//! routing*).
//!
//! What a phone learns and tells, and what it never tells:
//!
//! - **Met.** In a session, a peer's Hello lists the peer's own direct
//!   routing tags (`RoutingTag::direct` of its key, one per expiry day).
//!   The phone raises its predictability for those tags (`P_INIT`), and
//!   lets every value age (`GAMMA` per hour). These tags are what the
//!   Hello already shows; they are kept on the phone.
//! - **Told.** At each session the phone gives its peer a *summary*: at
//!   most `SUMMARY_MAX` pairs (key, predictability), where the key is
//!   [`summary_key`]`(tag, today)`, a keyed hash of the tag and the day.
//!   A peer can match a key only against a tag it already knows: an
//!   envelope it carries for that recipient, or a contact's card. The keys
//!   change every day, so no key links two days, and none is the tag or
//!   the key of the card.
//! - **Heard.** From a summary the phone keeps, for today only, the
//!   transitive value `P(me, peer) × P(peer, key) × BETA` per key. It
//!   cannot turn a key back into a tag, so these are forgotten at the day's
//!   end.
//!
//! Sans-IO: times come in as arguments.

use std::collections::HashMap;

/// Predictability given by one meeting (PRoPHET's `P_init`).
pub const P_INIT: f32 = 0.75;
/// Transitive scaling (PRoPHET's `β`).
pub const BETA: f32 = 0.25;
/// Ageing per hour (PRoPHET's `γ`, with an hour as the time unit).
pub const GAMMA: f32 = 0.98;
/// Most entries in one summary.
pub const SUMMARY_MAX: usize = 256;
/// Seconds in the day that keys rotate with.
pub const DAY_S: u64 = 86_400;

const SUMMARY_CONTEXT: &str = "pollen 2026-12 encounter summary key v1";

/// A summary's key for routing tag `tag` on day `day` (unix seconds / 86,400).
pub fn summary_key(tag: &[u8; 8], day: u64) -> [u8; 8] {
    let mut material = [0u8; 16];
    material[..8].copy_from_slice(tag);
    material[8..].copy_from_slice(&day.to_le_bytes());
    let full = blake3::derive_key(SUMMARY_CONTEXT, &material);
    let mut key = [0u8; 8];
    key.copy_from_slice(&full[..8]);
    key
}

/// What one summary entry carries: a key and a predictability in 1/255.
pub type SummaryEntry = ([u8; 8], u8);

/// One phone's encounter state.
#[derive(Debug, Default, Clone)]
pub struct Encounters {
    /// Tags seen in peers' Hellos: predictability and when it was set (s).
    met: HashMap<[u8; 8], (f32, u64)>,
    /// Transitive predictabilities by summary key, for `heard_day` only.
    heard: HashMap<[u8; 8], f32>,
    heard_day: u64,
}

fn aged(p: f32, since: u64, now: u64) -> f32 {
    let hours = now.saturating_sub(since) as f32 / 3600.0;
    p * GAMMA.powf(hours)
}

impl Encounters {
    /// The predictability this phone has for `tag` at `now` (unix s).
    pub fn predict(&self, tag: &[u8; 8], now: u64) -> f32 {
        let met = self.met.get(tag).map_or(0.0, |&(p, t)| aged(p, t, now));
        let heard = if self.heard_day == now / DAY_S {
            self.heard
                .get(&summary_key(tag, now / DAY_S))
                .copied()
                .unwrap_or(0.0)
        } else {
            0.0
        };
        met.max(heard)
    }

    /// A session with a peer whose Hello shows `tags` (its own direct
    /// tags) and who sent `summary`.
    pub fn meet(&mut self, tags: &[[u8; 8]], summary: &[SummaryEntry], now: u64) {
        let mut p_peer: f32 = 0.0;
        for tag in tags {
            let old = self.met.get(tag).map_or(0.0, |&(p, t)| aged(p, t, now));
            let p = old + (1.0 - old) * P_INIT;
            self.met.insert(*tag, (p, now));
            p_peer = p_peer.max(p);
        }
        let day = now / DAY_S;
        if self.heard_day != day {
            self.heard.clear();
            self.heard_day = day;
        }
        for &(key, p) in summary {
            let p = p_peer * (f32::from(p) / 255.0) * BETA;
            let slot = self.heard.entry(key).or_insert(0.0);
            *slot = slot.max(p);
        }
    }

    /// What this phone tells a peer at `now`: its strongest entries, keyed
    /// for today.
    pub fn summary(&self, now: u64) -> Vec<SummaryEntry> {
        let day = now / DAY_S;
        let mut all: HashMap<[u8; 8], f32> = HashMap::new();
        for (tag, &(p, t)) in &self.met {
            all.insert(summary_key(tag, day), aged(p, t, now));
        }
        if self.heard_day == day {
            for (&key, &p) in &self.heard {
                let slot = all.entry(key).or_insert(0.0);
                *slot = slot.max(p);
            }
        }
        let mut entries: Vec<SummaryEntry> = all
            .into_iter()
            .map(|(k, p)| (k, (p.clamp(0.0, 1.0) * 255.0).round() as u8))
            .filter(|&(_, p)| p > 0)
            .collect();
        // Strongest first; ties by key, so the same state gives the same bytes.
        entries.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        entries.truncate(SUMMARY_MAX);
        entries
    }
}

/// A received summary, looked up by tag.
#[derive(Debug, Default, Clone)]
pub struct PeerSummary {
    day: u64,
    entries: HashMap<[u8; 8], f32>,
}

impl PeerSummary {
    /// Keeps `summary`, received at `now`.
    pub fn new(summary: &[SummaryEntry], now: u64) -> PeerSummary {
        PeerSummary {
            day: now / DAY_S,
            entries: summary
                .iter()
                .map(|&(k, p)| (k, f32::from(p) / 255.0))
                .collect(),
        }
    }

    /// The peer's predictability for `tag`, as far as its summary tells.
    pub fn predict(&self, tag: &[u8; 8]) -> f32 {
        self.entries
            .get(&summary_key(tag, self.day))
            .copied()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_proto::envelope::RoutingTag;
    use pollen_proto::identity::Identity;

    const DAY0: u64 = 1_767_225_600;

    #[test]
    fn meeting_raises_and_time_lowers_predictability() {
        let mut e = Encounters::default();
        let tag = [7u8; 8];
        assert_eq!(e.predict(&tag, DAY0), 0.0);
        e.meet(&[tag], &[], DAY0);
        assert!((e.predict(&tag, DAY0) - P_INIT).abs() < 1e-6);
        e.meet(&[tag], &[], DAY0);
        assert!(e.predict(&tag, DAY0) > P_INIT);
        let later = e.predict(&tag, DAY0 + 24 * 3600);
        assert!(later < P_INIT && later > 0.3, "{later}");
    }

    #[test]
    fn transitive_values_last_only_the_day() {
        // B met C; A meets B and hears of C through B's summary.
        let c = [3u8; 8];
        let mut b = Encounters::default();
        b.meet(&[c], &[], DAY0 + 100);
        let mut a = Encounters::default();
        a.meet(&[[2u8; 8]], &b.summary(DAY0 + 200), DAY0 + 200);
        let p = a.predict(&c, DAY0 + 200);
        assert!((p - P_INIT * P_INIT * BETA).abs() < 0.01, "{p}");
        assert!(PeerSummary::new(&b.summary(DAY0 + 200), DAY0 + 200).predict(&c) > 0.7);
        // A cannot carry a key it cannot invert into the next day.
        assert_eq!(a.predict(&c, DAY0 + DAY_S + 200), 0.0);
    }

    /// What crosses the session (the summary) has no identifier that is
    /// stable across two days, and none that is the recipient's tag or key.
    #[test]
    fn a_carriers_view_links_no_two_days() {
        let bob = Identity::generate("Bob").unwrap();
        let public = bob.public();
        // Bob's Hello tags over two days, as a phone that meets him sees them.
        let tags = |day: u64| -> Vec<[u8; 8]> {
            (day..day + 9)
                .map(|d| RoutingTag::direct(&public, d * DAY_S).0)
                .collect()
        };
        let mut alice = Encounters::default();
        let day0 = DAY0 / DAY_S;
        alice.meet(&tags(day0), &[], DAY0 + 3600);
        let monday = alice.summary(DAY0 + 7200);
        alice.meet(&tags(day0 + 1), &[], DAY0 + DAY_S + 3600);
        let tuesday = alice.summary(DAY0 + DAY_S + 7200);
        assert!(monday.len() >= 9 && tuesday.len() >= 10);
        for (key, _) in &monday {
            assert!(
                tuesday.iter().all(|(k, _)| k != key),
                "key {key:?} on both days"
            );
        }
        let mut known: Vec<[u8; 8]> = tags(day0);
        known.extend(tags(day0 + 1));
        for (key, _) in monday.iter().chain(&tuesday) {
            assert!(!known.contains(key));
            for card_key in [public.agreement, public.signing.0] {
                assert!(!card_key.windows(8).any(|w| w == key));
            }
        }
        // Yet a carrier that holds an envelope for Bob finds him in it.
        let peer = PeerSummary::new(&tuesday, DAY0 + DAY_S + 7200);
        assert!(peer.predict(&tags(day0 + 1)[2]) > 0.5);
    }

    #[test]
    fn summaries_are_bounded_and_deterministic() {
        let mut e = Encounters::default();
        let many: Vec<[u8; 8]> = (0..2 * SUMMARY_MAX as u64)
            .map(|i| i.to_le_bytes())
            .collect();
        e.meet(&many, &[], DAY0);
        e.meet(&many[..10], &[], DAY0 + 60);
        let s = e.summary(DAY0 + 120);
        assert_eq!(s.len(), SUMMARY_MAX);
        assert_eq!(s, e.clone().summary(DAY0 + 120));
        assert!(s.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
