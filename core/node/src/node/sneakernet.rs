//! Moving envelopes by file: export what a stranger may carry, import with
//! full validation, in committed batches so a crash loses nothing reported.

use super::ingest::{Batch, IngestOutcome};
use super::{Node, NodeError};
use pollen_proto::bundle::{BundleReader, BundleWriter, Record};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// Records committed per transaction during an import.
const IMPORT_BATCH: usize = 256;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportReport {
    /// Envelopes written.
    pub envelopes: u64,
    /// Delivery proofs written.
    pub proofs: u64,
    /// File size.
    pub bytes: u64,
}

/// What an import did; every count is of committed work.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Envelope records read.
    pub envelopes: u64,
    /// Opened: for this node or a group/channel it is in.
    pub opened: u64,
    /// Stored to carry for others.
    pub carried: u64,
    /// Already held.
    pub duplicates: u64,
    /// Replays of envelopes delivered before.
    pub already_delivered: u64,
    /// Refused envelopes, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Proof records read.
    pub proofs: u64,
    /// Proofs not known before.
    pub proofs_new: u64,
    /// Envelopes purged by proofs.
    pub purged: u64,
    /// Own messages now known delivered.
    pub delivered: u64,
    /// True when the bundle was read to a valid end marker.
    pub complete: bool,
    /// Why reading stopped early, if it did.
    pub error: Option<String>,
}

impl ImportReport {
    /// Total envelopes refused.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

impl Node {
    /// Writes every envelope and proof this node would offer a stranger to
    /// `path` (atomically: a temporary file renamed into place).
    pub fn export_bundle(&self, path: &Path) -> Result<ExportReport, NodeError> {
        let now = self.now();
        self.store.expire(now)?;
        let envelopes = self.store.envelopes(now)?;
        let proofs = self.store.proofs(now)?;
        let tmp = path.with_extension("pollen-tmp");
        let file = File::create(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        let mut w = BundleWriter::new(BufWriter::new(file)).map_err(|e| NodeError::io(&tmp, e))?;
        for e in &envelopes {
            w.write(&Record::Envelope {
                id: e.id,
                bytes: e.bytes.clone(),
            })
            .map_err(|e| NodeError::io(&tmp, e))?;
        }
        for (secret, _) in &proofs {
            w.write(&Record::Proof(*secret))
                .map_err(|e| NodeError::io(&tmp, e))?;
        }
        let out = w.finish().map_err(|e| NodeError::io(&tmp, e))?;
        out.into_inner()
            .map_err(|e| NodeError::io(&tmp, e.into_error()))?
            .sync_all()
            .map_err(|e| NodeError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| NodeError::io(path, e))?;
        let bytes = std::fs::metadata(path)
            .map_err(|e| NodeError::io(path, e))?
            .len();
        Ok(ExportReport {
            envelopes: envelopes.len() as u64,
            proofs: proofs.len() as u64,
            bytes,
        })
    }

    /// Imports a bundle. Records are validated one by one and committed in
    /// batches; `progress` sees the report after each commit. A bundle that
    /// breaks off keeps what was committed and says why in `error`.
    pub fn import_bundle(
        &self,
        path: &Path,
        progress: &mut dyn FnMut(&ImportReport),
    ) -> Result<ImportReport, NodeError> {
        let file = File::open(path).map_err(|e| NodeError::io(path, e))?;
        let mut reader = BundleReader::new(BufReader::new(file))?;
        let origin = format!(
            "bundle:{}",
            &blake3::hash(path.to_string_lossy().as_bytes()).to_hex()[..12]
        );
        let mut report = ImportReport::default();
        loop {
            let mut chunk = Vec::with_capacity(IMPORT_BATCH);
            let mut stop = None;
            while chunk.len() < IMPORT_BATCH {
                match reader.next_record() {
                    Ok(Some(r)) => chunk.push(r),
                    Ok(None) => {
                        stop = Some(None);
                        break;
                    }
                    Err(e) => {
                        stop = Some(Some(e.to_string()));
                        break;
                    }
                }
            }
            let mut next = report.clone();
            self.transaction(|_| -> Result<(), NodeError> {
                let mut batch = Batch::new(self)?;
                for record in chunk {
                    match record {
                        Record::Envelope { id, bytes } => {
                            next.envelopes += 1;
                            match batch.ingest(&bytes, Some(id), &origin)? {
                                Ok(IngestOutcome::Opened { .. }) => next.opened += 1,
                                Ok(IngestOutcome::Carried) => next.carried += 1,
                                Ok(IngestOutcome::Duplicate) => next.duplicates += 1,
                                Ok(IngestOutcome::AlreadyDelivered { .. }) => {
                                    next.already_delivered += 1
                                }
                                Err(r) => {
                                    tracing::info!(reason = %r, "envelope rejected");
                                    *next.rejected.entry(r.reason().to_owned()).or_default() += 1;
                                }
                            }
                        }
                        Record::Proof(secret) => {
                            next.proofs += 1;
                            let o = batch.ingest_proof(secret)?;
                            next.proofs_new += u64::from(o.new);
                            next.purged += o.purged as u64;
                            next.delivered += u64::from(o.delivered);
                        }
                    }
                }
                batch.flush()
            })?;
            report = next;
            match stop {
                None => progress(&report),
                Some(None) => {
                    report.complete = true;
                    break;
                }
                Some(Some(e)) => {
                    report.error = Some(e);
                    break;
                }
            }
        }
        Ok(report)
    }
}
