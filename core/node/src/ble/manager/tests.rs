//! The link manager against a small event-driven radio of its own: managers
//! only, no sessions (a session is a fixed duration), so the rules are
//! tested in isolation and quickly enough for proptest.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

const T0: u64 = 1_800_000_000_000;
const CONNECT_MS: u64 = 300;
const HELLO_MS: u64 = 50;

#[derive(Debug)]
enum Ev {
    Connected { central: usize, peripheral: usize },
    Hello { link: LinkId },
    SessionEnd { link: LinkId },
    Down { link: LinkId },
}

struct Net {
    m: Vec<LinkManager>,
    range: Vec<Vec<bool>>,
    scanning: Vec<bool>,
    advert: Vec<Option<AdvertId>>,
    /// How long a session between two phones takes.
    duration: Box<dyn Fn(usize, usize) -> u64>,
    queue: BTreeMap<(u64, u64), Ev>,
    seq: u64,
    links: BTreeMap<LinkId, (usize, usize, bool)>,
    next_link: LinkId,
    now: u64,
    /// Finished syncs per (central, peripheral).
    synced: Vec<(u64, usize, usize)>,
    max_pair_links: usize,
    /// Scanners hear advertisements (off: only injected connections happen).
    hearing: bool,
}

impl Net {
    fn new(n: usize, max_links: usize, duration: impl Fn(usize, usize) -> u64 + 'static) -> Net {
        let m = (0..n)
            .map(|i| {
                let mut secret = [0u8; 32];
                secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
                let config = ManagerConfig {
                    max_links,
                    power: PowerMode::Foreground,
                };
                LinkManager::new(AdvertKey::from_secret(secret), config, T0)
            })
            .collect();
        Net {
            m,
            range: vec![vec![false; n]; n],
            scanning: vec![false; n],
            advert: vec![None; n],
            duration: Box::new(duration),
            queue: BTreeMap::new(),
            seq: 0,
            links: BTreeMap::new(),
            next_link: LinkId::FIRST,
            now: T0,
            synced: Vec::new(),
            max_pair_links: 0,
            hearing: true,
        }
    }

    fn link(&mut self, a: usize, b: usize) {
        self.range[a][b] = true;
        self.range[b][a] = true;
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((t, self.seq), ev);
    }

    fn commands(&mut self) {
        for i in 0..self.m.len() {
            while let Some(c) = self.m[i].poll_command() {
                match c {
                    Command::Scan(on) => self.scanning[i] = on,
                    Command::Advertise(a) => self.advert[i] = a,
                    Command::Connect { handle } => {
                        let j: usize = handle.parse().unwrap();
                        self.at(
                            self.now + CONNECT_MS,
                            Ev::Connected {
                                central: i,
                                peripheral: j,
                            },
                        );
                    }
                    Command::Disconnect { link } => {
                        if let Some(l) = self.links.get_mut(&link)
                            && !l.2
                        {
                            l.2 = true;
                            self.at(self.now + 20, Ev::Down { link });
                        }
                    }
                }
            }
        }
    }

    fn pair_links(&self, a: usize, b: usize) -> usize {
        self.links
            .values()
            .filter(|(c, p, closing)| !closing && ((*c, *p) == (a, b) || (*c, *p) == (b, a)))
            .count()
    }

