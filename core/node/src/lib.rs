//! Pollen's node, sans-IO: one identity and one store, and every decision a
//! phone makes about its messages and neighbours (see `docs/ARCHITECTURE.md`).
//! It takes events and time in and gives actions and deadlines out; sockets,
//! clocks and radios are `pollen-runtime`'s.
//!
//! - [`admission`]: what a node or relay accepts, and the limits it uses;
//! - [`attachments`]: attachment chunks: verified storage under their own quota, assembly;
//! - [`conversation`]: Automerge state of one conversation;
//! - [`shared_docs`]: shared Automerge documents: writer checks, edits, JSON;
//! - [`store`]: SQLite persistence, quotas and eviction;
//! - [`receipts`]: when a delivery proof made here may leave (held back, batched);
//! - [`routing`]: copy budgets (who gets an envelope, with how many copies);
//! - [`node`]: the facade the runtime, the CLI and the simulator drive;
//! - [`neighbours`]: which TCP and platform neighbours to sync with, when;
//! - [`relay`]: relay storage (carrier checks; PostgreSQL behind `postgres`);
//! - [`ble`]: Bluetooth LE neighbours: who to connect, the links, a simulated radio.

pub mod admission;
pub mod attachments;
pub mod ble;
pub mod conversation;
pub mod neighbours;
pub mod node;
pub mod receipts;
pub mod relay;
pub mod routing;
pub mod shared_docs;
pub mod store;

pub use node::{Clock, Node, NodeError};
