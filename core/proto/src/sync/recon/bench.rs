//! The reconciliation benchmark: two synthetic sets reconciled end to end,
//! checked for exact differences and costed on the wire.

use super::wire::ID_SIZE;
use super::{MIN_MESSAGE, ReconError, ReconItem, ReconLimits, Reconciler};
use std::collections::HashSet;
use thiserror::Error;

/// What one benchmark reconciliation cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconBenchReport {
    /// Sum of `wire_cost(len)` over every message, both ways.
    pub bytes_total: usize,
    /// Initiator → responder → initiator exchanges.
    pub round_trips: u32,
    /// Messages sent, both ways.
    pub messages: u32,
    /// Ids the initiator found it holds and the responder lacks.
    pub have: usize,
    /// Ids the initiator found the responder holds and it lacks.
    pub need: usize,
}

/// Why a benchmark run failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BenchError {
    /// Reconciliation itself failed.
    #[error(transparent)]
    Recon(#[from] ReconError),
    /// Reconciliation finished with the wrong differences.
    #[error("reconciliation found {have} have / {need} need ids, expected exactly {expected} each")]
    Mismatch {
        /// Ids reported as have.
        have: usize,
        /// Ids reported as need.
        need: usize,
        /// The true difference on each side.
        expected: usize,
    },
    /// The responder produced no reply (it always must).
    #[error("responder gave no reply")]
    NoReply,
}

/// Start of the benchmark's expiry window: a fixed date, so runs repeat.
const BENCH_BASE: u64 = 1_800_000_000;
/// Shared envelopes expire over 14 days.
const BENCH_SPAN: u64 = 14 * 24 * 3600;
/// Differing envelopes expire within the hour after the newest shared one.
const BENCH_RECENT: u64 = 3600;

/// A deterministic pseudo-random item: the id and the expiry offset come from
/// the BLAKE3 output stream of `(side, counter)`.
fn bench_item(side: u8, counter: u64, from: u64, span: u64) -> ReconItem {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"pollen recon bench");
    hasher.update(&[side]);
    hasher.update(&counter.to_le_bytes());
    let mut out = [0u8; ID_SIZE + 8];
    hasher.finalize_xof().fill(&mut out);
    let mut id = [0u8; ID_SIZE];
    id.copy_from_slice(&out[..ID_SIZE]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&out[ID_SIZE..]);
    ReconItem {
        timestamp: from + u64::from_le_bytes(offset) % span,
        id,
    }
}

/// Reconciles two sets holding `items` shared ids plus `diff` ids of their
/// own each (the newest), checks that the initiator learned exactly the true
/// differences, and reports what it cost on the wire. `wire_cost` maps a
/// message length to the bytes the link spends on it (identity for none).
pub fn bench(
    items: usize,
    diff: usize,
    wire_cost: impl Fn(usize) -> usize,
) -> Result<ReconBenchReport, BenchError> {
    let shared = (0..items as u64).map(|i| bench_item(0, i, BENCH_BASE, BENCH_SPAN));
    let recent = BENCH_BASE + BENCH_SPAN;
    let a_only: Vec<ReconItem> = (0..diff as u64)
        .map(|i| bench_item(1, i, recent, BENCH_RECENT))
        .collect();
    let b_only: Vec<ReconItem> = (0..diff as u64)
        .map(|i| bench_item(2, i, recent, BENCH_RECENT))
        .collect();
    let mut a: Vec<ReconItem> = shared.collect();
    let mut b = a.clone();
    a.extend(&a_only);
    b.extend(&b_only);
    let limits = ReconLimits {
        max_message: MIN_MESSAGE,
        max_rounds: 10_000,
        max_items: items + diff,
        max_ids_learned: 2 * diff,
    };

    let (mut initiator, mut msg) = Reconciler::initiate(a, limits)?;
    let mut responder = Reconciler::respond_to(b, limits)?;
    let mut bytes_total = wire_cost(msg.len());
    let mut messages = 1;
    let mut have = HashSet::new();
    let mut need = HashSet::new();
    let mut reported = 0;
    loop {
        let reply = responder.receive(&msg)?.reply.ok_or(BenchError::NoReply)?;
        bytes_total += wire_cost(reply.len());
        messages += 1;
        let step = initiator.receive(&reply)?;
        reported += step.have.len() + step.need.len();
        have.extend(step.have);
        need.extend(step.need);
        match step.reply {
            None => break,
            Some(next) => {
                bytes_total += wire_cost(next.len());
                messages += 1;
                msg = next;
            }
        }
    }

    let exact = |found: &HashSet<[u8; 32]>, truth: &[ReconItem]| {
        found.len() == truth.len() && truth.iter().all(|item| found.contains(&item.id))
    };
    if reported != 2 * diff || !exact(&have, &a_only) || !exact(&need, &b_only) {
        return Err(BenchError::Mismatch {
            have: have.len(),
            need: need.len(),
            expected: diff,
        });
    }
    Ok(ReconBenchReport {
        bytes_total,
        round_trips: initiator.rounds(),
        messages,
        have: have.len(),
        need: need.len(),
    })
}
