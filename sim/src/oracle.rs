//! The oracle: the earliest time a message could possibly be delivered over a
//! contact trace.
//!
//! Model: zero transfer time and unlimited storage. A message held by node
//! `x` at time `t` can be handed to `y` at `max(t, start)` during any contact
//! `(x, y)` with `end >= t` (a contact is usable over its whole closed
//! interval `[start, end]`), as long as that instant is no later than
//! `created_at + ttl`. Hand-overs are instantaneous, so a message may cross
//! several contacts within one instant. No routing policy can deliver
//! earlier than this, which makes it the simulator's yardstick.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::trace::Trace;

/// A message to route: from `source` to `destination`, created at
/// `created_at` and droppable after `created_at + ttl` (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Message {
    /// The node that creates the message.
    pub source: u32,
    /// The node the message is for.
    pub destination: u32,
    /// When the message is created.
    pub created_at: f64,
    /// How long after `created_at` it may still be handed over
    /// (`f64::INFINITY` for never expiring).
    pub ttl: f64,
}

/// One direction of a contact, as seen from the node holding the message.
#[derive(Debug, Clone, Copy)]
struct Edge {
    to: usize,
    start: f64,
    end: f64,
}

/// A trace prepared for many earliest-delivery queries: built once in
/// O(C), then each query costs O(C log C) at most.
#[derive(Debug, Clone)]
pub struct Oracle {
    /// Node id -> dense index; only nodes that appear in some contact, so a
    /// hand-built trace with huge ids costs no more than one with small ones.
    index: HashMap<u32, usize>,
    /// Contacts of each dense node, both directions.
    edges: Vec<Vec<Edge>>,
}

impl Oracle {
    /// Prepares `trace` for queries.
    pub fn new(trace: &Trace) -> Self {
        let mut index = HashMap::new();
        let mut edges: Vec<Vec<Edge>> = Vec::new();
        let mut dense = |id: u32, edges: &mut Vec<Vec<Edge>>| {
            *index.entry(id).or_insert_with(|| {
                edges.push(Vec::new());
                edges.len() - 1
            })
        };
        for c in &trace.contacts {
            let a = dense(c.a, &mut edges);
            let b = dense(c.b, &mut edges);
            let (start, end) = (c.start, c.end);
            edges[a].push(Edge { to: b, start, end });
            edges[b].push(Edge { to: a, start, end });
        }
        Oracle { index, edges }
    }

    /// The earliest time `msg` can reach its destination, or `None` if no
    /// journey within the TTL exists (or the message is invalid: a `NaN`
    /// time, a negative TTL).
    ///
    /// Algorithm: Dijkstra on earliest arrival times. Crossing a contact
    /// from a node reached at `t` arrives at `max(t, start)`, which never
    /// decreases as `t` grows (the FIFO property), so the first time a node
    /// is popped from the heap is its earliest arrival, exactly as with
    /// shortest paths. Each node is settled once and each contact relaxed at
    /// most twice (once per endpoint), so a query is O(C log C). We stop as
    /// soon as the destination is settled. Zero-cost hops (`max(t, start) ==
    /// t`) are what lets chains within one instant through.
    pub fn earliest_delivery(&self, msg: &Message) -> Option<f64> {
        let deadline = msg.created_at + msg.ttl;
        // Written as a negation so that `NaN` anywhere also lands here.
        if !(msg.created_at.is_finite() && msg.ttl >= 0.0) {
            return None;
        }
        if msg.source == msg.destination {
            return Some(msg.created_at);
        }
        let source = *self.index.get(&msg.source)?;
        let destination = *self.index.get(&msg.destination)?;
        let (arrival, settled) = self.search(source, msg.created_at, deadline, Some(destination));
        settled[destination].then_some(arrival[destination])
    }

    /// Foremost journeys from dense node `source`: each node's earliest
    /// arrival and whether it was settled, stopping once `stop_at` settles.
    fn search(
        &self,
        source: usize,
        created_at: f64,
        deadline: f64,
        stop_at: Option<usize>,
    ) -> (Vec<f64>, Vec<bool>) {
        let found = self.walk(
            &[(source, created_at)],
            deadline,
            &Walk {
                stop_at,
                ..Walk::default()
            },
        );
        (found.arrival, found.settled)
    }

