//! Properties every scenario must have, checked on small variants that run
//! in well under a second in a debug build.

use super::*;
use crate::oracle::{Message, Oracle};
use crate::trace::parse;

/// Small variants of each built-in scenario.
pub(crate) fn small(name: &str, seed: u64) -> Scenario {
    by_name(name, &ScenarioParams::small(name, seed).unwrap()).unwrap()
}

/// Checks every structural promise of [`Scenario`].
fn check(s: &Scenario) {
    let n = s.roles.len() as u32;
    assert_eq!(s.trace.nodes, n, "{}", s.name);
    assert_eq!(s.trace.end, s.duration);
    let role = |id: u32| s.roles[id as usize];
    let relays = s.ids_of(Role::Relay);
    assert!(relays.len() <= 1);
    if let Some(&r) = relays.first() {
        assert_eq!(r, n - 1, "the relay is the last node");
    }
    assert!(
        s.trace
            .contacts
            .windows(2)
            .all(|w| w[0].start <= w[1].start),
        "contacts sorted by start"
    );
    for c in &s.trace.contacts {
        assert!(c.a < c.b && c.b < n, "{c:?}");
        assert!(
            0.0 <= c.start && c.start < c.end && c.end <= s.duration,
            "{c:?}"
        );
        match c.kind {
            LinkKind::Uplink => {
                assert_eq!(role(c.a), Role::Gateway, "{c:?}");
                assert_eq!(role(c.b), Role::Relay, "{c:?}");
            }
            LinkKind::Lan => {
                assert_eq!((role(c.a), role(c.b)), (Role::Person, Role::Person));
            }
            LinkKind::Ble => {
                assert!(role(c.a) != Role::Relay && role(c.b) != Role::Relay);
            }
        }
    }
    // Contacts of one pair and kind never overlap: merging has run.
    let mut by_pair = s.trace.contacts.clone();
    by_pair.sort_by(|x, y| {
        (x.a, x.b, x.kind)
            .cmp(&(y.a, y.b, y.kind))
            .then(x.start.total_cmp(&y.start))
    });
    for w in by_pair.windows(2) {
        if (w[0].a, w[0].b, w[0].kind) == (w[1].a, w[1].b, w[1].kind) {
            assert!(w[0].end < w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
        }
    }

    let person = |id: u32| id < n && role(id) == Role::Person;
    for g in &s.groups {
        assert!(!g.is_empty() && g.iter().all(|&m| person(m)), "{g:?}");
    }
    assert!(s.channel.iter().all(|&m| person(m)));
    assert!(s.messages.windows(2).all(|w| w[0].at <= w[1].at));
    for m in &s.messages {
        assert!(person(m.from), "{m:?}");
        assert!(0.0 <= m.at && m.at < s.duration, "{m:?}");
        assert!(m.size >= 1 && m.ttl > 0.0);
        match m.to {
            Target::Direct(to) => assert!(person(to) && to != m.from, "{m:?}"),
            Target::Group(g) => assert!(s.groups[g as usize].contains(&m.from), "{m:?}"),
            Target::Channel => assert!(s.channel.contains(&m.from), "{m:?}"),
        }
    }
}

/// Direct messages (and one recipient per group message) the oracle can
/// deliver, as a share.
fn oracle_share(s: &Scenario) -> f64 {
    let oracle = Oracle::new(&s.trace);
    let msgs: Vec<Message> = s
        .messages
        .iter()
        .filter_map(|m| {
            let destination = match m.to {
                Target::Direct(to) => to,
                Target::Group(g) => *s.groups[g as usize].iter().find(|&&x| x != m.from)?,
                Target::Channel => return None,
            };
            Some(Message {
                source: m.from,
                destination,
                created_at: m.at,
                ttl: m.ttl,
            })
        })
        .collect();
    assert!(!msgs.is_empty());
    let delivered = msgs
        .iter()
        .filter(|m| oracle.earliest_delivery(m).is_some())
        .count();
    delivered as f64 / msgs.len() as f64
}

#[test]
fn festival_small_is_sane_and_mostly_deliverable() {
    let s = small("festival", 1);
    check(&s);
    assert_eq!(s.persons().len(), 120);
    assert_eq!(s.ids_of(Role::Gateway).len(), 1);
    assert!(s.groups.iter().all(|g| g.len() <= 6));
    assert!(s.groups.iter().filter(|g| g.len() >= 3).count() >= s.groups.len() - 1);
    assert_eq!(s.count(LinkKind::Uplink), 1);
    assert!(s.count(LinkKind::Ble) > 200, "{}", s.count(LinkKind::Ble));
    // 3,000 messages for 2,000 people over 6 h, scaled to 120 over 2 h.
    assert_eq!(s.messages.len(), 60);
    // Messages live as long as the (shortened) event.
    assert!(s.messages.iter().all(|m| m.ttl == s.duration));
    assert!(s.messages.iter().any(|m| m.to == Target::Channel));
    let share = oracle_share(&s);
    assert!((0.5..=1.0).contains(&share), "{share}");
}

#[test]
fn village_small_has_market_lan_and_a_bus_online_near_town() {
    let s = small("village", 2);
    check(&s);
    assert_eq!(s.persons().len(), 48);
    let bus = s.ids_of(Role::Gateway)[0];
    let uplinks: Vec<&Contact> = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Uplink)
        .collect();
    // At the depot overnight, then out and back twice: online at the
    // depot and near the valley mouth, offline up the valley.
    assert!(uplinks.len() >= 3, "{uplinks:?}");
    let online: f64 = uplinks.iter().map(|c| c.end - c.start).sum();
    assert!(online > 0.7 * s.duration && online < s.duration, "{online}");
    let lan: Vec<&Contact> = s
        .trace
        .contacts
        .iter()
        .filter(|c| c.kind == LinkKind::Lan)
        .collect();
    assert!(!lan.is_empty());
    for c in &lan {
        let clock = c.start / 3600.0 % 24.0;
        assert!((7.5..12.0).contains(&clock), "{c:?}");
    }
    // The bus meets people on its runs, not only at the depot.
    assert!(
        s.trace
            .contacts
            .iter()
            .any(|c| c.kind == LinkKind::Ble && c.b == bus)
    );
    // Households chat; announcements go to the village channel.
    assert_eq!(s.channel.len(), 48);
    assert!(s.messages.iter().any(|m| m.to == Target::Channel));
    let share = oracle_share(&s);
    assert!((0.4..=1.0).contains(&share), "{share}");
}

