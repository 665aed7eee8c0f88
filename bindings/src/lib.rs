//! `pollen-ffi`: the UniFFI surface of the Pollen core.
//!
//! Placeholder until the mobile bindings issue: it re-exports the core so the
//! workspace layout (one core, thin shells) is in place and the crate builds.

pub use pollen_core as core;