    /// Foremost journeys from several dense nodes, each holding the message
    /// from its own time, restricted and stopped as `how` says.
    pub(crate) fn walk(&self, starts: &[(usize, f64)], deadline: f64, how: &Walk<'_>) -> Found {
        let n = self.edges.len();
        let mut found = Found {
            arrival: vec![f64::INFINITY; n],
            settled: vec![false; n],
            order: Vec::new(),
        };
        let mut heap = BinaryHeap::new();
        for &(node, time) in starts {
            if node < n && time < found.arrival[node] {
                found.arrival[node] = time;
                heap.push(Reached { time, node });
            }
        }
        let enters = |node: usize| how.enters.is_none_or(|e| e.get(node) == Some(&true));
        // The earliest time in `[from, until]` at which `node` may be
        // entered: at once where `enters` allows it, else inside one of its
        // windows. Never decreases as `from` grows, so Dijkstra still holds.
        let entry = |node: usize, from: f64, until: f64| -> Option<f64> {
            if enters(node) {
                return (from <= until).then_some(from);
            }
            let windows = how.windows?.get(node)?;
            windows
                .iter()
                .find(|&&(_, end)| end > from)
                .map(|&(start, _)| from.max(start))
                .filter(|&t| t <= until)
        };
        while let Some(Reached { time, node }) = heap.pop() {
            if found.settled[node] {
                continue;
            }
            found.settled[node] = true;
            found.order.push(node);
            if Some(node) == how.stop_at || how.settle.is_some_and(|k| found.order.len() >= k) {
                break;
            }
            for edge in &self.edges[node] {
                if edge.end < time {
                    continue;
                }
                let Some(at) = entry(edge.to, time.max(edge.start), edge.end) else {
                    continue;
                };
                if at <= deadline && at < found.arrival[edge.to] {
                    found.arrival[edge.to] = at;
                    heap.push(Reached {
                        time: at,
                        node: edge.to,
                    });
                }
            }
        }
        found
    }

    /// The dense index of node `id`, if it has any contact.
    pub(crate) fn dense(&self, id: u32) -> Option<usize> {
        self.index.get(&id).copied()
    }

    /// How many nodes have a contact (dense indices run below this).
    pub(crate) fn len(&self) -> usize {
        self.edges.len()
    }

    /// The contacts of dense node `node`: the other end, start and end.
    pub(crate) fn contacts(&self, node: usize) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
        self.edges[node].iter().map(|e| (e.to, e.start, e.end))
    }

    /// The `i`-th contact of dense node `node` in start order.
    pub(crate) fn contact(&self, node: usize, i: usize) -> Option<(usize, f64, f64)> {
        self.edges[node].get(i).map(|e| (e.to, e.start, e.end))
    }

    /// The index of `node`'s first contact that comes up after `t`.
    pub(crate) fn first_after(&self, node: usize, t: f64) -> usize {
        self.edges[node].partition_point(|e| e.start <= t)
    }

    /// Node ids by dense index.
    pub(crate) fn ids(&self) -> Vec<u32> {
        let mut ids = vec![0; self.edges.len()];
        for (&id, &d) in &self.index {
            ids[d] = id;
        }
        ids
    }
}

/// How a [`Oracle::walk`] spreads and when it stops.
#[derive(Debug, Default)]
pub(crate) struct Walk<'a> {
    /// Dense nodes the message may be handed to (every node when `None`);
    /// the starting nodes hold it regardless.
    pub enters: Option<&'a [bool]>,
    /// Besides `enters`: times at which a dense node may also be handed the
    /// message, as sorted, disjoint `[start, end)` windows per node (what a
    /// router knows of a node at each moment, `bound::encounter`).
    pub windows: Option<&'a [Vec<(f64, f64)>]>,
    /// Stop once this dense node is settled.
    pub stop_at: Option<usize>,
    /// Stop once this many nodes are settled.
    pub settle: Option<usize>,
}

