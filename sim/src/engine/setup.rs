//! Builds the simulated population before time zero: identities, contact
//! exchange, groups (their key envelopes handed over directly) and channel
//! membership, so the run measures messages, not set-up traffic.

use super::node::SimNode;
use super::{SimClock, SimConfig, SimError};
use crate::scenario::{Role, Scenario, Target};
use pollen_node::admission::{NODE_GLOBAL_BYTES, NODE_PER_ORIGIN_BYTES};
use pollen_node::node::Node;
use pollen_node::store::StoreLimits;
use pollen_proto::envelope::{Commitment, Envelope, EnvelopeId, RoutingTag};
use std::collections::BTreeSet;

/// Name of the scenario's public channel.
pub(crate) const CHANNEL: &str = "public";

/// A node's alias in everyone else's contact list.
pub(crate) fn alias(n: u32) -> String {
    format!("n{n}")
}

/// A group's conversation name.
pub(crate) fn group_name(g: u32) -> String {
    format!("group{g}")
}

/// The text of message `i`, `size` bytes long.
pub(crate) fn text(i: usize, size: usize) -> String {
    let mut t = format!("message {i} ");
    while t.len() < size.clamp(1, 4000) {
        t.push_str("lorem ipsum ");
    }
    t.truncate(size.clamp(t.find(' ').unwrap_or(1), 4000));
    t
}

/// The delivery-proof commitment and expiry of a held envelope (zero and
/// never if unreadable).
pub(crate) fn commitment(node: &Node, id: &EnvelopeId) -> (Commitment, u64) {
    node.store()
        .envelope_bytes(id)
        .ok()
        .flatten()
        .and_then(|b| Envelope::decode(&b).ok())
        .map_or((Commitment([0; 32]), u64::MAX), |e| {
            (e.header().commitment, e.header().expires_at)
        })
}

pub(crate) fn nodes(
    sc: &Scenario,
    cfg: &SimConfig,
    clock: &SimClock,
    hostile: &BTreeSet<u32>,
) -> Result<Vec<SimNode>, SimError> {
    let fail = |node: u32| {
        move |e: pollen_node::node::NodeError| SimError::Setup {
            node,
            reason: e.to_string(),
        }
    };
    let mut nodes = Vec::with_capacity(sc.roles.len());
    for (i, &role) in sc.roles.iter().enumerate() {
        let bad = hostile.contains(&(i as u32)) && !cfg.adversary_baseline;
        let limits = match role {
            // A hostile phone's software ignores any cap.
            // One neighbour may fill the same share of the cap as on a phone.
            Role::Person if !bad => StoreLimits {
                global_bytes: cfg.store_cap_bytes,
                per_origin_bytes: cfg.store_cap_bytes / (NODE_GLOBAL_BYTES / NODE_PER_ORIGIN_BYTES),
            },
            // Infrastructure has disks.
            _ => StoreLimits {
                global_bytes: 1 << 40,
                per_origin_bytes: 1 << 40,
            },
        };
        let mut node = Node::in_memory(&alias(i as u32), limits, Box::new(clock.clone()))
            .map_err(fail(i as u32))?;
        if role == Role::Person {
            node.set_chunk_limits(pollen_node::attachments::ChunkLimits {
                carried_bytes: cfg.chunk_cap_bytes,
                per_origin_bytes: cfg.chunk_cap_bytes / 4,
            });
        }
        let mut sim = SimNode::new(node, role, cfg.policy).map_err(fail(i as u32))?;
        sim.item_cache = cfg.item_cache;
        if bad {
            sim.hostile = cfg.adversary.map(|a| a.kind);
        }
        nodes.push(sim);
    }
    // Who must know whom: senders and addressees, group creators and members.
    let mut pairs = BTreeSet::new();
    for m in &sc.messages {
        if let Target::Direct(to) = m.to
            && to != m.from
        {
            pairs.insert((m.from.min(to), m.from.max(to)));
        }
    }
    for g in &sc.groups {
        if let Some(&creator) = g.first() {
            for &m in &g[1..] {
                pairs.insert((creator.min(m), creator.max(m)));
            }
        }
    }
    let cards: Vec<String> = nodes.iter().map(|n| n.node.card()).collect();
    for &(a, b) in &pairs {
        nodes[a as usize]
            .node
            .add_contact(&cards[b as usize], Some(&alias(b)))
            .map_err(fail(a))?;
        nodes[b as usize]
            .node
            .add_contact(&cards[a as usize], Some(&alias(a)))
            .map_err(fail(b))?;
    }
    for (g, members) in sc.groups.iter().enumerate() {
        let Some((&creator, rest)) = members.split_first() else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let names: Vec<String> = rest.iter().map(|&m| alias(m)).collect();
        let before: BTreeSet<EnvelopeId> = held_ids(&nodes[creator as usize].node);
        nodes[creator as usize]
            .node
            .create_group(&group_name(g as u32), &names)
            .map_err(fail(creator))?;
        // Hand each member its key envelope directly.
        let now = nodes[creator as usize].node.now();
        let fresh: Vec<Vec<u8>> = nodes[creator as usize]
            .node
            .store()
            .envelopes(now)
            .map_err(|e| fail(creator)(e.into()))?
            .into_iter()
            .filter(|e| !before.contains(&e.id))
            .map(|e| e.bytes)
            .collect();
        for bytes in fresh {
            let Ok(env) = Envelope::decode(&bytes) else {
                continue;
            };
            let h = env.header();
            for &m in rest {
                let node = &nodes[m as usize].node;
                if h.tag == RoutingTag::direct(node.public(), h.expires_at) {
                    node.ingest_envelopes(&[(bytes.clone(), None)], "setup")
                        .map_err(fail(m))?;
                }
            }
        }
    }
    if !sc.channel.is_empty() {
        for &m in &sc.channel {
            nodes[m as usize]
                .node
                .join_channel(CHANNEL)
                .map_err(fail(m))?;
        }
    }
    for (i, n) in nodes.iter_mut().enumerate() {
        n.hide_current().map_err(|e| SimError::Setup {
            node: i as u32,
            reason: e.to_string(),
        })?;
    }
    Ok(nodes)
}

fn held_ids(node: &Node) -> BTreeSet<EnvelopeId> {
    node.store()
        .envelopes(node.now())
        .map(|v| v.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}
