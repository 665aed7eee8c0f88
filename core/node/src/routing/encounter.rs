//! Encounter routing: PRoPHET-style delivery predictability per daily
//! summary key, learned from the encounter summaries in neighbours' Hellos
//! (`pollen_proto::sync::encounter`; `docs/ROUTING.md`, *Encounter routing*).
//!
//! - **Met.** A neighbour's summary lists its own keys for today. Meeting it
//!   raises this phone's predictability for each (`P += (1 − P) × P_INIT`);
//!   every value ages by `GAMMA` per hour.
//! - **Told.** This phone's summary lists its own keys and bands of the keys
//!   it met. Keys are for one day only, so everything is forgotten when the
//!   day changes: nothing links two days.
//!
//! PRoPHET's transitive values are left out: read from neighbours' Bloom
//! bands they pick up false positives, and measured they changed no
//! decision under the rule below (`docs/ROUTING.md`).
//!
//! The decision for a carrier ([`offers`], [`split`]): copies to spare are
//! sprayed as in blind routing; a last copy moves to a neighbour likelier
//! to meet the recipient by [`FORWARD_MARGIN`], and the giver keeps the
//! bytes for the recipient only (budget 0). Sans-IO: time comes in.

use pollen_proto::envelope::RoutingTag;
use pollen_proto::identity::PublicIdentity;
use pollen_proto::sync::encounter::{DAY_S, EncounterSummary, MET_DAYS, SummaryKey, summary_key};
use pollen_proto::sync::store::{PeerRole, Toward};
use std::collections::HashMap;

/// Predictability given by one meeting (PRoPHET's `P_init`).
pub const P_INIT: f32 = 0.75;
/// Ageing per hour (PRoPHET's `γ`, with an hour as the time unit).
pub const GAMMA: f32 = 0.98;
/// How much better a neighbour must be for a last copy to move to it. Each
/// move climbs this much, so one copy moves at most 1 / 0.1 = 10 times.
pub const FORWARD_MARGIN: f32 = 0.1;
/// Keys met today kept (the weakest go first).
pub const MET_MAX: usize = 4096;
/// Band levels of a summary, in 1/255: about 0.75, 0.5, 0.25 and 0.1.
pub const LEVELS: [u8; 4] = [191, 128, 64, 26];

fn aged(p: f32, since: u64, now: u64) -> f32 {
    let hours = now.saturating_sub(since) as f32 / 3600.0;
    p * GAMMA.powf(hours)
}

fn day_of(now: u64) -> u32 {
    (now / DAY_S) as u32
}

/// This phone's own met keys on the day of `now`: one per expiry day an
/// envelope written to it today may carry.
pub fn own_keys(me: &PublicIdentity, now: u64) -> Vec<SummaryKey> {
    let today = now / DAY_S;
    (today..today + MET_DAYS)
        .map(|d| summary_key(&RoutingTag::direct(me, d * DAY_S).0, day_of(now)))
        .collect()
}

/// One phone's encounter state, for one day.
#[derive(Debug, Default, Clone)]
pub struct Encounters {
    day: u32,
    /// Keys met today: predictability and when it was set (unix s).
    met: HashMap<SummaryKey, (f32, u64)>,
}

impl Encounters {
    /// Forgets everything of an earlier day.
    fn roll(&mut self, now: u64) {
        if self.day != day_of(now) {
            self.day = day_of(now);
            self.met.clear();
        }
    }

    /// This phone's predictability (0..=1) for the owner of `tag` at `now`.
    pub fn predict(&self, tag: &RoutingTag, now: u64) -> f32 {
        if self.day != day_of(now) {
            return 0.0;
        }
        let key = summary_key(&tag.0, self.day);
        self.met.get(&key).map_or(0.0, |&(p, t)| aged(p, t, now))
    }

