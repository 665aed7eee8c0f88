//! Real nodes (SQLite stores, sealed envelopes, real sessions) over the
//! simulated BLE radio: MTUs of 23, 185 and 517, a throughput cap, seeded
//! random link losses and a connection cap.

use pollen_node::ble::bench::{self, SimClock, T0_MS};
use pollen_node::ble::manager::ManagerConfig;
use pollen_node::ble::sim::{Phone, Radio, World};
use pollen_node::node::Node;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

fn phone(root: &std::path::Path, name: &str, seed: u8, mtu: u16, max_links: usize) -> Phone<Node> {
    let clock = SimClock(Arc::new(AtomicU64::new(T0_MS)));
    let config = ManagerConfig {
        max_links,
        ..ManagerConfig::default()
    };
    bench::phone(root, name, &clock, seed, mtu, config).unwrap()
}

fn texts(node: &Node) -> Vec<String> {
    node.messages(None, 100, None)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect()
}

/// A → B → C in a line, with two bystanders around B and B capped at two
/// links, so B must rotate its links to serve everyone.
fn a_to_c_through_b(mtu: u16, bytes_per_s: u64, drops_per_min: f64, seed: u64) -> World<Node> {
    let root = tempfile::tempdir().unwrap();
    let a = phone(root.path(), "Ana", 11, mtu, 7);
    let b = phone(root.path(), "Bo", 12, mtu, 2);
    let c = phone(root.path(), "Chen", 13, mtu, 7);
    let d = phone(root.path(), "Dee", 14, mtu, 7);
    let e = phone(root.path(), "Eli", 15, mtu, 7);
    a.store.add_contact(&c.store.card(), Some("chen")).unwrap();
    c.store.add_contact(&a.store.card(), Some("ana")).unwrap();
    // Much larger than a GATT value or a record: hundreds of values at MTU 23.
    let long = format!(
        "the ferry leaves at six; {}",
        "bring water and rope. ".repeat(140)
    );
    assert!(long.len() > 3000);
    a.store.send_direct("chen", &long).unwrap();
    a.store.send_direct("chen", "and the short one").unwrap();
    // Unrelated traffic on the bystanders, so B carries more than A's mail.
    d.store.join_channel("market").unwrap();
    d.store
        .send_channel("market", "fresh bread at the square")
        .unwrap();
    // Enough of it that links live long enough for random losses to bite.
    for i in 0..12 {
        d.store
            .send_channel("market", &bench::noise_text(i, 1500))
            .unwrap();
    }
    let radio = Radio {
        bytes_per_s,
        drops_per_min,
        seed,
        ..Radio::default()
    };
    let mut w = World::new(vec![a, b, c, d, e], radio, T0_MS);
    for other in [0, 2, 3, 4] {
        w.set_range(1, other, true);
    }
    let done = w.run_until(30 * 60_000, |w| {
        texts(&w.phones[2].store).contains(&long)
            && w.phones[2].store.status().unwrap().messages >= 2
            && w.phones[0].store.status().unwrap().own_delivered == 2
    });
    assert!(
        done,
        "mtu {mtu}: not delivered in 30 min; {:?}; C has {:?}",
        w.stats,
        texts(&w.phones[2].store).len()
    );
    // B carried it but cannot read it; the cap held on every phone.
    assert!(!texts(&w.phones[1].store).contains(&long));
    assert!(w.stats.max_links_per_phone <= 2, "{:?}", w.stats);
    // Keep the temp dir alive as long as the nodes.
    std::mem::forget(root);
    w
}

#[test]
fn direct_message_a_to_c_through_b_at_mtu_23() {
    let w = a_to_c_through_b(23, 2_000, 2.0, 7);
    assert!(
        w.stats.drops > 0,
        "the seed was meant to drop links: {:?}",
        w.stats
    );
}

#[test]
fn direct_message_a_to_c_through_b_at_mtu_185() {
    let w = a_to_c_through_b(185, 20_000, 120.0, 8);
    assert!(w.stats.drops > 0, "{:?}", w.stats);
}

#[test]
fn direct_message_a_to_c_through_b_at_mtu_517() {
    let w = a_to_c_through_b(517, 60_000, 120.0, 9);
    assert!(w.stats.drops > 0, "{:?}", w.stats);
}

#[test]
fn two_phones_that_both_advertise_and_scan_make_exactly_one_link() {
    for name_only in [false, true] {
        let root = tempfile::tempdir().unwrap();
        let a = phone(root.path(), "Ana", 21, 185, 7);
        let mut b = phone(root.path(), "Bo", 22, 517, 7);
        // One of them an iOS phone: its identifier is in the local name.
        b.name_only = name_only;
        a.store.join_channel("x").unwrap();
        a.store.send_channel("x", "hello").unwrap();
        let mut w = World::new(vec![a, b], Radio::default(), T0_MS);
        w.set_range(0, 1, true);
        assert!(w.run_until(60_000, |w| w.stats.sessions_finished >= 2));
        // And nothing more for a while: in sync, no news, no link.
        w.run_until(60_000, |_| false);
        assert_eq!(w.stats.links_up, 1, "{:?}", w.stats);
        assert_eq!(w.stats.max_parallel_pair_links, 1);
        assert_eq!(w.link_count(), 0, "the link stays up after the sync");
        assert_eq!(w.phones[1].store.status().unwrap().carried_for_others, 1);
    }
}

#[test]
fn goodput_at_mtu_185_and_20_kb_per_s_is_at_least_85_percent() {
    let root = tempfile::tempdir().unwrap();
    let g = bench::goodput(root.path(), 185, 20_000, 60, 1500).unwrap();
    assert_eq!(g.envelopes, 60);
    assert_eq!(g.envelope_bytes, 60 * 2048, "{g:?}");
    assert!(g.share >= 0.85, "{g:?}");
    assert!(g.share <= 1.0, "{g:?}");
}

#[test]
fn two_phones_that_just_met_sync_100_messages() {
    let root = tempfile::tempdir().unwrap();
    let m = bench::meeting(root.path(), 100, 185, 20_000).unwrap();
    assert_eq!(m.links, 1);
    // Discovery within a scan period, then about 100 × 512 B at 20 kB/s.
    assert!(m.ms_to_link < 10_000, "{m:?}");
    assert!(m.ms_to_sync < 15_000, "{m:?}");
    // What the user writes after that sync does not wait out the news gap.
    assert!(m.ms_reply_after_sync <= 2_000, "{m:?}");
}