    fn event(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Connected {
                central,
                peripheral,
            } => {
                if !self.range[central][peripheral] || self.advert[peripheral].is_none() {
                    self.m[central].connect_failed(&peripheral.to_string(), now);
                    return;
                }
                let link = self.next_link.take();
                self.links.insert(link, (central, peripheral, false));
                assert!(
                    self.m[central]
                        .link_up(link, &peripheral.to_string(), Role::Central, now)
                        .is_some()
                );
                if self.m[peripheral]
                    .link_up(link, &central.to_string(), Role::Peripheral, now)
                    .is_some()
                {
                    self.at(now + HELLO_MS, Ev::Hello { link });
                }
                let pair = self.pair_links(central, peripheral);
                self.max_pair_links = self.max_pair_links.max(pair);
            }
            Ev::Hello { link } => {
                let Some(&(c, p, closing)) = self.links.get(&link) else {
                    return;
                };
                if closing {
                    return;
                }
                let (ic, ip) = (self.m[c].own_id(now), self.m[p].own_id(now));
                self.m[c].identified(link, ip, now);
                self.m[p].identified(link, ic, now);
                let d = (self.duration)(c, p);
                self.at(now + d, Ev::SessionEnd { link });
            }
            Ev::SessionEnd { link } => {
                let Some(&(c, p, closing)) = self.links.get(&link) else {
                    return;
                };
                if closing {
                    return;
                }
                self.synced.push((now, c, p));
                self.m[c].session_ended(link, true, false, now);
                self.m[p].session_ended(link, true, false, now);
            }
            Ev::Down { link } => {
                if let Some((c, p, _)) = self.links.remove(&link) {
                    self.m[c].link_down(link, now);
                    self.m[p].link_down(link, now);
                }
            }
        }
    }

    /// Runs `ms` of virtual time; scanning phones hear advertisers every 500 ms.
    fn run(&mut self, ms: u64) {
        let end = self.now + ms;
        let mut next_adv = self.now;
        while self.now < end {
            self.commands();
            let next_ev = self.queue.keys().next().map(|k| k.0);
            let next_timer = self.m.iter().filter_map(|m| m.poll_timeout()).min();
            let t = [Some(next_adv), next_ev, next_timer]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(end)
                .max(self.now)
                .min(end);
            self.now = t;
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 > t {
                    break;
                }
                let ev = entry.remove();
                self.event(ev);
                self.commands();
            }
            for m in &mut self.m {
                if m.poll_timeout().is_some_and(|d| d <= t) {
                    m.handle_timeout(t);
                }
            }
            if t >= next_adv {
                next_adv = t + 500;
                let n = self.m.len();
                for s in 0..n {
                    for a in 0..n {
                        if self.hearing
                            && s != a
                            && self.range[s][a]
                            && self.scanning[s]
                            && let Some(id) = self.advert[a]
                        {
                            self.m[s].seen(&a.to_string(), Some(id), t);
                        }
                    }
                }
            }
            self.commands();
            if t == end {
                break;
            }
        }
    }
}

#[test]
fn two_phones_that_see_each_other_make_one_link_from_the_lower_id() {
    let mut net = Net::new(2, DEFAULT_MAX_LINKS, |_, _| 2_000);
    net.link(0, 1);
    net.run(30_000);
    assert_eq!(net.synced.len(), 1, "{:?}", net.synced);
    let (_, central, peripheral) = net.synced[0];
    assert!(net.m[central].own_id(T0) < net.m[peripheral].own_id(T0));
    assert_eq!(net.max_pair_links, 1);
    // Finished: the link was dropped, nobody holds a link now.
    assert!(net.links.is_empty());
    assert_eq!(net.m[0].link_count() + net.m[1].link_count(), 0);
}

#[test]
fn when_both_connect_anyway_both_ends_drop_the_same_link() {
    let mut net = Net::new(2, DEFAULT_MAX_LINKS, |_, _| 5_000);
    net.link(0, 1);
    net.hearing = false;
    let now = net.now;
    net.commands();
    // Both sides connect at once (as after a missed advertisement and the
    // passive wait running out on one side).
    net.at(
        now + CONNECT_MS,
        Ev::Connected {
            central: 0,
            peripheral: 1,
        },
    );
    net.at(
        now + CONNECT_MS,
        Ev::Connected {
            central: 1,
            peripheral: 0,
        },
    );
    net.run(1_000);
    assert_eq!(net.max_pair_links, 2);
    assert_eq!(net.pair_links(0, 1), 1, "{:?}", net.links);
    let (&kept, &(central, _, _)) = net.links.iter().find(|(_, l)| !l.2).unwrap();
    let lower = if net.m[0].own_id(now) < net.m[1].own_id(now) {
        0
    } else {
        1
    };
    assert_eq!(central, lower, "link {kept} kept by the wrong rule");
    net.run(20_000);
    assert_eq!(net.synced.len(), 1, "{:?}", net.synced);
}

#[test]
fn the_higher_id_connects_after_the_passive_wait_if_the_lower_cannot_see_it() {
    let mut net = Net::new(2, DEFAULT_MAX_LINKS, |_, _| 1_000);
    let (lo, hi) = if net.m[0].own_id(T0) < net.m[1].own_id(T0) {
        (0, 1)
    } else {
        (1, 0)
    };
    // Only hi hears lo (asymmetric radio): lo never connects.
    net.range[hi][lo] = true;
    net.range[lo][hi] = true;
    net.scanning[lo] = false;
    net.m[lo].set_power(PowerMode::Saver, T0);
    net.run(PASSIVE_WAIT_MS - 1_000);
    assert!(net.synced.is_empty() || net.synced[0].1 == lo);
    net.run(10_000);
    assert_eq!(net.synced.len(), 1);
}

