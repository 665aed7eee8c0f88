use super::*;
use crate::envelope::{Commitment, DeliveryProof, EnvelopeId, RoutingTag};
use crate::sync::frame::MAX_RECORD;
use crate::sync::handshake::{self, MAGIC};
use crate::sync::message::HeldDays;
use crate::sync::pump::{LinkModel, pump, pump_with};
use crate::sync::recon::{ReconItem, Reconciler};
use crate::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, Received, SyncStoreError, Toward, proof_item_id,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

const T0: u64 = 1_700_000_000_000;
const EXPIRY: u64 = 1_700_000_000 + 86_400;

/// An in-memory store: envelopes are opaque blobs whose id is their BLAKE3
/// and whose commitment is BLAKE3 of a secret that the test may publish.
#[derive(Default)]
struct MemStore {
    held: BTreeMap<[u8; 32], (Vec<u8>, LocalItem)>,
    proofs: HashMap<[u8; 32], ([u8; 32], u64)>,
    seen: HashSet<[u8; 32]>,
    ingested: HashMap<[u8; 32], u32>,
    direct: Vec<RoutingTag>,
    /// Envelopes with these tags "open" here and yield their proof.
    mine: HashMap<[u8; 32], [u8; 32]>,
    /// The copy budget this store hands over with each envelope, if any.
    budget: Option<u32>,
    /// Budgets received with envelopes, by id.
    budgets: HashMap<[u8; 32], u32>,
    /// Envelopes this store's policy keeps from every neighbour (a carrier's
    /// last copy).
    held_back: HashSet<[u8; 32]>,
    /// Each `handover` call's envelopes, in order.
    handovers: Vec<Vec<[u8; 32]>>,
    /// Envelopes the peer acknowledged (`handed_over`), in order.
    acked: Vec<[u8; 32]>,
    /// Envelopes whose copies came back at link loss (`refund`), in order.
    refunded: Vec<[u8; 32]>,
}

fn envelope(n: u64, size: usize) -> (Vec<u8>, [u8; 32]) {
    let secret = *blake3::hash(&n.to_le_bytes()).as_bytes();
    let mut bytes = vec![0u8; size.max(40)];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes[8..40].copy_from_slice(blake3::hash(&secret).as_bytes());
    (bytes, secret)
}

impl MemStore {
    fn add(&mut self, bytes: Vec<u8>, tag: [u8; 8]) -> [u8; 32] {
        let id = *blake3::hash(&bytes).as_bytes();
        let mut commitment = [0u8; 32];
        commitment.copy_from_slice(&bytes[8..40]);
        let item = LocalItem {
            id,
            expires_at: EXPIRY,
            kind: ItemKind::Envelope {
                tag: RoutingTag(tag),
                commitment: Commitment(commitment),
            },
        };
        self.held.insert(id, (bytes, item));
        id
    }

    fn ids(&self) -> HashSet<[u8; 32]> {
        self.held.keys().copied().collect()
    }
}

impl SyncStore for MemStore {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        let mut out: Vec<LocalItem> = self.held.values().map(|(_, i)| *i).collect();
        for (c, (_, exp)) in &self.proofs {
            out.push(LocalItem {
                id: proof_item_id(&Commitment(*c)),
                expires_at: *exp,
                kind: ItemKind::Proof {
                    commitment: Commitment(*c),
                },
            });
        }
        Ok(out)
    }

    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        // Every envelope here expires at EXPIRY: so do the tags wanted.
        let day = RoutingTag::day_of(EXPIRY);
        Ok(Interests {
            direct: self.direct.iter().map(|t| (day, *t)).collect(),
            shared: Vec::new(),
        })
    }

    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        Ok(self.held.get(&id.0).map(|(b, _)| b.clone()))
    }

    fn proof(&mut self, commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        Ok(self
            .proofs
            .get(&commitment.0)
            .map(|(s, _)| DeliveryProof(*s)))
    }

    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        Ok(self.seen.contains(&id.0))
    }

    fn handover(
        &mut self,
        items: &[(EnvelopeId, Toward)],
    ) -> Result<Vec<Option<u32>>, SyncStoreError> {
        self.handovers
            .push(items.iter().map(|(id, _)| id.0).collect());
        Ok(vec![self.budget; items.len()])
    }

    fn handed_over(&mut self, ids: &[EnvelopeId]) -> Result<(), SyncStoreError> {
        self.acked.extend(ids.iter().map(|id| id.0));
        Ok(())
    }

    fn refund(&mut self, id: &EnvelopeId, _copies: u32) -> Result<(), SyncStoreError> {
        self.refunded.push(id.0);
        Ok(())
    }

    fn offer_to(&mut self, item: &LocalItem, _: Toward) -> Result<bool, SyncStoreError> {
        Ok(!self.held_back.contains(&item.id))
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        _origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        let mut out = Vec::new();
        let mut fresh = Vec::new();
        for item in items {
            match item {
                Incoming::Envelope(_) | Incoming::Copy { .. } => {
                    let bytes = item.envelope().unwrap_or_default();
                    let id = *blake3::hash(bytes).as_bytes();
                    if let Incoming::Copy { copies, .. } = item {
                        self.budgets.insert(id, *copies);
                    }
                    *self.ingested.entry(id).or_default() += 1;
                    if self.held.contains_key(&id) || self.seen.contains(&id) {
                        out.push(Received::Duplicate);
                    } else if let Some(secret) = self.mine.get(&id).copied() {
                        self.seen.insert(id);
                        let c = *blake3::hash(&secret).as_bytes();
                        self.proofs.insert(c, (secret, EXPIRY));
                        fresh.push(DeliveryProof(secret));
                        out.push(Received::Opened);
                    } else {
                        self.add(bytes.to_vec(), [0; 8]);
                        out.push(Received::Carried);
                    }
                }
                Incoming::Proof(secret) => {
                    let c = *blake3::hash(secret.as_bytes()).as_bytes();
                    if self.proofs.contains_key(&c) {
                        out.push(Received::ProofKnown);
                        continue;
                    }
                    let before = self.held.len();
                    self.held.retain(|_, (b, _)| b[8..40] != c);
                    self.proofs.insert(c, (secret.0, EXPIRY));
                    out.push(Received::Proof {
                        purged: before - self.held.len(),
                        delivered: false,
                    });
                }
                Incoming::Chunk(_) | Incoming::ChunkCopy { .. } => {
                    out.push(Received::Rejected("bad_chunk"))
                }
            }
        }
        Ok((out, fresh))
    }
}

