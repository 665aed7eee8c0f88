//! A live link: both sessions exchanging bytes over the simulated link at
//! an instant, and the bookkeeping when the link closes.

use super::link::Link;
use super::node::SimNode;
use super::{EPOCH_S, Engine, Ev, secs_ms, two};

impl Engine<'_> {
    /// Runs a link at `now` until nothing more happens at this instant.
    pub(super) fn step(&mut self, id: u64, now: u64) {
        let Some(live) = self.links.get_mut(&id) else {
            return;
        };
        let [a, b] = live.link.ends;
        if live.link.drop_at.is_some_and(|t| t <= now) {
            self.end_link(id, false, now);
            return;
        }
        let before = (self.nodes[a as usize].news, self.nodes[b as usize].news);
        let (na, nb) = two(&mut self.nodes, a, b);
        na.peer = Some((b, nb.role));
        nb.peer = Some((a, na.role));
        let link = &mut live.link;
        exchange(link, na, nb, now);
        // Copy bookkeeping rides along with the bytes.
        for (_, env, meta) in na.outgoing.drain(..) {
            nb.incoming.insert((a, env), meta);
        }
        for (_, env, meta) in nb.outgoing.drain(..) {
            na.incoming.insert((b, env), meta);
        }
        na.peer = None;
        nb.peer = None;
        let after = (na.news, nb.news);
        live.own_bumps.0 += after.0 - before.0;
        live.own_bumps.1 += after.1 - before.1;
        let opened_here = !na.opened.is_empty() || !nb.opened.is_empty();
        let closed = link.sessions.iter().all(|s| s.is_closed()) && link.drained();
        if opened_here {
            self.collect_deliveries(a, now);
            self.collect_deliveries(b, now);
        }
        let Some(link) = self.links.get(&id).map(|l| &l.link) else {
            return;
        };
        if closed {
            let ok = link.sessions.iter().all(|s| s.is_finished());
            self.end_link(id, ok, now);
            return;
        }
        match next_wake(link) {
            Some(t) => {
                let t = t.max(now + 1);
                if let Some(live) = self.links.get_mut(&id) {
                    live.wake = Some(t);
                }
                self.push(t, Ev::Wake(id));
            }
            None => self.end_link(id, false, now),
        }
    }

    pub(super) fn end_link(&mut self, id: u64, ok: bool, now: u64) {
        let Some(mut live) = self.links.remove(&id) else {
            return;
        };
        let [a, b] = live.link.ends;
        let (na, nb) = two(&mut self.nodes, a, b);
        if !ok {
            self.stats.sessions_cut += 1;
            na.peer = Some((b, nb.role));
            nb.peer = Some((a, na.role));
            live.link.sessions[0].link_lost(na);
            live.link.sessions[1].link_lost(nb);
            na.peer = None;
            nb.peer = None;
        }
        na.incoming.retain(|(f, _), _| *f != b);
        nb.incoming.retain(|(f, _), _| *f != a);
        self.stats.bytes += live.link.bytes[0] + live.link.bytes[1];
        for session in &live.link.sessions {
            let st = session.stats();
            self.stats.proofs_sent += st.proofs_sent;
            self.stats.duplicates += st.duplicates;
            for (kind, bytes) in &st.sent_by_kind {
                *self.stats.bytes_by_message.entry(kind).or_default() += bytes;
            }
        }
        // Each side counts the reconciliation both ways: once per link, the
        // larger count (a cut session may have lost a message in flight).
        // Summing the two sides counted every byte twice until 2026-12-05.
        self.stats.recon_bytes += live
            .link
            .sessions
            .iter()
            .map(|s| s.stats().recon_bytes)
            .max()
            .unwrap_or(0);
        if live.own_bumps == (0, 0) {
            self.stats.sessions_idle += 1;
            self.stats.idle_bytes += live.link.bytes[0] + live.link.bytes[1];
        }
        let end_versions = (na.news, nb.news);
        // A side is in sync if nothing but this link changed it meanwhile.
        let synced = (
            if end_versions.0 == live.start_versions.0 + live.own_bumps.0 {
                end_versions.0
            } else {
                live.start_versions.0
            },
            if end_versions.1 == live.start_versions.1 + live.own_bumps.1 {
                end_versions.1
            } else {
                live.start_versions.1
            },
        );
        if let Some(p) = self.pairs.get_mut(&(a, b)) {
            p.link = None;
            if ok {
                p.cadence.succeeded(now);
                p.synced = synced;
            } else {
                let rounds = p.cadence.failures;
                p.cadence.failed(now, false, rounds);
            }
        }
        self.collect_deliveries(a, now);
        self.collect_deliveries(b, now);
        self.note_usage(a);
        self.note_usage(b);
        self.release((a, b), live.kind, now);
        let delay = secs_ms(self.cfg.nudge_s);
        if live.own_bumps.0 > 0 {
            self.nudge(a, now, delay);
        }
        if live.own_bumps.1 > 0 {
            self.nudge(b, now, delay);
        }
        // Cut short, or something new arrived from elsewhere meanwhile:
        // this pair syncs again once it may.
        self.try_connect((a, b), now);
    }
}

/// Moves bytes both ways, delivers what arrived and fires due timeouts,
/// until a pass over both sides changes nothing.
fn exchange(link: &mut Link, na: &mut SimNode, nb: &mut SimNode, now: u64) {
    let clock_ms = EPOCH_S * 1000 + now;
    loop {
        let mut progressed = false;
        for side in 0..2 {
            let node: &mut SimNode = if side == 0 { &mut *na } else { &mut *nb };
            while let Some(bytes) = link.sessions[side].poll_transmit(node) {
                if !bytes.is_empty() {
                    link.send(side, bytes, now);
                    progressed = true;
                }
            }
        }
        for (from, to) in [(0usize, 1usize), (1, 0)] {
            let bytes = link.arrived(from, now);
            if bytes.is_empty() {
                continue;
            }
            progressed = true;
            let node: &mut SimNode = if to == 0 { &mut *na } else { &mut *nb };
            link.sessions[to].handle_input(&bytes, clock_ms, node);
        }
        for side in 0..2 {
            if link.sessions[side]
                .poll_timeout()
                .is_some_and(|t| t <= clock_ms)
            {
                let node: &mut SimNode = if side == 0 { &mut *na } else { &mut *nb };
                link.sessions[side].handle_timeout(clock_ms, node);
                progressed = true;
            }
            while link.sessions[side].poll_event().is_some() {}
        }
        if !progressed {
            break;
        }
    }
}

/// When the link next needs a step (an arrival, a session timeout or the
/// drop), in simulation milliseconds.
fn next_wake(link: &Link) -> Option<u64> {
    [
        link.next_arrival(),
        link.sessions[0]
            .poll_timeout()
            .map(|t| t.saturating_sub(EPOCH_S * 1000)),
        link.sessions[1]
            .poll_timeout()
            .map(|t| t.saturating_sub(EPOCH_S * 1000)),
        link.drop_at,
    ]
    .into_iter()
    .flatten()
    .min()
}