/// What a [`Oracle::walk`] found, by dense node.
#[derive(Debug)]
pub(crate) struct Found {
    /// Earliest arrival (infinite where never reached).
    pub arrival: Vec<f64>,
    /// Whether the arrival is final (settled before the walk stopped).
    pub settled: Vec<bool>,
    /// Settled nodes, earliest first.
    pub order: Vec<usize>,
}

impl Oracle {
    /// The earliest time a message from `source` created at `created_at`
    /// can reach every node within `ttl` (one query for all recipients of a
    /// group or channel message). Nodes it cannot reach are absent.
    pub fn arrivals(&self, source: u32, created_at: f64, ttl: f64) -> HashMap<u32, f64> {
        let mut out = HashMap::new();
        if !(created_at.is_finite() && ttl >= 0.0) {
            return out;
        }
        out.insert(source, created_at);
        let Some(&src) = self.index.get(&source) else {
            return out;
        };
        let (arrival, settled) = self.search(src, created_at, created_at + ttl, None);
        for (&id, &dense) in &self.index {
            if settled[dense] {
                out.insert(id, arrival[dense]);
            }
        }
        out
    }
}

/// A heap entry: `node` holds the message from `time` on. Ordered so that
/// `BinaryHeap`, a max-heap, pops the earliest time first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reached {
    time: f64,
    node: usize,
}

impl Eq for Reached {}

