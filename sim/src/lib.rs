//! Pollen's deterministic mesh simulator.
//!
//! - [`trace`]: contact traces as recorded (ONE's `time CONN a b up|down`
//!   events, CRAWDAD-style `a b start end` lists), oddities counted;
//! - [`bound`]: what a copy budget buys a router that cannot tell good
//!   carriers from bad ones (the ideal blind spray), and what exact
//!   knowledge of whom people meet would add ([`bound::encounter`]);
//! - [`oracle`]: the earliest possible delivery of a message over a trace,
//!   the yardstick no routing policy can beat;
//! - [`scenario`]: festival, village, city and social-city scenarios (mobility turned
//!   into BLE, LAN and uplink contacts, plus a message workload), and
//!   replays of recorded traces;
//! - [`workload`]: synthetic message workloads;
//! - [`plot`]: SVG charts of delivery, latency and storage per policy.
//! - [`policy`]: the routing policies compared;
//! - [`engine`]: real core nodes syncing over simulated BLE, hotspot and
//!   uplink links on virtual time;
//! - [`adversary`]: hostile phones (black and grey holes, flooders, liars);
//! - [`metrics`]: the figures of a run.
//!
//! ```
//! use pollen_sim::{Message, earliest_delivery, parse};
//!
//! // Node 1 meets the source at 10 s, then carries the message to node 2.
//! let trace = parse("10 CONN 0 1 up\n20 CONN 0 1 down\n30 CONN 1 2 up\n")?;
//! let msg = Message { source: 0, destination: 2, created_at: 0.0, ttl: 60.0 };
//! assert_eq!(earliest_delivery(&trace, &msg), Some(30.0));
//! # Ok::<(), pollen_sim::TraceError>(())
//! ```

pub mod adversary;
pub mod bound;
pub mod engine;
pub mod metrics;
pub mod oracle;
pub mod plot;
pub mod policy;
pub mod scenario;
pub mod trace;
pub mod workload;

pub use oracle::{Message, Oracle, earliest_deliveries, earliest_delivery};
pub use plot::{PlotData, PlotError, Series, write_plots};
pub use scenario::{
    MessageSpec, Role, Scenario, ScenarioError, ScenarioParams, Target, by_name, city, festival,
    from_trace, social, village,
};
pub use trace::{Contact, LinkKind, Trace, TraceError, TraceFormat, TraceStats, parse, read};
