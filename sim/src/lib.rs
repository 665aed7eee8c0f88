//! Pollen's deterministic mesh simulator (foundation only, for now).
//!
//! - [`trace`]: contact traces in the common `time CONN a b up|down` format;
//! - [`oracle`]: the earliest possible delivery of a message over a trace,
//!   the yardstick no routing policy can beat.
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

pub mod oracle;
pub mod trace;

pub use oracle::{Message, Oracle, earliest_deliveries, earliest_delivery};
pub use trace::{Contact, Trace, TraceError, parse};