fn pair(max_record: usize) -> (Session, Session) {
    let mut a = SessionConfig::tcp(true, "a");
    let mut b = SessionConfig::tcp(false, "b");
    a.max_record = max_record;
    b.max_record = max_record;
    if max_record < 1024 {
        a.window = 8 << 10;
        b.window = 8 << 10;
    }
    (Session::new(a, T0), Session::new(b, T0))
}

fn stores(n_a: u64, n_b: u64, shared: u64) -> (MemStore, MemStore) {
    let (mut a, mut b) = (MemStore::default(), MemStore::default());
    for n in 0..shared {
        let (e, _) = envelope(n, 300);
        a.add(e.clone(), [1; 8]);
        b.add(e, [1; 8]);
    }
    for n in 0..n_a {
        a.add(
            envelope(1_000_000 + n, 200 + (n as usize * 37) % 1500).0,
            [2; 8],
        );
    }
    for n in 0..n_b {
        b.add(envelope(2_000_000 + n, 500).0, [3; 8]);
    }
    (a, b)
}

fn closed_reason(events: &[SessionEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        SessionEvent::Closed(err) => Some(err.to_string()),
        _ => None,
    })
}

#[test]
fn two_sides_end_with_the_union_and_finish() {
    let (mut sa, mut sb) = stores(40, 25, 100);
    let union: HashSet<_> = sa.ids().union(&sb.ids()).copied().collect();
    let (mut a, mut b) = pair(MAX_RECORD);
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    assert_eq!(sa.ids(), union);
    assert_eq!(sb.ids(), union);
    assert_eq!(a.stats().envelopes_sent, 40);
    assert_eq!(b.stats().envelopes_sent, 25);
    assert_eq!(a.stats().carried, 25);
    assert!(
        sa.ingested
            .values()
            .chain(sb.ingested.values())
            .all(|&n| n == 1)
    );
}

#[test]
fn identical_sides_exchange_only_a_few_hundred_bytes() {
    let (mut sa, mut sb) = stores(0, 0, 2000);
    let (mut a, mut b) = pair(MAX_RECORD);
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished);
    assert_eq!(a.stats().envelopes_sent + b.stats().envelopes_sent, 0);
    // Preamble, handshake, hellos, one reconciliation round trip, wants, dones.
    assert!(r.bytes[0] + r.bytes[1] < 1200, "{:?}", r.bytes);
    // Version 4: a 20-byte whole-set fingerprint and a 1-byte answer.
    assert_eq!((a.stats().recon_bytes, a.stats().recon_rounds), (21, 1));
    assert_eq!(b.stats().recon_bytes, 21);
}

#[test]
fn version_3_peers_still_reconcile_with_negentropys_own_opening() {
    for (a_version, b_version) in [(handshake::VERSION, 3), (3, handshake::VERSION)] {
        let (mut sa, mut sb) = stores(30, 20, 2000);
        let union: HashSet<_> = sa.ids().union(&sb.ids()).copied().collect();
        let mut ca = SessionConfig::tcp(true, "a");
        let mut cb = SessionConfig::tcp(false, "b");
        ca.max_version = a_version;
        cb.max_version = b_version;
        let (mut a, mut b) = (Session::new(ca, T0), Session::new(cb, T0));
        let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
        assert!(r.finished, "{:?}", r.events);
        assert_eq!((sa.ids(), sb.ids()), (union.clone(), union));
        // In sync now, yet negentropy's opening is 16 fingerprinted ranges.
        let mut ca = SessionConfig::tcp(true, "a");
        ca.max_version = a_version;
        let mut cb = SessionConfig::tcp(false, "b");
        cb.max_version = b_version;
        let (mut a, mut b) = (Session::new(ca, T0), Session::new(cb, T0));
        let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
        assert!(r.finished, "{:?}", r.events);
        assert!(a.stats().recon_bytes > 300, "{}", a.stats().recon_bytes);
    }
}

#[test]
fn a_180_byte_link_with_a_throughput_cap_completes() {
    let (mut sa, mut sb) = stores(30, 30, 200);
    let union: HashSet<_> = sa.ids().union(&sb.ids()).copied().collect();
    let (mut a, mut b) = pair(180);
    let model = LinkModel {
        bytes_per_ms: 20, // 20 kB/s, a slow BLE link
        latency_ms: 15,
        ..LinkModel::default()
    };
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, model, T0);
    assert!(r.finished, "{:?}", r.events);
    assert_eq!(sa.ids(), union);
    assert_eq!(sb.ids(), union);
    assert!(matches!(
        r.events[0][0],
        SessionEvent::Established {
            max_record: 180,
            ..
        }
    ));
}

#[test]
fn envelopes_for_the_neighbour_go_first_then_proofs() {
    let (mut sa, mut sb) = stores(50, 0, 0);
    // B wants tag [9; 8]: A holds three such envelopes among fifty.
    sb.direct = vec![RoutingTag([9; 8])];
    let urgent: Vec<_> = (0..3)
        .map(|n| sa.add(envelope(5_000 + n, 900).0, [9; 8]))
        .collect();
    let (c, secret) = {
        let (_, s) = envelope(77, 100);
        (*blake3::hash(&s).as_bytes(), s)
    };
    sa.proofs.insert(c, (secret, EXPIRY));
    let (mut a, mut b) = pair(MAX_RECORD);
    // A tiny window makes the order observable: one item at a time.
    b.config.window = 1;
    b.transfer = transfer::Transfer::new(&b.config);
    let mut order = Vec::new();
    struct Spy<'a>(&'a mut MemStore, &'a mut Vec<Incoming>);
    impl SyncStore for Spy<'_> {
        fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
            self.0.items()
        }
        fn interests(&mut self) -> Result<Interests, SyncStoreError> {
            self.0.interests()
        }
        fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
            self.0.envelope(id)
        }
        fn proof(&mut self, c: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
            self.0.proof(c)
        }
        fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
            self.0.seen(id)
        }
        fn ingest(
            &mut self,
            items: &[Incoming],
            origin: &str,
        ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
            self.1.extend(items.iter().cloned());
            self.0.ingest(items, origin)
        }
    }
    let mut spy = Spy(&mut sb, &mut order);
    let r = pump(&mut a, &mut sa, &mut b, &mut spy, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    let first: Vec<[u8; 32]> = order[..3]
        .iter()
        .map(|i| {
            i.envelope()
                .map_or([0; 32], |b| *blake3::hash(b).as_bytes())
        })
        .collect();
    assert_eq!(
        first.iter().collect::<HashSet<_>>(),
        urgent.iter().collect::<HashSet<_>>()
    );
    assert_eq!(order[3], Incoming::Proof(DeliveryProof(secret)));
    assert_eq!(order.len(), 54);
}

