use super::clients::{envelopes_of, seal_batch};
use super::measure::percentile;
use super::*;
use pollen_proto::envelope::{Envelope, EnvelopeId};
use pollen_proto::sync::store::{Incoming, Received, SyncStore};

#[test]
fn nearest_rank_percentiles() {
    let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
    assert_eq!(percentile(&twenty, 50.0), Some(10.0));
    assert_eq!(percentile(&twenty, 99.0), Some(20.0));
    assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
    assert_eq!(percentile(&[], 50.0), None);
}

#[test]
fn a_bench_store_checks_exactly_once_delivery() {
    let a = Identity::generate("a").unwrap();
    let b = Identity::generate("b").unwrap();
    let sealed = seal_batch(&a, &b.public(), 3).unwrap();
    let mut inbox = BenchStore::new(b.public(), &[]);
    inbox.expect(&sealed);
    inbox.download_only();
    assert_eq!(inbox.interests().unwrap().direct.len(), 1);
    let first: Vec<Incoming> = sealed[..2]
        .iter()
        .map(|s| Incoming::Envelope(s.envelope.encode()))
        .collect();
    let (results, proofs) = inbox.ingest(&first, "t").unwrap();
    assert_eq!(results, vec![Received::Opened, Received::Opened]);
    assert_eq!(proofs, vec![sealed[0].proof_secret, sealed[1].proof_secret]);
    assert!(inbox.check().unwrap_err().starts_with("1 of 3 missing"));
    let rest = vec![
        Incoming::Envelope(sealed[2].envelope.encode()),
        Incoming::Envelope(sealed[0].envelope.encode()),
    ];
    inbox.ingest(&rest, "t").unwrap();
    assert!(
        inbox
            .check()
            .unwrap_err()
            .contains("1 arrived more than once")
    );
}

#[test]
fn outgoing_envelopes_are_offered_until_handed_over() {
    let a = Identity::generate("a").unwrap();
    let sealed = seal_batch(&a, &a.public(), 2).unwrap();
    let mut store = BenchStore::new(a.public(), &envelopes_of(&sealed));
    assert!(store.interests().unwrap().direct.is_empty());
    let items = store.items().unwrap();
    assert_eq!(items.len(), 2);
    for item in &items {
        let bytes = store.envelope(&EnvelopeId(item.id)).unwrap().unwrap();
        assert_eq!(Envelope::decode(&bytes).unwrap().id().0, item.id);
    }
    store.download_only();
    assert!(store.items().unwrap().is_empty());
}
