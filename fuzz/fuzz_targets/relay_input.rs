//! A relay's untrusted input: the carrier checks every uploaded envelope
//! gets, and a relay-side session (Noise NK responder, interests offer) fed
//! arbitrary bytes from the first byte on. Neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_node::relay::check_envelope;
use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId};
use pollen_proto::sync::store::{
    Incoming, Interests, LocalItem, Received, SyncStore, SyncStoreError,
};
use pollen_proto::sync::{Offer, Session, SessionConfig};

struct Empty;

impl SyncStore for Empty {
    fn items(&mut self) -> Result<Vec<LocalItem>, SyncStoreError> {
        Ok(Vec::new())
    }
    fn interests(&mut self) -> Result<Interests, SyncStoreError> {
        Ok(Interests::default())
    }
    fn envelope(&mut self, _: &EnvelopeId) -> Result<Option<Vec<u8>>, SyncStoreError> {
        Ok(None)
    }
    fn proof(&mut self, _: &Commitment) -> Result<Option<DeliveryProof>, SyncStoreError> {
        Ok(None)
    }
    fn seen(&mut self, _: &EnvelopeId) -> Result<bool, SyncStoreError> {
        Ok(false)
    }
    fn ingest(
        &mut self,
        items: &[Incoming],
        _: &str,
    ) -> Result<(Vec<Received>, Vec<DeliveryProof>), SyncStoreError> {
        Ok((vec![Received::Carried; items.len()], Vec::new()))
    }
}

const T0: u64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    let _ = check_envelope(data, T0 / 1000);
    let mut config = SessionConfig::tcp(false, "tcp:10.0.0.1");
    config.static_key = Some([7; 32]);
    config.offer = Offer::Interests;
    let mut s = Session::new(config, T0);
    let mut store = Empty;
    for (i, chunk) in data.chunks(61).enumerate() {
        s.handle_input(chunk, T0 + i as u64, &mut store);
        while s.poll_transmit(&mut store).is_some() {}
        if s.is_closed() {
            break;
        }
    }
});