#[test]
fn a_proof_purges_the_carried_copy_and_a_forged_one_purges_nothing() {
    let (mut sa, mut sb) = (MemStore::default(), MemStore::default());
    let (bytes, secret) = envelope(1, 400);
    let id = sa.add(bytes.clone(), [4; 8]);
    sb.mine.insert(id, secret);
    let forged = [0xAB; 32];
    sb.proofs
        .insert(*blake3::hash(&forged).as_bytes(), (forged, EXPIRY));
    let (mut a, mut b) = pair(MAX_RECORD);
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    // B opened it and sent the proof back in the same session: A dropped its copy.
    assert!(sa.held.is_empty());
    assert_eq!(a.stats().purged, 1);
    assert!(sa.proofs.contains_key(blake3::hash(&secret).as_bytes()));
    // The forged proof travelled too (A asked for it) but matched nothing.
    assert_eq!(b.stats().proofs_sent, 2);
    assert_eq!(sa.proofs.len(), 2);
}

#[test]
fn a_proof_both_sides_know_is_not_sent_again_whatever_its_local_expiry() {
    // One node learnt the proof with its envelope (the envelope's expiry),
    // the other without (its own default): the proof is still one item.
    let (mut sa, mut sb) = (MemStore::default(), MemStore::default());
    for n in 0..50u64 {
        let (_, secret) = envelope(n, 100);
        let c = *blake3::hash(&secret).as_bytes();
        sa.proofs.insert(c, (secret, EXPIRY));
        sb.proofs.insert(c, (secret, EXPIRY + 86_400 + n));
    }
    let (mut a, mut b) = pair(MAX_RECORD);
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    assert_eq!(a.stats().proofs_sent + b.stats().proofs_sent, 0);
    assert_eq!(a.stats().duplicates + b.stats().duplicates, 0);
}

#[test]
fn copy_budgets_travel_in_version_2_between_neighbours_only() {
    // (routed, the responder's version, the budget it should get)
    let cases = [
        (true, handshake::VERSION, Some(5)),
        (true, 1, None),
        // Offering everything (towards a relay) spends no budget.
        (false, handshake::VERSION, None),
    ];
    for (routed, b_version, want) in cases {
        let (mut sa, mut sb) = stores(3, 0, 0);
        sa.budget = Some(5);
        let mut ca = SessionConfig::tcp(true, "a");
        if routed {
            ca = ca.routed();
        }
        let mut a = Session::new(ca, T0);
        let mut cb = SessionConfig::tcp(false, "b").routed();
        cb.max_version = b_version;
        let mut b = Session::new(cb, T0);
        let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
        assert!(r.finished, "{:?}", r.events);
        assert_eq!(sb.held.len(), 3);
        let budgets: Vec<u32> = sb
            .held
            .keys()
            .filter_map(|id| sb.budgets.get(id).copied())
            .collect();
        match want {
            Some(n) => assert_eq!(budgets, vec![n; 3], "version {b_version}"),
            None => assert!(budgets.is_empty(), "routed {routed}, version {b_version}"),
        }
        let version = |events: &[SessionEvent]| {
            events.iter().find_map(|e| match e {
                SessionEvent::Established { version, .. } => Some(*version),
                _ => None,
            })
        };
        assert_eq!(version(&r.events[0]), Some(b_version));
        assert_eq!(version(&r.events[1]), Some(b_version));
    }
}

#[test]
fn unknown_versions_get_a_clear_close_reason() {
    let mut sb = MemStore::default();
    let mut b = Session::new(SessionConfig::tcp(false, "b"), T0);
    let mut future = MAGIC.to_vec();
    future.extend_from_slice(&[9, 9, 0xff, 0xff]);
    b.handle_input(&future, T0, &mut sb);
    let reason = closed_reason(&std::iter::from_fn(|| b.poll_event()).collect::<Vec<_>>());
    assert_eq!(
        reason.as_deref(),
        Some("handshake: unsupported version: peer speaks 9..=9, this node speaks 1..=8")
    );
    // The peer is told why, in cleartext, after our preamble.
    let out: Vec<u8> = std::iter::from_fn(|| b.poll_transmit(&mut sb))
        .flatten()
        .collect();
    assert!(
        String::from_utf8_lossy(&out[8..]).contains("unsupported version"),
        "{out:?}"
    );
    // And a peer on our side of that exchange reports the reason it was given.
    let mut sa = MemStore::default();
    let mut a = Session::new(SessionConfig::tcp(true, "a"), T0);
    let mut theirs = future.clone();
    theirs.extend_from_slice(&out[8..]);
    a.handle_input(&theirs, T0, &mut sa);
    let reason = closed_reason(&std::iter::from_fn(|| a.poll_event()).collect::<Vec<_>>());
    assert!(reason.unwrap().contains("unsupported version"));
}