#[test]
fn city_small_is_sane_with_always_online_gateways() {
    let s = small("city", 3);
    check(&s);
    assert_eq!(s.ids_of(Role::Gateway).len(), 5);
    assert_eq!(s.count(LinkKind::Uplink), 5);
    assert_eq!(s.count(LinkKind::Lan), 0);
    assert!(s.channel.is_empty());
    assert!(s.count(LinkKind::Ble) > 100);
    let share = oracle_share(&s);
    assert!((0.05..=1.0).contains(&share), "{share}");
}

#[test]
fn social_small_is_sane_with_gateways_only_some_of_the_time() {
    let s = small("social", 4);
    check(&s);
    assert_eq!(s.persons().len(), 300);
    // Four districts, one with power: one gateway, up a third of the day.
    assert_eq!(s.ids_of(Role::Gateway).len(), 1);
    assert_eq!(s.count(LinkKind::Uplink), 2);
    assert_eq!(s.count(LinkKind::Lan), 0);
    assert!(s.channel.is_empty());
    assert!(s.count(LinkKind::Ble) > 1000, "{}", s.count(LinkKind::Ble));
    let share = oracle_share(&s);
    assert!((0.5..=1.0).contains(&share), "{share}");
}

/// One seed, one scenario, bit for bit; another seed, another scenario.
fn deterministic(name: &str) {
    let a = small(name, 7);
    assert_eq!(a, small(name, 7), "{name}");
    let b = small(name, 8);
    assert_ne!(a.trace, b.trace, "{name}");
    assert_ne!(a.messages, b.messages, "{name}");
}

#[test]
fn festival_is_deterministic() {
    deterministic("festival");
}

#[test]
fn village_is_deterministic() {
    deterministic("village");
}

#[test]
fn city_is_deterministic() {
    deterministic("city");
}

#[test]
fn social_is_deterministic() {
    deterministic("social");
}

#[test]
fn overrides_apply() {
    let p = ScenarioParams {
        seed: 1,
        people: Some(30),
        duration_s: Some(1800.0),
        messages: Some(77),
        ttl_s: Some(60.0),
        msg_size: Some((5, 9)),
        ble_range_m: Some(3.0),
        step_s: Some(2.0),
        min_contact_s: Some(0.0),
    };
    let s = festival(&p).unwrap();
    check(&s);
    assert_eq!(s.persons().len(), 30);
    assert_eq!(s.duration, 1800.0);
    assert_eq!(s.messages.len(), 77);
    assert!(
        s.messages
            .iter()
            .all(|m| m.ttl == 60.0 && (5..=9).contains(&m.size))
    );
    // A wider radio range finds more contacts on the same movements.
    let wide = festival(&ScenarioParams {
        ble_range_m: Some(20.0),
        ..p
    })
    .unwrap();
    assert!(wide.count(LinkKind::Ble) > s.count(LinkKind::Ble));
}

