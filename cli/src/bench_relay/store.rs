//! A client's storage for the benchmark: in memory, holding what it uploads
//! and checking that its own mail arrives exactly once.

use pollen_proto::envelope::{Commitment, DeliveryProof, Envelope, EnvelopeId, RoutingTag, Sealed};
use pollen_proto::identity::PublicIdentity;
use pollen_proto::sync::store::{
    Incoming, Interests, ItemKind, LocalItem, Received, SyncStore, SyncStoreError,
};
use std::collections::{BTreeSet, HashMap};

/// Seconds in a routing-tag period (tags rotate by UTC day of expiry).
const DAY: u64 = 86_400;

/// A client's storage, in memory: a fixed identity, the envelopes it uploads
/// (sealed beforehand) and the envelopes it expects, with their proof secrets.
pub struct BenchStore {
    /// Whose mail this client asks for.
    me: PublicIdentity,
    /// Envelopes to upload: id → wire bytes.
    outgoing: HashMap<[u8; 32], Vec<u8>>,
    /// The reconciliation items of `outgoing`.
    items: Vec<LocalItem>,
    /// Envelopes addressed to this client: id → delivery-proof secret.
    inbox: HashMap<[u8; 32], [u8; 32]>,
    /// Expiry times of the envelopes in `inbox`, by tag period (day).
    days: BTreeSet<u64>,
    /// Whether this client asks for its own mail (its Hello lists its tags).
    asks: bool,
    /// How often each envelope id arrived.
    received: HashMap<[u8; 32], u32>,
    /// Envelopes that arrived although they were not addressed here.
    unexpected: usize,
}

impl BenchStore {
    /// A client of identity `me` that will upload `outgoing` and asks for nothing yet.
    pub fn new(me: PublicIdentity, outgoing: &[Envelope]) -> BenchStore {
        let mut store = BenchStore {
            me,
            outgoing: HashMap::with_capacity(outgoing.len()),
            items: Vec::with_capacity(outgoing.len()),
            inbox: HashMap::new(),
            days: BTreeSet::new(),
            asks: false,
            received: HashMap::new(),
            unexpected: 0,
        };
        for e in outgoing {
            let id = e.id().0;
            let h = e.header();
            store.items.push(LocalItem {
                id,
                expires_at: h.expires_at,
                kind: ItemKind::Envelope {
                    tag: h.tag,
                    commitment: h.commitment,
                },
            });
            store.outgoing.insert(id, e.encode());
        }
        store
    }

    /// Notes envelopes sealed to this client, to check their arrival.
    pub fn expect(&mut self, sealed: &[Sealed]) {
        for s in sealed {
            self.inbox.insert(s.envelope.id().0, s.proof_secret.0);
            self.days.insert(s.envelope.header().expires_at / DAY);
        }
    }

    /// The next round downloads: the uploads are with the relay now, and
    /// this client asks for its own mail. Without dropping them, every
    /// session would push them again (a relay reconciles only the client's
    /// own mail, so it looks as if it lacked everything else the client holds).
    pub fn download_only(&mut self) {
        self.outgoing.clear();
        self.items.clear();
        self.asks = true;
    }

    /// Envelopes received; an error unless every expected one arrived exactly
    /// once and nothing else did.
    pub fn check(&self) -> Result<usize, String> {
        let missing = self
            .inbox
            .keys()
            .filter(|id| !self.received.contains_key(*id))
            .count();
        let repeated = self.received.values().filter(|&&n| n > 1).count();
        if missing > 0 || repeated > 0 || self.unexpected > 0 {
            return Err(format!(
                "{missing} of {} missing, {repeated} arrived more than once, {} not addressed to it",
                self.inbox.len(),
                self.unexpected
            ));
        }
        Ok(self.received.len())
    }
}

impl SyncStore for BenchStore {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(self.items.clone())
    }

    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        let direct = if self.asks {
            self.days
                .iter()
                .map(|d| (*d, RoutingTag::direct(&self.me, d * DAY)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Interests {
            direct,
            shared: Vec::new(),
        })
    }

    fn envelope(&mut self, id: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        Ok(self.outgoing.get(&id.0).cloned())
    }

    fn proof(&mut self, _commitment: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        Ok(None)
    }

    fn seen(&mut self, id: &EnvelopeId) -> Result<bool, SyncStoreError> {
        Ok(self.received.contains_key(&id.0))
    }

    fn ingest(
        &mut self,
        items: &[Incoming],
        _origin: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        let mut results = Vec::with_capacity(items.len());
        let mut proofs = Vec::new();
        for item in items {
            // A relay offers no proofs; one arriving anyway changes nothing here.
            let Incoming::Envelope(bytes) = item else {
                results.push(Received::ProofKnown);
                continue;
            };
            // Recognised by id, not opened: the bench measures the relay, and
            // the proof secret is known from sealing.
            let Ok(e) = Envelope::decode(bytes) else {
                self.unexpected += 1;
                results.push(Received::Rejected("malformed"));
                continue;
            };
            let id = e.id().0;
            let count = self.received.entry(id).or_insert(0);
            *count += 1;
            if *count > 1 {
                results.push(Received::Duplicate);
            } else if let Some(secret) = self.inbox.get(&id) {
                // Like a phone: the proof goes straight back, and the relay
                // drops its copy.
                proofs.push(DeliveryProof(*secret));
                results.push(Received::Opened);
            } else {
                self.unexpected += 1;
                results.push(Received::Carried);
            }
        }
        Ok((results, proofs))
    }
}