#[test]
fn what_the_user_wrote_goes_within_two_seconds_of_a_sync_from_either_side() {
    let session_ms = 500;
    let mut net = Net::new(2, DEFAULT_MAX_LINKS, move |_, _| session_ms);
    let (lo, hi) = if net.m[0].own_id(T0) < net.m[1].own_id(T0) {
        (0, 1)
    } else {
        (1, 0)
    };
    net.link(0, 1);
    net.run(5_000);
    assert_eq!(net.synced.len(), 1, "they met: {:?}", net.synced);

    // The higher identifier's user writes: it connects itself, after the
    // one-second gap, instead of waiting out the news gap and the passive wait.
    let wrote = net.now;
    net.m[hi].note_local_write(wrote);
    net.run(3_000);
    assert_eq!(net.synced.len(), 2, "{:?}", net.synced);
    let (at, central, _) = net.synced[1];
    assert_eq!(central, hi, "the writer connected");
    let took = at - wrote;
    assert!(took <= 2_000, "synced {took} ms after the write");

    // News that only passed through still waits the news gap.
    let passed = net.now;
    net.m[hi].note_news(passed);
    net.m[lo].note_news(passed);
    net.run(Schedule::BLE.min_resync_ms / 2);
    assert_eq!(
        net.synced.len(),
        2,
        "no sync before the news gap: {:?}",
        net.synced
    );
}

#[test]
fn at_the_cap_inbound_links_are_refused_and_scanning_and_advertising_stop() {
    let key = AdvertKey::from_secret([3; 32]);
    let config = ManagerConfig {
        max_links: 2,
        power: PowerMode::Foreground,
    };
    let mut m = LinkManager::new(key, config, T0);
    let mut cmds = Vec::new();
    while let Some(c) = m.poll_command() {
        cmds.push(c);
    }
    assert!(cmds.contains(&Command::Scan(true)));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Advertise(Some(_))))
    );
    assert!(m.link_up(LinkId(1), "x", Role::Peripheral, T0).is_some());
    assert!(m.link_up(LinkId(2), "y", Role::Peripheral, T0).is_some());
    let mut cmds = Vec::new();
    while let Some(c) = m.poll_command() {
        cmds.push(c);
    }
    assert_eq!(cmds, vec![Command::Scan(false), Command::Advertise(None)]);
    assert_eq!(m.link_up(LinkId(3), "z", Role::Peripheral, T0), None);
    assert_eq!(
        m.poll_command(),
        Some(Command::Disconnect { link: LinkId(3) })
    );
    m.link_down(LinkId(1), T0 + 10);
    let mut cmds = Vec::new();
    while let Some(c) = m.poll_command() {
        cmds.push(c);
    }
    assert!(cmds.contains(&Command::Scan(true)), "{cmds:?}");
}

#[test]
fn a_failing_neighbour_backs_off_exponentially() {
    let key = AdvertKey::from_secret([4; 32]);
    let mut m = LinkManager::new(key, ManagerConfig::default(), T0);
    while m.poll_command().is_some() {}
    // No identifier: this side connects at once.
    let mut t = T0;
    let mut gaps = Vec::new();
    let mut last = None;
    while gaps.len() < 6 {
        m.seen("n", None, t);
        while let Some(c) = m.poll_command() {
            if let Command::Connect { handle } = c {
                if let Some(l) = last {
                    gaps.push(t - l);
                }
                last = Some(t);
                m.connect_failed(&handle, t);
            }
        }
        t += 500;
        m.handle_timeout(t);
    }
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "{gaps:?}");
    assert!(
        gaps[0] >= Schedule::BLE.backoff_min_ms && gaps[5] >= 16 * Schedule::BLE.backoff_min_ms,
        "{gaps:?}"
    );
}