    /// A session with a neighbour whose Hello carried `summary`.
    pub fn meet(&mut self, summary: &EncounterSummary, now: u64) {
        self.roll(now);
        // Keys are for one day: a summary of another day (clock skew at
        // midnight) matches nothing here.
        if summary.day != self.day {
            return;
        }
        for key in &summary.met {
            let old = self.met.get(key).map_or(0.0, |&(p, t)| aged(p, t, now));
            let p = old + (1.0 - old) * P_INIT;
            self.met.insert(*key, (p, now));
        }
        if self.met.len() > MET_MAX {
            let mut all: Vec<(SummaryKey, f32)> = self
                .met
                .iter()
                .map(|(k, &(p, t))| (*k, aged(p, t, now)))
                .collect();
            all.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for (k, _) in &all[MET_MAX..] {
                self.met.remove(k);
            }
        }
    }

    /// What this phone tells a neighbour at `now`: its own keys, and bands of
    /// the keys it met today.
    pub fn summary(&self, me: &PublicIdentity, now: u64) -> EncounterSummary {
        let entries: Vec<(SummaryKey, u8)> = if self.day == day_of(now) {
            self.met
                .iter()
                .map(|(k, &(p, t))| (*k, (aged(p, t, now).clamp(0.0, 1.0) * 255.0).round() as u8))
                .collect()
        } else {
            Vec::new()
        };
        EncounterSummary::build(day_of(now), own_keys(me, now), &entries, &LEVELS)
    }
}

/// Whether a node holding `copies` copies of an envelope, with predictability
/// `mine` for its recipient, offers it to a neighbour `to`. Copies to spare
/// are sprayed blind: steering them by predictability cost channel posts
/// and gained no direct message (`docs/ROUTING.md`). A neighbour that told
/// nothing is treated as blind routing treats it.
pub fn offers(copies: u32, to: Toward, mine: f32) -> bool {
    match (to.role, to.meets, copies) {
        (PeerRole::Carrier, Some(theirs), 1) => theirs >= mine + FORWARD_MARGIN,
        (PeerRole::Carrier, Some(_), 0) => false,
        (role, _, _) => super::offers(copies, role),
    }
}