fn drain_events(s: &mut Session) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn garbage_a_lying_length_and_a_stalled_handshake_disconnect() {
    let mut st = MemStore::default();
    let mut s = Session::new(SessionConfig::tcp(false, "x"), T0);
    s.handle_input(b"GET / HTTP/1.1\r\n\r\n", T0, &mut st);
    assert!(
        closed_reason(&drain_events(&mut s))
            .unwrap()
            .contains("not a Pollen peer")
    );

    let mut s = Session::new(SessionConfig::small(false, "x", 180), T0);
    let mut bytes = handshake::Preamble::ours(180).encode().to_vec();
    bytes.extend_from_slice(&[0xff, 0xff, 1, 2, 3]);
    s.handle_input(&bytes, T0, &mut st);
    let reason = closed_reason(&drain_events(&mut s)).unwrap();
    assert!(reason.starts_with("framing:"), "{reason}");

    let mut s = Session::new(SessionConfig::tcp(false, "x"), T0);
    s.handle_input(&handshake::Preamble::ours(4096).encode(), T0, &mut st);
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + 10_000);
    s.handle_timeout(deadline, &mut st);
    assert_eq!(
        closed_reason(&drain_events(&mut s)).as_deref(),
        Some("handshake timed out after 10000 ms")
    );
    assert!(s.poll_timeout().is_none());
}

/// A peer that completes the handshake honestly, then sends whatever plaintext
/// records a test wants, encrypted.
struct Hostile {
    noise: snow::TransportState,
    victim: Session,
    store: MemStore,
    /// What the victim wrote after its handshake reply, still to read.
    inbox: RecordDecoder,
    reassembler: crate::sync::frame::Reassembler,
}

impl Hostile {
    fn connect(config: SessionConfig) -> Hostile {
        Hostile::connect_with(config, MemStore::default())
    }

    /// Connects to a victim that holds `store`.
    fn connect_with(config: SessionConfig, mut store: MemStore) -> Hostile {
        let mut victim = Session::new(config, T0);
        let ours = handshake::Preamble::ours(MAX_RECORD);
        let theirs_raw: Vec<u8> = victim.poll_transmit(&mut store).unwrap();
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&theirs_raw[..8]);
        let theirs = handshake::Preamble::decode(&raw).unwrap();
        let mut hs = handshake::noise(true, &handshake::prologue(&ours, &theirs)).unwrap();
        let mut buf = [0u8; 200];
        let n = hs.write_message(&[], &mut buf).unwrap();
        let mut input = ours.encode().to_vec();
        let mut rec = vec![handshake::HS_NOISE];
        rec.extend_from_slice(&buf[..n]);
        input.extend(frame::encode_record(&rec, MAX_RECORD).unwrap());
        victim.handle_input(&input, T0, &mut store);
        let reply: Vec<u8> = std::iter::from_fn(|| victim.poll_transmit(&mut store))
            .flatten()
            .collect();
        let mut dec = RecordDecoder::new(MAX_RECORD);
        dec.push(&reply).unwrap();
        let rec = dec.next_record().unwrap().unwrap();
        hs.read_message(&rec[1..], &mut buf).unwrap();
        let noise = hs.into_transport_mode().unwrap();
        Hostile {
            noise,
            victim,
            store,
            inbox: dec,
            reassembler: crate::sync::frame::Reassembler::new(Default::default()),
        }
    }

    /// The messages the victim sent so far, decrypted.
    fn received(&mut self) -> Vec<Message> {
        let out: Vec<u8> = std::iter::from_fn(|| self.victim.poll_transmit(&mut self.store))
            .flatten()
            .collect();
        let mut msgs = Vec::new();
        for push in [false, true] {
            // The decoder takes more bytes only once drained.
            if push {
                self.inbox.push(&out).unwrap();
            }
            while let Some(rec) = self.inbox.next_record().unwrap() {
                let mut plain = vec![0u8; rec.len()];
                let n = self.noise.read_message(&rec, &mut plain).unwrap();
                if let Some(m) = self.reassembler.push(&plain[..n], T0).unwrap() {
                    msgs.push(Message::decode(&m).unwrap());
                }
            }
        }
        msgs
    }

    /// Sends one record carrying `plain` (a fragment-layer plaintext).
    fn record(&mut self, plain: &[u8], now: u64) {
        let mut body = vec![0u8; plain.len() + 16];
        let n = self.noise.write_message(plain, &mut body).unwrap();
        let rec = frame::encode_record(&body[..n], MAX_RECORD).unwrap();
        self.victim.handle_input(&rec, now, &mut self.store);
    }

    /// The bytes of one record carrying one whole message.
    fn encode(&mut self, msg: &Message) -> Vec<u8> {
        let mut plain = vec![0u8];
        plain.extend(msg.encode());
        let mut body = vec![0u8; plain.len() + 16];
        let n = self.noise.write_message(&plain, &mut body).unwrap();
        frame::encode_record(&body[..n], MAX_RECORD).unwrap()
    }

    /// Sends one whole message.
    fn message(&mut self, msg: &Message, now: u64) {
        let bytes = self.encode(msg);
        self.victim.handle_input(&bytes, now, &mut self.store);
    }

    fn closed(&mut self) -> Option<String> {
        closed_reason(&drain_events(&mut self.victim))
    }

    fn hello(&mut self) {
        self.message(&days_hello(HeldDays::Every), T0);
        // Version 6: the Hello is complete with the blobs this side wants,
        // and version 8 with its tags for the days the victim holds.
        self.message(
            &Message::Wanted {
                blobs: vec![],
                ids: vec![],
            },
            T0,
        );
        self.message(
            &Message::Tags {
                direct: vec![],
                shared: vec![],
            },
            T0,
        );
    }
}

#[test]
fn a_reassembly_flood_is_cut_off() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.hello();
    for stream in 0u16..10 {
        // FIRST fragments of big messages that never complete.
        let mut plain = vec![1u8];
        plain.extend_from_slice(&stream.to_le_bytes());
        plain.extend_from_slice(&100_000u32.to_le_bytes());
        plain.extend_from_slice(&[0u8; 60_000]);
        h.record(&plain, T0);
        if h.victim.is_closed() {
            break;
        }
    }
    let reason = h.closed().expect("closed");
    assert!(reason.starts_with("framing:"), "{reason}");
    let limits = h.victim.config.limits.reassembly;
    assert!(h.victim.reassembler.held_bytes() <= limits.max_concurrent * limits.max_message);
}

