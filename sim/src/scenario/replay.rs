//! Replays of recorded contact traces, with a synthetic workload.

use super::params::{Defaults, Resolved, bad};
use super::{Role, Scenario, ScenarioError, ScenarioParams, contacts};
use crate::trace::Trace;
use crate::workload;

/// A recorded trace with a synthetic workload: `messages` (default 200)
/// direct messages between random pairs of nodes that appear in the trace,
/// written uniformly over its first 90 %, `msg_size` (default 20–300 B),
/// `ttl_s` (default one day). Every node is a Person; there are no groups
/// and no channel. `duration_s` may extend the run past the trace's end
/// (never shorten it). Mobility parameters (people, range, step, minimum
/// contact) do not apply and are rejected, as are traces with more than
/// a million nodes or malformed contacts (possible in hand-built ones).
pub fn from_trace(mut trace: Trace, p: &ScenarioParams) -> Result<Scenario, ScenarioError> {
    if p.people.is_some()
        || p.ble_range_m.is_some()
        || p.step_s.is_some()
        || p.min_contact_s.is_some()
    {
        return Err(bad(
            "people/ble_range_m/step_s/min_contact_s",
            "a recorded trace fixes who meets whom",
        ));
    }
    let defaults = Defaults {
        people: trace.nodes,
        duration: trace.end,
        messages: 200,
        ttl: 86_400.0,
        range: 0.0,
        step: 1.0,
        min_contact: 0.0,
    };
    let v = Resolved::new(p, &defaults)?;
    check_trace(&trace)?;
    contacts::sort_contacts(&mut trace.contacts);
    let duration = p.duration_s.map_or(trace.end, |d| d.max(trace.end));
    let mut active = vec![false; trace.nodes as usize];
    for c in &trace.contacts {
        for n in [c.a, c.b] {
            if let Some(slot) = active.get_mut(n as usize) {
                *slot = true;
            }
        }
    }
    let nodes: Vec<u32> = (0..trace.nodes).filter(|&n| active[n as usize]).collect();
    let messages = workload::random_direct(
        v.seed,
        &nodes,
        v.messages,
        (0.0, 0.9 * trace.end),
        v.style(),
    );
    Ok(Scenario {
        name: "trace".into(),
        roles: vec![Role::Person; trace.nodes as usize],
        trace: Trace {
            end: duration,
            ..trace
        },
        groups: Vec::new(),
        channel: Vec::new(),
        messages,
        duration,
    })
}

/// The most nodes a replayed trace may have: every node costs the engine
/// a whole Pollen node.
pub const MAX_TRACE_NODES: u32 = 1_000_000;

fn check_trace(trace: &Trace) -> Result<(), ScenarioError> {
    if trace.nodes > MAX_TRACE_NODES {
        return Err(ScenarioError::BadTrace(format!(
            "{} nodes, more than the {MAX_TRACE_NODES} supported",
            trace.nodes
        )));
    }
    if !trace.end.is_finite() || trace.end < 0.0 {
        return Err(ScenarioError::BadTrace(format!("end time {}", trace.end)));
    }
    for c in &trace.contacts {
        let times_ok =
            c.start.is_finite() && c.end.is_finite() && 0.0 <= c.start && c.start <= c.end;
        if c.a >= c.b || c.b >= trace.nodes || !times_ok {
            return Err(ScenarioError::BadTrace(format!("malformed contact {c:?}")));
        }
    }
    Ok(())
}