/// Handing one copy to `to` from `held`: `(kept, given)`. A last copy moves
/// to a carrier that told whom it meets; the giver keeps none of the budget.
pub fn split(held: u32, to: Toward) -> (u32, u32) {
    if to.role == PeerRole::Carrier && to.meets.is_some() && held <= 1 {
        return (0, 1);
    }
    super::split(held, to.role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_proto::identity::Identity;

    const DAY0: u64 = 1_767_225_600;

    fn person(name: &str) -> PublicIdentity {
        Identity::generate(name).unwrap().public()
    }

    fn tag_of(p: &PublicIdentity, now: u64) -> RoutingTag {
        // An envelope written at `now` with the default week-long TTL.
        RoutingTag::direct(p, now + 7 * DAY_S)
    }

    #[test]
    fn meeting_raises_and_time_lowers_predictability() {
        let (alice, bob) = (person("Alice"), person("Bob"));
        let mut a = Encounters::default();
        let tag = tag_of(&bob, DAY0);
        assert_eq!(a.predict(&tag, DAY0), 0.0);
        let told = Encounters::default().summary(&bob, DAY0);
        a.meet(&told, DAY0);
        assert!((a.predict(&tag, DAY0) - P_INIT).abs() < 1e-6);
        a.meet(&told, DAY0);
        assert!(a.predict(&tag, DAY0) > P_INIT);
        let later = a.predict(&tag, DAY0 + 12 * 3600);
        assert!(later < P_INIT && later > 0.5, "{later}");
        // Nothing of today survives the day.
        assert_eq!(a.predict(&tag_of(&bob, DAY0 + DAY_S), DAY0 + DAY_S), 0.0);
        assert!(a.summary(&alice, DAY0 + DAY_S).bands.is_empty());
    }

    #[test]
    fn a_neighbour_tells_whom_it_met_and_no_further() {
        let (alice, bob, carol) = (person("Alice"), person("Bob"), person("Carol"));
        // Bob met Carol; Alice meets Bob.
        let mut b = Encounters::default();
        let carol_told = Encounters::default().summary(&carol, DAY0 + 100);
        b.meet(&carol_told, DAY0 + 100);
        let told = b.summary(&bob, DAY0 + 200);
        let carols = tag_of(&carol, DAY0);
        assert!(told.predict(&carols.0) > 0.7, "Bob tells he met Carol");
        let mut a = Encounters::default();
        a.meet(&told, DAY0 + 200);
        // Alice knows she met Bob, and tells so; of Carol she keeps nothing.
        assert_eq!(a.predict(&carols, DAY0 + 200), 0.0);
        let mine = a.summary(&alice, DAY0 + 300);
        assert!(mine.predict(&tag_of(&bob, DAY0).0) > 0.7);
        assert_eq!(mine.predict(&carols.0), 0.0);
    }

    #[test]
    fn a_last_copy_moves_only_up_the_gradient() {
        let carrier = |meets| Toward {
            role: PeerRole::Carrier,
            meets,
        };
        // Copies to spare go to any carrier, as in blind routing.
        assert!(offers(8, carrier(Some(0.3)), 0.3));
        assert!(offers(8, carrier(Some(0.0)), 0.9));
        assert!(!offers(1, carrier(Some(0.35)), 0.3));
        assert!(offers(1, carrier(Some(0.45)), 0.3));
        assert!(!offers(0, carrier(Some(1.0)), 0.0));
        // Blind neighbours and recipients: the spray rule.
        assert!(offers(2, carrier(None), 0.9));
        assert!(!offers(1, carrier(None), 0.0));
        assert!(offers(0, Toward::blind(PeerRole::Recipient), 0.0));
        assert_eq!(split(1, carrier(Some(0.5))), (0, 1));
        assert_eq!(split(1, carrier(None)), (1, 1));
        assert_eq!(split(16, carrier(Some(0.5))), (8, 8));
    }

    /// What crosses a session (summaries) has no identifier that is stable
    /// across two days, and none that is a tag or part of the card; yet a
    /// carrier holding an envelope for the person finds them in it.
    #[test]
    fn a_carriers_view_links_no_two_days() {
        let (alice, bob) = (person("Alice"), person("Bob"));
        let mut a = Encounters::default();
        a.meet(
            &Encounters::default().summary(&bob, DAY0 + 3600),
            DAY0 + 3600,
        );
        let monday = a.summary(&alice, DAY0 + 7200);
        let tuesday_at = DAY0 + DAY_S + 7200;
        a.meet(
            &Encounters::default().summary(&bob, tuesday_at - 3600),
            tuesday_at - 3600,
        );
        let tuesday = a.summary(&alice, tuesday_at);
        let keys = |s: &EncounterSummary| s.met.clone();
        // Bob's own keys on two days share nothing.
        let (b1, b2) = (
            own_keys(&bob, DAY0 + 3600),
            own_keys(&bob, tuesday_at - 3600),
        );
        assert!(b1.iter().all(|k| !b2.contains(k)));
        // Alice's keys, and every band byte, differ between the days.
        assert!(keys(&monday).iter().all(|k| !keys(&tuesday).contains(k)));
        assert_ne!(monday.bands, tuesday.bands);
        for k in b1.iter().chain(&b2) {
            for card_key in [bob.agreement, bob.signing.0] {
                assert!(!card_key.windows(8).any(|w| w == k));
            }
            for d in 0..40 {
                assert_ne!(RoutingTag::direct(&bob, DAY0 + d * DAY_S).0, *k);
            }
        }
        // Yet a carrier of Bob's mail finds him, each day.
        assert!(monday.predict(&tag_of(&bob, DAY0).0) > 0.4);
        assert!(tuesday.predict(&tag_of(&bob, DAY0 + DAY_S).0) > 0.4);
    }
}