#[test]
fn a_never_ending_reconciliation_is_cut_off() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.hello();
    let items: Vec<ReconItem> = (0..5000u64)
        .map(|n| ReconItem {
            timestamp: EXPIRY,
            id: *blake3::hash(&n.to_le_bytes()).as_bytes(),
        })
        .collect();
    let (_, first) = Reconciler::initiate(items, h.victim.config.limits.recon).unwrap();
    for i in 0..1000 {
        h.message(&Message::Recon(first.clone()), T0 + i);
        if h.victim.is_closed() {
            break;
        }
        while h.victim.poll_transmit(&mut h.store).is_some() {}
    }
    let reason = h.closed().expect("closed");
    assert!(reason.starts_with("reconciliation:"), "{reason}");
}

#[test]
fn flooding_past_the_window_and_messages_out_of_order_disconnect() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.message(&Message::Done, T0);
    assert_eq!(
        h.closed().as_deref(),
        Some("protocol violation: message before hello")
    );

    let mut config = SessionConfig::tcp(false, "h");
    config.window = 64 << 10;
    let mut h = Hostile::connect(config);
    h.hello();
    // Forty envelopes in one burst, never waiting for an ack: the victim must
    // not buffer them all before it can commit.
    let burst: Vec<u8> = (0..40)
        .flat_map(|n| h.encode(&Message::Envelope(envelope(n, 60_000).0)))
        .collect();
    h.victim.handle_input(&burst, T0, &mut h.store);
    assert!(h.closed().unwrap().contains("flow-control window"));
}

#[test]
fn a_silent_peer_is_dropped_after_the_idle_timeout() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.hello();
    let t = h.victim.poll_timeout().unwrap();
    assert_eq!(t, T0 + 30_000);
    h.victim.handle_timeout(t, &mut h.store);
    assert_eq!(h.closed().as_deref(), Some("peer idle for 30000 ms"));
}

#[test]
fn a_peer_over_the_rate_is_disconnected() {
    let mut config = SessionConfig::tcp(false, "h");
    config.limits.max_bytes_per_s = 100_000;
    let mut h = Hostile::connect(config);
    h.hello();
    for n in 0..10 {
        h.message(&Message::Envelope(envelope(n, 30_000).0), T0 + 1);
    }
    assert!(h.closed().unwrap().contains("flooded"));
}

/// A sender holding `n` envelopes of `min` bytes and up to `spread` more,
/// and an empty receiver.
fn one_sided(n: u64, min: usize, spread: usize) -> (MemStore, MemStore) {
    let (mut sa, sb) = (MemStore::default(), MemStore::default());
    for i in 0..n {
        sa.add(envelope(i, min + (i as usize * 131) % spread).0, [5; 8]);
    }
    (sa, sb)
}

/// Runs sessions until everything arrived, cutting each link after the given
/// byte counts; returns the number of sessions used.
fn sync_with_cuts(
    sa: &mut MemStore,
    sb: &mut MemStore,
    cuts: &[u64],
    pair: impl Fn() -> (Session, Session),
) -> usize {
    let mut now = T0;
    for (i, cut) in cuts.iter().map(|c| Some(*c)).chain([None]).enumerate() {
        let (mut init, mut resp) = pair();
        let model = LinkModel {
            cut_after: cut,
            ..LinkModel::default()
        };
        // Roles alternate between encounters, as they do in the field.
        let r = if i % 2 == 0 {
            pump(&mut init, sa, &mut resp, sb, model, now)
        } else {
            pump(&mut init, sb, &mut resp, sa, model, now)
        };
        now += r.elapsed_ms + 1000;
        if r.finished {
            return i + 1;
        }
        assert!(r.cut, "session {i} ended without a cut: {:?}", r.events);
    }
    panic!("did not finish");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// 10,000 envelopes, links cut at random points: every envelope arrives
    /// exactly once, and nothing the receiver confirmed is sent again.
    #[test]
    fn cut_transfers_resume_without_loss_or_resending(
        cuts in proptest::collection::vec(1u64..3_000_000, 1..5),
    ) {
        let (mut sa, mut sb) = one_sided(10_000, 100, 700);
        let expected = sa.ids();
        sync_with_cuts(&mut sa, &mut sb, &cuts, || pair(MAX_RECORD));
        prop_assert_eq!(sb.ids(), expected);
        prop_assert!(sb.ingested.values().all(|&n| n == 1),
            "an envelope was sent again after the receiver confirmed it");
        prop_assert_eq!(sb.ingested.len(), 10_000);
    }

    /// Routed neighbours with copy budgets, links cut at random points: a
    /// session spends the budgets of a window's envelopes in one call, and
    /// every copy that went out is either acknowledged or refunded, once.
    #[test]
    fn budgets_spent_a_window_at_a_time_are_acknowledged_or_refunded(
        cuts in proptest::collection::vec(1u64..400_000, 1..4),
    ) {
        let (mut sa, mut sb) = one_sided(600, 200, 900);
        sa.budget = Some(4);
        let expected = sa.ids();
        let routed = || {
            let mut ca = SessionConfig::tcp(true, "a").routed();
            let mut cb = SessionConfig::tcp(false, "b").routed();
            ca.window = 32 << 10;
            cb.window = 32 << 10;
            (Session::new(ca, T0), Session::new(cb, T0))
        };
        sync_with_cuts(&mut sa, &mut sb, &cuts, routed);
        prop_assert_eq!(&sb.ids(), &expected);
        let handed: Vec<[u8; 32]> = sa.handovers.concat();
        prop_assert!(
            sa.handovers.len() * 4 < handed.len(),
            "{} calls for {} envelopes", sa.handovers.len(), handed.len()
        );
        let count = |v: &[[u8; 32]], id: &[u8; 32]| v.iter().filter(|x| *x == id).count();
        for id in &expected {
            let (h, a, r) = (count(&handed, id), count(&sa.acked, id), count(&sa.refunded, id));
            // Zero when the receiver took it in at the cut, before its
            // acknowledgement could leave: then the copies came back.
            prop_assert!(a <= 1, "acknowledged {} times", a);
            prop_assert_eq!(h, a + r, "handed {} times, acknowledged {}, refunded {}", h, a, r);
        }
    }
}