#[test]
fn duty_cycles_and_their_budget() {
    let fg = PowerMode::Foreground.duty_cycle();
    let bg = PowerMode::Background.duty_cycle();
    // Scanning half the time in the foreground, a twelfth in the background.
    assert_eq!(fg.radio_on_ms_per_hour(), 1_800_000 + 21_600);
    assert_eq!(bg.radio_on_ms_per_hour(), 300_000 + 5_400);
    assert!(PowerMode::Saver.duty_cycle().radio_on_ms_per_hour() < bg.radio_on_ms_per_hour());
    // The scan toggles land where the cycle says.
    assert!(fg.scanning_at(0, 4_999) && !fg.scanning_at(0, 5_000) && fg.scanning_at(0, 10_000));
    assert_eq!(fg.next_toggle(0, 1_000), 5_000);
    assert_eq!(fg.next_toggle(0, 6_000), 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// More neighbours in range than the cap: every one is synced once,
    /// nobody twice before all, within a bounded number of rotations of
    /// the connection slots.
    #[test]
    fn every_neighbour_is_synced_within_bounded_rotations(
        extra in 1usize..24,
        cap in 1usize..=7,
        durations in proptest::collection::vec(200u64..5_000, 32),
    ) {
        let n = cap + extra;
        let durations2 = durations.clone();
        let mut net = Net::new(n + 1, cap, move |a, b| durations2[(a + b) % durations2.len()]);
        for i in 1..=n {
            net.link(0, i);
        }
        let max_session = *durations.iter().max().unwrap();
        let rotations = n.div_ceil(cap) as u64;
        // One rotation: connect, hello, the longest session, the disconnect,
        // and a scan period to hear the next neighbour; plus the passive wait
        // once for neighbours that expect phone 0 to connect.
        let per_rotation = CONNECT_MS + HELLO_MS + max_session + 20 + 10_000;
        let bound = PASSIVE_WAIT_MS + (rotations + 1) * per_rotation;
        net.run(bound);
        let partners: Vec<usize> = net
            .synced
            .iter()
            .filter(|(_, c, p)| *c == 0 || *p == 0)
            .map(|(_, c, p)| if *c == 0 { *p } else { *c })
            .collect();
        let distinct: BTreeSet<usize> = partners.iter().copied().collect();
        prop_assert_eq!(distinct.len(), n, "synced {:?} of {} in {} ms", partners, n, bound);
        // Fairness: phone 0 starts no second sync with anyone while a
        // neighbour has had none. Only whom it connects to is its choice:
        // a neighbour may connect to it again of its own accord at any time
        // (seen: one connecting a millisecond before phone 0 took the last).
        let mut seen = BTreeSet::new();
        for (_, c, p) in net.synced.iter().filter(|(_, c, p)| *c == 0 || *p == 0) {
            let partner = if *c == 0 { *p } else { *c };
            if *c == 0 && seen.contains(&partner) {
                prop_assert_eq!(seen.len(), n, "phone 0 synced {} again first: {:?}", partner, partners);
            }
            seen.insert(partner);
        }
    }
}

/// The advertising interval belongs to the power mode, so a mode change
/// must reach the radio at once, not at the next identifier rotation.
#[test]
fn a_power_change_asks_for_the_advertisement_again() {
    let mut m = LinkManager::new(
        AdvertKey::from_secret([9; 32]),
        ManagerConfig::default(),
        T0,
    );
    while m.poll_command().is_some() {}
    m.set_power(PowerMode::Background, T0 + 1);
    let commands: Vec<Command> = std::iter::from_fn(|| m.poll_command()).collect();
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Advertise(Some(_)))),
        "{commands:?}"
    );
    m.set_power(PowerMode::Background, T0 + 2);
    assert_eq!(m.poll_command(), None, "the same mode changes nothing");
}

#[test]
fn d7_a_flood_of_fresh_identifiers_keeps_the_neighbour_table_bounded() {
    let mut m = LinkManager::new(
        AdvertKey::from_secret([1; 32]),
        ManagerConfig::default(),
        T0,
    );
    let honest = AdvertId([0xff; 8]);
    m.seen("honest", Some(honest), T0);
    for i in 0..5_000u64 {
        m.seen(
            &format!("fake-{i}"),
            Some(AdvertId(i.to_le_bytes())),
            T0 + i,
        );
        assert!(m.neighbour_count() <= MAX_NEIGHBOURS);
    }
    assert_eq!(m.neighbour_count(), MAX_NEIGHBOURS);
    // The flood stops; the fakes are forgotten and the honest neighbour,
    // heard again, is connected to.
    let later = T0 + 5_000 + FORGET_MS;
    m.handle_timeout(later);
    while m.poll_command().is_some() {}
    m.seen("honest", Some(honest), later);
    let mut commands = Vec::new();
    while let Some(c) = m.poll_command() {
        commands.push(c);
    }
    assert!(
        commands.contains(&Command::Connect {
            handle: "honest".into()
        }),
        "{commands:?}"
    );
}
