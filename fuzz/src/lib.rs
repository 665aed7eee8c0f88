//! What several fuzz targets share.

use pollen_proto::envelope::{Commitment, DeliveryProof, EnvelopeId};
use pollen_proto::sync::store::{
    Incoming, Interests, LocalItem, Received, SyncStore, SyncStoreError,
};

/// A sync store that holds nothing and accepts everything as carried: the
/// session under test then reaches every message type without a database.
pub struct EmptyStore;

impl SyncStore for EmptyStore {
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

/// The sessions' start time, in milliseconds.
pub const T0: u64 = 1_700_000_000_000;