#[test]
fn a_hundred_thousand_one_sided_items_all_arrive() {
    let (mut sa, mut sb) = (MemStore::default(), MemStore::default());
    for n in 0..100_000u64 {
        sa.add(envelope(n, 60).0, [5; 8]);
    }
    let (mut a, mut b) = pair(MAX_RECORD);
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    assert_eq!(sb.held.len(), 100_000, "{:?}", a.stats());
}

/// Two routed neighbours, each holding envelopes some of which its policy
/// keeps back, synced in one session of `version`.
fn routed_session(
    pool: &[(u8, bool, bool)],
    version: u8,
) -> (MemStore, MemStore, SessionStats, SessionStats) {
    let (mut sa, mut sb) = (MemStore::default(), MemStore::default());
    for (n, &(member, back_a, back_b)) in pool.iter().enumerate() {
        let (bytes, _) = envelope(n as u64, 100);
        if member & 1 != 0 {
            let id = sa.add(bytes.clone(), [1; 8]);
            if back_a {
                sa.held_back.insert(id);
            }
        }
        if member & 2 != 0 {
            let id = sb.add(bytes, [1; 8]);
            if back_b {
                sb.held_back.insert(id);
            }
        }
    }
    let mut ca = SessionConfig::tcp(true, "a").routed();
    let mut cb = SessionConfig::tcp(false, "b").routed();
    ca.max_version = version;
    cb.max_version = version;
    let (mut a, mut b) = (Session::new(ca, T0), Session::new(cb, T0));
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(r.finished, "{:?}", r.events);
    (sa, sb, a.stats().clone(), b.stats().clone())
}

#[test]
fn routed_version_4_neighbours_with_nothing_to_give_spend_one_small_frame_each_way() {
    // Each holds 300 envelopes the other lacks but keeps them all back.
    let pool: Vec<(u8, bool, bool)> = (0..600)
        .map(|n| (if n % 2 == 0 { 1 } else { 2 }, true, true))
        .chain((0..200).map(|_| (3, false, false)))
        .collect();
    let (sa, sb, a, b) = routed_session(&pool, handshake::VERSION);
    assert_eq!((sa.held.len(), sb.held.len()), (500, 500));
    assert_eq!((a.recon_bytes, a.recon_rounds), (21, 1));
    assert_eq!(a.envelopes_sent + b.envelopes_sent, 0);
    // Version 3 finds the 600 held-back envelopes different, and sends none.
    let (_, _, a, b) = routed_session(&pool, 3);
    assert!(a.recon_bytes > 20_000, "{}", a.recon_bytes);
    assert_eq!(a.envelopes_sent + b.envelopes_sent, 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Reconciling only what each side offers still delivers every envelope
    /// a side's policy offers and the other lacks, sends nothing held back,
    /// and never sends a side an envelope it already holds.
    #[test]
    fn restricted_sets_deliver_every_offered_envelope_and_no_duplicate(
        pool in prop::collection::vec((1u8..=3, any::<bool>(), any::<bool>()), 0..400),
    ) {
        let (sa, sb, a, b) = routed_session(&pool, handshake::VERSION);
        let mut want_a = HashSet::new();
        let mut want_b = HashSet::new();
        for (n, &(member, back_a, back_b)) in pool.iter().enumerate() {
            let id = *blake3::hash(&envelope(n as u64, 100).0).as_bytes();
            let (in_a, in_b) = (member & 1 != 0, member & 2 != 0);
            if in_a || (in_b && !back_b) {
                want_a.insert(id);
            }
            if in_b || (in_a && !back_a) {
                want_b.insert(id);
            }
        }
        prop_assert_eq!(sa.ids(), want_a);
        prop_assert_eq!(sb.ids(), want_b);
        prop_assert_eq!(a.duplicates + b.duplicates, 0);
        prop_assert_eq!(
            a.envelopes_received + b.envelopes_received,
            a.envelopes_sent + b.envelopes_sent
        );
    }
}

/// Moves everything `from` has to send into `to`, returning the bytes moved.
fn relay_all(
    from: &mut Session,
    from_store: &mut MemStore,
    to: &mut Session,
    to_store: &mut MemStore,
    now: u64,
) -> Vec<Vec<u8>> {
    let mut moved = Vec::new();
    while let Some(chunk) = from.poll_transmit(from_store) {
        to.handle_input(&chunk, now, to_store);
        moved.push(chunk);
    }
    moved
}

#[test]
fn t5_a_replayed_handshake_transcript_establishes_nothing() {
    // A wormhole records everything an honest initiator sent in a real session...
    let (mut sa, mut sb) = stores(5, 0, 3);
    let (mut a, mut b) = pair(MAX_RECORD);
    let mut recorded = Vec::new();
    for step in 0..2000 {
        let now = T0 + step * 10;
        a.handle_timeout(now, &mut sa);
        b.handle_timeout(now, &mut sb);
        recorded.extend(relay_all(&mut a, &mut sa, &mut b, &mut sb, now));
        relay_all(&mut b, &mut sb, &mut a, &mut sa, now);
        if a.is_finished() && b.is_finished() {
            break;
        }
    }
    assert_eq!(sb.held.len(), 8, "the honest session carried the envelopes");

    // ...and replays it to the same responder later: the responder's fresh
    // ephemeral key changes the session keys, so the first replayed transport
    // record fails to decrypt and nothing is received.
    let mut replayed = Session::new(SessionConfig::tcp(false, "b"), T0 + 100_000);
    let mut fresh = MemStore::default();
    for chunk in &recorded {
        replayed.handle_input(chunk, T0 + 100_000, &mut fresh);
        while replayed.poll_transmit(&mut fresh).is_some() {}
    }
    let mut events = Vec::new();
    while let Some(e) = replayed.poll_event() {
        events.push(e);
    }
    assert!(replayed.is_closed(), "{events:?}");
    assert!(
        events.contains(&SessionEvent::Closed(SessionError::Decrypt)),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SessionEvent::Committed { .. }))
    );
    assert_eq!(replayed.stats().carried, 0);
    assert!(fresh.held.is_empty() && fresh.ingested.is_empty());
}