impl Ord for Reached {
    fn cmp(&self, other: &Self) -> Ordering {
        // `total_cmp`, not `partial_cmp`: a hand-built trace may hold NaN,
        // and that must not panic; ties broken by node for determinism.
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Reached {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The earliest time `msg` can reach its destination over `trace` (see
/// [`Oracle::earliest_delivery`]); use [`earliest_deliveries`] for many.
pub fn earliest_delivery(trace: &Trace, msg: &Message) -> Option<f64> {
    Oracle::new(trace).earliest_delivery(msg)
}

/// [`earliest_delivery`] for each of `msgs`, in order, preparing the trace
/// only once.
pub fn earliest_deliveries(trace: &Trace, msgs: &[Message]) -> Vec<Option<f64>> {
    let oracle = Oracle::new(trace);
    msgs.iter().map(|m| oracle.earliest_delivery(m)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::{Contact, LinkKind, parse};
    use proptest::prelude::*;

    fn msg(source: u32, destination: u32, created_at: f64, ttl: f64) -> Message {
        Message {
            source,
            destination,
            created_at,
            ttl,
        }
    }

    fn deliver(trace: &str, m: Message) -> Option<f64> {
        earliest_delivery(&parse(trace).unwrap(), &m)
    }

    #[test]
    fn store_carry_forward_through_a_node_that_meets_the_source_first() {
        let trace = "10 CONN 0 1 up\n20 CONN 0 1 down\n30 CONN 1 2 up\n40 CONN 1 2 down\n";
        assert_eq!(deliver(trace, msg(0, 2, 5.0, 100.0)), Some(30.0));
        // Created while 0-1 is up: handed over at once, then carried.
        assert_eq!(deliver(trace, msg(0, 2, 15.0, 100.0)), Some(30.0));
        // The other way round, 2 meets 1 too late to reach 0.
        assert_eq!(deliver(trace, msg(2, 0, 0.0, 100.0)), None);
    }

    #[test]
    fn a_relay_that_met_the_destination_earlier_does_not_help() {
        let trace = "0 CONN 1 2 up\n5 CONN 1 2 down\n10 CONN 0 1 up\n20 CONN 0 1 down\n";
        assert_eq!(deliver(trace, msg(0, 2, 0.0, f64::INFINITY)), None);
        assert_eq!(deliver(trace, msg(2, 0, 0.0, f64::INFINITY)), Some(10.0));
    }

    #[test]
    fn a_contact_that_ends_before_the_message_exists_is_useless() {
        let trace = "0 CONN 0 1 up\n10 CONN 0 1 down\n";
        assert_eq!(deliver(trace, msg(0, 1, 15.0, 100.0)), None);
        // The interval is closed: created at the very instant it goes down.
        assert_eq!(deliver(trace, msg(0, 1, 10.0, 100.0)), Some(10.0));
        assert_eq!(deliver(trace, msg(0, 1, 3.5, 100.0)), Some(3.5));
    }

    #[test]
    fn ttl_cuts_off_late_hand_overs() {
        let trace = "50 CONN 0 1 up\n60 CONN 0 1 down\n70 CONN 1 2 up\n";
        assert_eq!(deliver(trace, msg(0, 1, 0.0, 49.0)), None);
        assert_eq!(deliver(trace, msg(0, 1, 0.0, 50.0)), Some(50.0));
        // The first hop fits in the TTL but the second does not.
        assert_eq!(deliver(trace, msg(0, 2, 0.0, 69.5)), None);
        assert_eq!(deliver(trace, msg(0, 2, 0.0, 70.0)), Some(70.0));
        // Contacts already up when the TTL runs out still count before it.
        assert_eq!(deliver(trace, msg(0, 1, 55.0, 0.0)), Some(55.0));
    }

    #[test]
    fn chains_within_one_instant() {
        // Listed back to front, so one pass in file order would miss it.
        let trace = "5 CONN 2 3 up\n5 CONN 1 2 up\n5 CONN 0 1 up\n\
                     5 CONN 0 1 down\n5 CONN 1 2 down\n9 CONN 2 3 down\n";
        assert_eq!(deliver(trace, msg(0, 3, 0.0, 10.0)), Some(5.0));
        assert_eq!(deliver(trace, msg(0, 3, 0.0, 5.0)), Some(5.0));
        assert_eq!(deliver(trace, msg(3, 0, 5.0, 0.0)), Some(5.0));
        assert_eq!(deliver(trace, msg(0, 3, 5.5, 10.0)), None);
        // One contact going down exactly as the next comes up.
        let trace = "0 CONN 0 1 up\n5 CONN 0 1 down\n5 CONN 1 2 up\n6 CONN 1 2 down\n";
        assert_eq!(deliver(trace, msg(0, 2, 1.0, 10.0)), Some(5.0));
    }

    #[test]
    fn the_earliest_of_several_journeys_wins() {
        // Direct at 100, or via 1 then 2 at 30.
        let trace = "10 CONN 0 1 up\n11 CONN 0 1 down\n30 CONN 1 3 up\n31 CONN 1 3 down\n\
                     100 CONN 0 3 up\n";
        assert_eq!(deliver(trace, msg(0, 3, 0.0, f64::INFINITY)), Some(30.0));
        assert_eq!(deliver(trace, msg(0, 3, 12.0, f64::INFINITY)), Some(100.0));
    }

    #[test]
    fn messages_to_oneself_and_to_unknown_nodes() {
        let trace = "0 CONN 0 1 up\n";
        assert_eq!(deliver(trace, msg(7, 7, 3.0, 0.0)), Some(3.0));
        assert_eq!(deliver(trace, msg(0, 7, 0.0, 10.0)), None);
        assert_eq!(deliver(trace, msg(7, 0, 0.0, 10.0)), None);
        assert_eq!(deliver("", msg(0, 1, 0.0, 10.0)), None);
    }

    #[test]
    fn invalid_messages_are_never_delivered() {
        let trace = "0 CONN 0 1 up\n";
        for m in [
            msg(0, 1, 0.0, -1.0),
            msg(0, 1, 0.0, f64::NAN),
            msg(0, 1, f64::NAN, 1.0),
            msg(0, 1, f64::INFINITY, 1.0),
            msg(0, 0, 0.0, -1.0),
        ] {
            assert_eq!(deliver(trace, m), None, "{m:?}");
        }
    }

    #[test]
    fn hand_built_traces_with_odd_values_do_not_panic() {
        let trace = Trace {
            contacts: vec![
                Contact {
                    a: u32::MAX,
                    b: 0,
                    start: f64::NAN,
                    end: 5.0,
                    kind: LinkKind::Ble,
                },
                Contact {
                    a: 0,
                    b: 0,
                    start: 1.0,
                    end: 0.0,
                    kind: LinkKind::Lan,
                },
            ],
            nodes: 1,
            end: 0.0,
        };
        let _ = earliest_deliveries(&trace, &[msg(0, u32::MAX, 0.0, 9.0)]);
    }

    /// Obviously-correct reference: step through every integer instant,
    /// spreading the message over the contacts up at that instant until
    /// nothing changes (chains within the instant), then carrying it to the
    /// next. With integer contact times and creation time every hand-over
    /// happens at an integer instant (`max(t, start)`), and anything
    /// possible at a fractional instant inside `(k, k + 1)` is possible at
    /// `k + 1` too, so checking integers only loses nothing.
    fn brute_force(trace: &Trace, m: &Message) -> Option<f64> {
        let deadline = m.created_at + m.ttl;
        let last = trace
            .contacts
            .iter()
            .map(|c| c.end)
            .fold(m.created_at, f64::max);
        let mut holds = vec![false; trace.nodes as usize];
        holds[m.source as usize] = true;
        let mut t = m.created_at;
        while t <= deadline && t <= last {
            loop {
                let mut changed = false;
                for c in &trace.contacts {
                    let (a, b) = (c.a as usize, c.b as usize);
                    if c.start <= t && t <= c.end && holds[a] != holds[b] {
                        holds[a] = true;
                        holds[b] = true;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            if holds[m.destination as usize] {
                return Some(t);
            }
            t += 1.0;
        }
        None
    }

    /// Small random traces: up to 6 nodes and 12 contacts (same pair may
    /// overlap: the oracle must not care) with integer times in 0..50, and
    /// a handful of messages, some without expiry.
    pub(crate) fn small_case() -> impl Strategy<Value = (Trace, Vec<Message>)> {
        (2u32..=6).prop_flat_map(|n| {
            let contact = (0..n, 1..n, 0u32..50, 0u32..15).prop_map(move |(a, off, s, len)| {
                let b = (a + off) % n;
                Contact {
                    a: a.min(b),
                    b: a.max(b),
                    start: f64::from(s),
                    end: f64::from((s + len).min(49)),
                    kind: LinkKind::Ble,
                }
            });
            let ttl = prop_oneof![
                3 => (0u32..60).prop_map(f64::from),
                1 => Just(f64::INFINITY),
            ];
            let message = (0..n, 0..n, 0u32..50, ttl).prop_map(|(s, d, c, ttl)| Message {
                source: s,
                destination: d,
                created_at: f64::from(c),
                ttl,
            });
            (
                proptest::collection::vec(contact, 0..=12),
                proptest::collection::vec(message, 1..=8),
            )
                .prop_map(move |(mut contacts, msgs)| {
                    contacts.sort_by(|x, y| x.start.total_cmp(&y.start));
                    let trace = Trace {
                        contacts,
                        nodes: n,
                        end: 49.0,
                    };
                    (trace, msgs)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        #[test]
        fn oracle_equals_brute_force_on_small_random_traces((trace, msgs) in small_case()) {
            let batch = earliest_deliveries(&trace, &msgs);
            prop_assert_eq!(batch.len(), msgs.len());
            for (m, got) in msgs.iter().zip(batch) {
                let want = brute_force(&trace, m);
                prop_assert_eq!(got, want, "message {:?} over {:?}", m, trace.contacts);
                prop_assert_eq!(earliest_delivery(&trace, m), want);
            }
        }

        /// One query for every destination (group and channel messages)
        /// agrees with the brute force for each of them.
        #[test]
        fn arrivals_equal_brute_force_for_every_destination((trace, msgs) in small_case()) {
            let oracle = Oracle::new(&trace);
            let m = msgs[0];
            let all = oracle.arrivals(m.source, m.created_at, m.ttl);
            for d in 0..trace.nodes {
                let want = brute_force(&trace, &Message { destination: d, ..m });
                prop_assert_eq!(all.get(&d).copied(), want, "to {} over {:?}", d, trace.contacts);
            }
        }
    }
}
