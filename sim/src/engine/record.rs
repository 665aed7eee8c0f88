//! What a run records: deliveries, storage use over time, and at the end
//! each (message, recipient) pair against the oracle.

use super::{EPOCH_S, Engine, Written};
use crate::metrics::Target;
use crate::oracle::Oracle;
use crate::scenario::{Role, Scenario};
use pollen_proto::envelope::{Commitment, EnvelopeId};
use std::collections::HashMap;

impl Engine<'_> {
    pub(super) fn collect_deliveries(&mut self, n: u32, now: u64) {
        let node = &mut self.nodes[n as usize];
        self.stats.transmissions += std::mem::take(&mut node.received);
        self.stats.envelope_bytes += std::mem::take(&mut node.received_bytes);
        for (env, via_relay) in node.opened.drain(..) {
            if let Some(&Written { message: m, .. }) = self.env_msg.get(&EnvelopeId(env)) {
                self.delivered
                    .entry((m, n))
                    .or_insert((now as f64 / 1000.0, via_relay));
            }
        }
    }

    /// The bytes `n` stores now, noted towards its peak.
    pub(super) fn note_usage(&mut self, n: u32) -> u64 {
        // Hostile software ignores caps and infrastructure has disks: the
        // peak is the honest phones'.
        if self.hostile.contains(&n) || self.nodes[n as usize].role != Role::Person {
            return 0;
        }
        let i = n as usize;
        let version = self.nodes[i].version;
        if let Some((v, bytes)) = self.usage[i]
            && v == version
        {
            return bytes;
        }
        let bytes = match self.nodes[i].node.store().usage() {
            Ok(u) => u.bytes(),
            Err(e) => {
                tracing::debug!(node = n, error = %e, "usage failed");
                return 0;
            }
        };
        self.usage[i] = Some((version, bytes));
        self.peak[i] = self.peak[i].max(bytes);
        bytes
    }

    pub(super) fn sample(&mut self, now: u64) {
        let mut max = 0u64;
        // Expired envelopes are never offered anyway; purging them is
        // housekeeping, done every ten samples.
        let purge = self.storage.len().is_multiple_of(10);
        for n in 0..self.nodes.len() {
            if self.nodes[n].role == Role::Person && !self.hostile.contains(&(n as u32)) {
                if purge {
                    match self.nodes[n].node.expire() {
                        Ok(0) => {}
                        Ok(_) => self.usage[n] = None,
                        Err(e) => tracing::debug!(node = n, error = %e, "expiry failed"),
                    }
                }
                max = max.max(self.note_usage(n as u32));
            }
        }
        self.storage.push((now as f64 / 1000.0, max as f64));
    }

    /// When the sender of direct message `m` learnt it was delivered, in
    /// seconds from the start, if it did.
    fn receipt(&self, m: usize, commitment: Option<&Commitment>) -> Option<f64> {
        let from = self.sc.messages[m].from as usize;
        let at = self.nodes[from]
            .node
            .store()
            .delivered_at(commitment?)
            .ok()??;
        Some(at.saturating_sub(EPOCH_S) as f64)
    }

    pub(super) fn targets(&self) -> Vec<Target> {
        let oracle = Oracle::new(&self.sc.trace);
        let commitments: HashMap<usize, Commitment> = self
            .env_msg
            .values()
            .map(|w| (w.message, w.commitment))
            .collect();
        let mut out = Vec::new();
        for (i, m) in self.sc.messages.iter().enumerate() {
            if self.hostile.contains(&m.from) {
                continue;
            }
            let arrivals = oracle.arrivals(m.from, m.at, m.ttl);
            for r in recipients(self.sc, m) {
                if self.hostile.contains(&r) {
                    continue;
                }
                let deadline = (m.at + m.ttl).min(self.sc.duration);
                out.push(Target {
                    message: i as u32,
                    recipient: r,
                    size: m.size as u64,
                    created_at: m.at,
                    oracle: arrivals.get(&r).copied().filter(|&t| t <= deadline),
                    delivered: self.delivered.get(&(i, r)).map(|d| d.0),
                    via_relay: self.delivered.get(&(i, r)).is_some_and(|d| d.1),
                    receipt: match m.to {
                        crate::scenario::Target::Direct(_) => self.receipt(i, commitments.get(&i)),
                        _ => None,
                    },
                    kind: match m.to {
                        crate::scenario::Target::Direct(_) => "direct",
                        crate::scenario::Target::Group(_) => "group",
                        crate::scenario::Target::Channel => "channel",
                    },
                });
            }
        }
        out
    }

    /// Own messages neither held, delivered nor expired: must stay zero.
    pub(super) fn own_lost(&self) -> u64 {
        let now = EPOCH_S + self.end_ms / 1000;
        let mut lost = 0;
        for (env, w) in &self.env_msg {
            // The envelope's own expiry, in whole seconds as the node wrote
            // it: the store drops it then, which is not a loss.
            if w.expires_at <= now {
                continue;
            }
            let from = self.sc.messages[w.message].from;
            if self.hostile.contains(&from) {
                continue;
            }
            let node = &self.nodes[from as usize].node;
            match node.store().envelope_state(env, &w.commitment) {
                Ok((held, _, proven)) if held || proven => {}
                _ => lost += 1,
            }
        }
        lost
    }
}

/// Who gets message `m`: its addressee, or every other member of its group
/// or of the channel.
pub fn recipients(sc: &Scenario, m: &crate::scenario::MessageSpec) -> Vec<u32> {
    use crate::scenario::Target as To;
    match m.to {
        To::Direct(r) => vec![r],
        To::Group(g) => sc
            .groups
            .get(g as usize)
            .map(|g| g.iter().copied().filter(|&r| r != m.from).collect())
            .unwrap_or_default(),
        To::Channel => sc
            .channel
            .iter()
            .copied()
            .filter(|&r| r != m.from)
            .collect(),
    }
}