#[test]
fn c3_a_session_closes_before_its_record_counter_could_wrap() {
    let (mut sa, mut sb) = stores(40, 0, 0);
    let mut ca = SessionConfig::tcp(true, "a");
    ca.limits.max_records = 6;
    let cb = SessionConfig::tcp(false, "b");
    let (mut a, mut b) = (Session::new(ca, T0), Session::new(cb, T0));
    let r = pump(&mut a, &mut sa, &mut b, &mut sb, LinkModel::default(), T0);
    assert!(!r.finished);
    assert!(
        r.events[0].contains(&SessionEvent::Closed(SessionError::RecordLimit(6))),
        "{:?}",
        r.events[0]
    );
    // The limit stopped the session early: far from all 40 envelopes crossed.
    assert!(sb.held.len() < 40, "{}", sb.held.len());
    // The default leaves 2^24 sessions' worth of margin before a 64-bit wrap.
    assert!(SessionLimits::default().max_records <= 1 << 40);
}

/// A version 8 Hello naming these held days.
fn days_hello(days: HeldDays) -> Message {
    Message::Hello {
        window: 1 << 20,
        port: 0,
        direct: vec![],
        shared: vec![],
        encounters: None,
        short: true,
        days: Some(days),
    }
}

#[test]
fn version_8_hellos_name_held_days_and_tags_answer_only_those_days() {
    let day = RoutingTag::day_of(EXPIRY);
    let tags_for = |days: HeldDays| {
        // The victim holds one envelope and wants two tags, all of day `day`.
        let mut store = MemStore::default();
        store.add(envelope(1, 300).0, [7; 8]);
        store.direct = vec![RoutingTag([9; 8]), RoutingTag([8; 8])];
        let mut h = Hostile::connect_with(SessionConfig::tcp(false, "h"), store);
        let first = h.received();
        h.message(&days_hello(days), T0);
        (first, h.received())
    };
    let (first, answer) = tags_for(HeldDays::From {
        first: day as u32,
        mask: 1,
    });
    // Its own Hello lists no tags, only the day of what it holds.
    assert!(
        first.contains(&Message::Hello {
            window: SessionConfig::tcp(false, "h").window,
            port: 0,
            direct: vec![],
            shared: vec![],
            encounters: None,
            short: true,
            days: Some(HeldDays::From {
                first: day as u32,
                mask: 1
            }),
        }),
        "{first:?}"
    );
    let tags = |msgs: &[Message]| {
        msgs.iter()
            .find_map(|m| match m {
                Message::Tags { direct, shared } => Some((direct.len(), shared.len())),
                _ => None,
            })
            .expect("a tags message")
    };
    assert_eq!(tags(&answer), (2, 0));
    assert_eq!(tags(&tags_for(HeldDays::Every).1), (2, 0));
    // A peer that holds nothing of that day gets no tags at all.
    let none = tags_for(HeldDays::From {
        first: day as u32 + 1,
        mask: u64::MAX,
    });
    assert_eq!(tags(&none.1), (0, 0));
}

#[test]
fn a_version_8_hello_must_be_completed_by_tags_once() {
    let wanted = Message::Wanted {
        blobs: vec![],
        ids: vec![],
    };
    let no_tags = Message::Tags {
        direct: vec![],
        shared: vec![],
    };
    let run = |msgs: &[Message], config: SessionConfig| {
        let mut h = Hostile::connect(config);
        for m in msgs {
            h.message(m, T0);
        }
        h.closed()
    };
    let v8 = || SessionConfig::tcp(false, "h");
    let v7 = || SessionConfig {
        max_version: 7,
        ..SessionConfig::tcp(false, "h")
    };
    let every = days_hello(HeldDays::Every);
    let cases: [(Vec<Message>, SessionConfig, Option<&str>); 6] = [
        (
            vec![every.clone(), wanted.clone(), Message::Done],
            v8(),
            Some("hello without tags"),
        ),
        (
            vec![
                every.clone(),
                wanted.clone(),
                no_tags.clone(),
                no_tags.clone(),
            ],
            v8(),
            Some("unexpected tags"),
        ),
        // Tags may come before the Wanted: the Hello waits for both.
        (
            vec![
                every.clone(),
                no_tags.clone(),
                wanted.clone(),
                Message::Done,
            ],
            v8(),
            None,
        ),
        (
            vec![Message::Hello {
                window: 1 << 20,
                port: 0,
                direct: vec![],
                shared: vec![],
                encounters: None,
                short: true,
                days: None,
            }],
            v8(),
            Some("hello without held days in a version 8 session"),
        ),
        (
            vec![every.clone()],
            v7(),
            Some("held days in a session before version 8"),
        ),
        (
            vec![
                Message::Hello {
                    window: 1 << 20,
                    port: 0,
                    direct: vec![],
                    shared: vec![],
                    encounters: None,
                    short: true,
                    days: None,
                },
                wanted.clone(),
                no_tags.clone(),
            ],
            v7(),
            Some("tags in a session before version 8"),
        ),
    ];
    for (msgs, config, want) in cases {
        let want = want.map(|w| format!("protocol violation: {w}"));
        assert_eq!(run(&msgs, config), want, "{msgs:?}");
    }
}

#[test]
fn a_version_6_hello_must_be_completed_by_the_wanted_blobs() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.message(&days_hello(HeldDays::Every), T0);
    h.message(&Message::Done, T0);
    assert_eq!(
        h.closed().as_deref(),
        Some("protocol violation: hello without wanted blobs")
    );
    // A Wanted before any Hello is as out of order as anything else.
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.message(
        &Message::Wanted {
            blobs: vec![[1; 8]],
            ids: vec![],
        },
        T0,
    );
    assert_eq!(
        h.closed().as_deref(),
        Some("protocol violation: message before hello")
    );
}

#[test]
fn wanted_blobs_are_blinded_as_documented() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    let blinded = super::blind_blob(&[0x11; 32], &[0x22; 32]);
    assert_eq!(
        hex::encode(blinded),
        value("blind_blob(handshake hash 11x32, blob 22x32)")
    );
    // The same 8 bytes as a tag would never match: a blob is 32 bytes.
    assert_ne!(blinded, super::blind(&[0x11; 32], &[0x22; 8], false));
}