#[test]
fn bad_names_and_params_are_typed_errors() {
    assert_eq!(
        by_name("carnival", &ScenarioParams::default()),
        Err(ScenarioError::UnknownScenario("carnival".into()))
    );
    assert!(ScenarioParams::small("carnival", 1).is_err());
    let bad = [
        ScenarioParams {
            people: Some(1),
            ..Default::default()
        },
        ScenarioParams {
            people: Some(10_000_000),
            ..Default::default()
        },
        ScenarioParams {
            duration_s: Some(0.0),
            ..Default::default()
        },
        ScenarioParams {
            duration_s: Some(f64::NAN),
            ..Default::default()
        },
        ScenarioParams {
            ttl_s: Some(-1.0),
            ..Default::default()
        },
        ScenarioParams {
            msg_size: Some((300, 20)),
            ..Default::default()
        },
        ScenarioParams {
            msg_size: Some((0, 20)),
            ..Default::default()
        },
        ScenarioParams {
            ble_range_m: Some(f64::INFINITY),
            ..Default::default()
        },
        ScenarioParams {
            ble_range_m: Some(1e-300),
            ..Default::default()
        },
        ScenarioParams {
            min_contact_s: Some(-1.0),
            ..Default::default()
        },
        ScenarioParams {
            messages: Some(u32::MAX),
            ..Default::default()
        },
        ScenarioParams {
            step_s: Some(0.0),
            ..Default::default()
        },
    ];
    for p in bad {
        for name in NAMES {
            assert!(
                matches!(by_name(name, &p), Err(ScenarioError::BadParam { .. })),
                "{name} {p:?}"
            );
        }
    }
}

#[test]
fn trace_replay_gets_a_direct_message_workload_between_active_nodes() {
    // Node 2 never appears: nobody writes to or from it.
    let trace =
        parse("0 CONN 0 1 up\n50 CONN 0 1 down\n60 CONN 1 3 up\n100 CONN 1 3 down\n").unwrap();
    let p = ScenarioParams {
        seed: 5,
        messages: Some(40),
        ..Default::default()
    };
    let s = from_trace(trace.clone(), &p).unwrap();
    check(&s);
    assert_eq!(s.name, "trace");
    assert_eq!(s.trace.contacts, trace.contacts);
    assert_eq!(s.roles, vec![Role::Person; 4]);
    assert_eq!(s.messages.len(), 40);
    for m in &s.messages {
        assert!(m.at < 90.0 && m.from != 2 && m.to != Target::Direct(2));
        assert_eq!(m.ttl, 86_400.0);
    }
    assert_eq!(s, from_trace(trace.clone(), &p).unwrap());
    let default = from_trace(trace.clone(), &ScenarioParams::default()).unwrap();
    assert_eq!(default.messages.len(), 200);
    assert!(matches!(
        from_trace(
            trace,
            &ScenarioParams {
                people: Some(10),
                ..Default::default()
            }
        ),
        Err(ScenarioError::BadParam { .. })
    ));
}

#[test]
fn unusable_traces_are_typed_errors() {
    let p = ScenarioParams::default();
    let huge = parse("0 CONN 0 4294967294 up\n").unwrap();
    assert!(matches!(
        from_trace(huge, &p),
        Err(ScenarioError::BadTrace(_))
    ));
    let contact = |a, b, start, end| Contact {
        a,
        b,
        start,
        end,
        kind: LinkKind::Ble,
    };
    for c in [
        contact(1, 1, 0.0, 1.0),
        contact(2, 1, 0.0, 1.0),
        contact(0, 5, 0.0, 1.0),
        contact(0, 1, 2.0, 1.0),
        contact(0, 1, f64::NAN, 1.0),
    ] {
        let trace = Trace {
            contacts: vec![c],
            nodes: 3,
            end: 5.0,
        };
        assert!(
            matches!(from_trace(trace, &p), Err(ScenarioError::BadTrace(_))),
            "{c:?}"
        );
    }
}

#[test]
fn the_smallest_scenarios_are_still_sane() {
    for name in NAMES {
        for people in [2, 3, 7] {
            let p = ScenarioParams {
                seed: u64::from(people),
                people: Some(people),
                duration_s: Some(900.0),
                ..Default::default()
            };
            let s = by_name(name, &p).unwrap();
            check(&s);
            assert_eq!(s.persons().len(), people as usize, "{name}");
        }
    }
}

mod random_params {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Whatever the (valid) parameters, every structural promise holds
        /// and an explicit workload size is met exactly.
        #[test]
        fn any_valid_params_give_a_sane_scenario(
            which in 0usize..NAMES.len(),
            seed in any::<u64>(),
            people in 2u32..40,
            minutes in 5u32..240,
            messages in 0u32..80,
            range in 1.0f64..30.0,
            step in 1.0f64..20.0,
        ) {
            let p = ScenarioParams {
                seed,
                people: Some(people),
                duration_s: Some(f64::from(minutes) * 60.0),
                messages: Some(messages),
                ble_range_m: Some(range),
                step_s: Some(step),
                ..Default::default()
            };
            let s = by_name(NAMES[which], &p).unwrap();
            check(&s);
            prop_assert_eq!(s.messages.len(), messages as usize);
        }
    }
}