#[test]
fn version_7_blinds_tags_to_4_bytes_as_documented_and_refuses_long_ones() {
    let value = |name: &str| crate::doc_vectors::documented_value("### Messages", name);
    let long = super::blind(&[0x11; 32], &[0x22; 8], false);
    let short = super::blind(&[0x11; 32], &[0x22; 8], true);
    assert_eq!(
        hex::encode(long),
        value("blind(handshake hash 11x32, tag 22x8)")
    );
    assert_eq!(short[..4], long[..4]);
    assert_eq!(short[4..], [0; 4]);
    let hello = Message::Hello {
        window: 4096,
        port: 0,
        direct: vec![short],
        shared: vec![],
        encounters: None,
        short: true,
        days: None,
    };
    let name = "hello, version 7 (window 4096, port 0, direct: that tag, no shared)";
    assert_eq!(hex::encode(hello.encode()), value(name));
    assert_eq!(
        Message::decode(&hex::decode(value(name)).unwrap()),
        Ok(hello)
    );

    // A version-7 session takes only the short Hello.
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.message(
        &Message::Hello {
            window: 1 << 20,
            port: 0,
            direct: vec![long],
            shared: vec![],
            encounters: None,
            short: false,
            days: None,
        },
        T0,
    );
    assert_eq!(
        h.closed().as_deref(),
        Some("protocol violation: hello tags of another length than the session version's")
    );
}

#[test]
fn a_peer_cannot_name_more_than_256_wanted_blobs_in_a_session() {
    let mut h = Hostile::connect(SessionConfig::tcp(false, "h"));
    h.hello();
    let many = |from: u32, n: u32| Message::Wanted {
        blobs: (from..from + n)
            .map(|i| {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&i.to_le_bytes());
                b
            })
            .collect(),
        ids: vec![],
    };
    h.message(&many(0, 200), T0);
    // Naming the same blobs again costs nothing.
    h.message(&many(0, 200), T0);
    assert_eq!(h.closed(), None);
    h.message(&many(200, 57), T0);
    assert_eq!(
        h.closed().as_deref(),
        Some("protocol violation: too many wanted blobs")
    );
}

/// Records what a session claims and frees around a [`MemStore`].
struct Claims<'a> {
    store: &'a mut MemStore,
    claimed: Vec<[u8; 32]>,
    freed: Vec<[u8; 32]>,
}

impl SyncStore for Claims<'_> {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        self.store.items()
    }
    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        self.store.interests()
    }
    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        self.store.envelope(id)
    }
    fn proof(&mut self, c: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        self.store.proof(c)
    }
    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        self.store.seen(id)
    }
    fn claim(&mut self, id: &[u8; 32]) -> Result<bool, SyncStoreError> {
        self.claimed.push(*id);
        Ok(true)
    }
    fn unclaim(&mut self, ids: &[[u8; 32]]) -> Result<(), SyncStoreError> {
        self.freed.extend_from_slice(ids);
        Ok(())
    }
    fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        self.store.ingest(items, origin)
    }
}

/// How a test session ends: it finishes, its link breaks, or it fails.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    Finishes,
    LinkBreaks,
    TimesOut,
}

/// Ends `a` as `how` says, at `now` (nothing for [`Ending::Finishes`]).
fn end(how: Ending, a: &mut Session, store: &mut dyn SyncStore, now: u64) {
    match how {
        Ending::Finishes => {}
        Ending::LinkBreaks => a.link_lost(store),
        Ending::TimesOut => a.handle_timeout(now + 10 * 60_000, store),
    }
}

#[test]
fn a_session_frees_what_it_asked_for_when_it_ends_fails_or_its_link_breaks() {
    use Ending::*;
    for how in [Finishes, LinkBreaks, TimesOut] {
        let cut = how != Finishes;
        let (mut sa, mut sb) = stores(0, 3, 0);
        let wanted = sb.ids();
        let mut claims = Claims {
            store: &mut sa,
            claimed: Vec::new(),
            freed: Vec::new(),
        };
        let (mut a, mut b) = pair(MAX_RECORD);
        pump_with(
            &mut a,
            &mut claims,
            &mut b,
            &mut sb,
            LinkModel::default(),
            T0,
            |now, a, claims, _| {
                // The link breaks, or A's session fails, right after A
                // asked for B's envelopes.
                if cut && !claims.claimed.is_empty() && !a.is_closed() {
                    end(how, a, claims, now);
                }
            },
        );
        let set = |v: &[[u8; 32]]| v.iter().copied().collect::<HashSet<_>>();
        assert_eq!(set(&claims.claimed), wanted, "{how:?}");
        assert_eq!(set(&claims.freed), wanted, "{how:?}: every claim is freed");
        let held = if cut { HashSet::new() } else { wanted };
        assert_eq!(claims.store.ids(), held, "{how:?}");
    }
}

#[test]
fn copies_the_peer_never_acknowledged_come_back_when_a_session_fails() {
    use Ending::*;
    for how in [LinkBreaks, TimesOut] {
        let (mut sa, mut sb) = one_sided(200, 0, 900);
        sa.budget = Some(4);
        let mut ca = SessionConfig::tcp(true, "a").routed();
        let mut cb = SessionConfig::tcp(false, "b").routed();
        (ca.window, cb.window) = (16 << 10, 16 << 10);
        let (mut a, mut b) = (Session::new(ca, T0), Session::new(cb, T0));
        pump_with(
            &mut a,
            &mut sa,
            &mut b,
            &mut sb,
            LinkModel::default(),
            T0,
            |now, a, sa, _| {
                // A's session ends while copies are out and unacknowledged.
                let out: usize = sa.handovers.iter().map(Vec::len).sum();
                if out > sa.acked.len() && !a.is_closed() {
                    end(how, a, sa, now);
                }
            },
        );
        let handed: Vec<[u8; 32]> = sa.handovers.concat();
        assert!(!sa.refunded.is_empty(), "{how:?}: nothing was out");
        let count = |v: &[[u8; 32]], id: &[u8; 32]| v.iter().filter(|x| *x == id).count();
        for id in sa.ids() {
            let (h, a, r) = (
                count(&handed, &id),
                count(&sa.acked, &id),
                count(&sa.refunded, &id),
            );
            assert_eq!(
                h,
                a + r,
                "{how:?}: handed {h}, acknowledged {a}, refunded {r}"
            );
        }
    }
}
