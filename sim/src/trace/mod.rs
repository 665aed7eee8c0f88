//! Contact traces as real recordings come: the ONE simulator's connection
//! events and CRAWDAD-style contact lists.
//!
//! Two formats, told apart by the first line that is not blank or a comment:
//!
//! - **ONE connection events**: `time CONN a b up|down`. `time` in seconds
//!   (integer or decimal, non-negative); node ids are non-negative integers,
//!   optionally behind a letter prefix as ONE writes them (`p12`).
//! - **Contact lists** (CRAWDAD, e.g. the Haggle `contacts.dat` tables):
//!   `a b start end`, then any further columns, which are ignored.
//!
//! A `#` starts a comment that runs to the end of the line; blank lines are
//! ignored. One file holds one format.
//!
//! Real traces are untidy, and the reader takes them as they are, counting
//! each oddity in [`TraceStats`] rather than refusing the file:
//!
//! - **Unsorted lines.** Events are put in time order (lines with equal
//!   times keep their file order). Only ONE event files count these; a
//!   contact list is usually sorted by node, not time.
//! - **Overlapping `up`s** for a pair. As in ONE, `up`s are counted: the
//!   contact stays up until as many `down`s have come. Overlapping rows of
//!   a contact list merge the same way.
//! - **A `down` without an `up`** is ignored.
//! - **Contacts still open at the end** last to the trace's last event.
//! - **A list row that ends before it starts**, and **a node in contact
//!   with itself**, are skipped.
//!
//! What is still an error: a line of the wrong shape, a time or node id
//! that is not a number, `CONN` or `up|down` misspelt.

mod read;
#[cfg(test)]
mod tests;

pub use read::{TraceFormat, TraceStats, read};

use thiserror::Error;

/// The kind of link a contact offers; the engine gives each its own
/// bandwidth, frame size and connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LinkKind {
    /// Bluetooth Low Energy between two phones (what parsed traces hold).
    #[default]
    Ble,
    /// A shared Wi-Fi hotspot: everyone present can talk to everyone.
    Lan,
    /// A gateway's internet link to the relay node.
    Uplink,
}

/// One contact: nodes `a` and `b` (with `a < b`) can talk during the whole
/// closed interval `[start, end]` (in seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// The smaller node id of the pair.
    pub a: u32,
    /// The larger node id of the pair.
    pub b: u32,
    /// When the contact comes up.
    pub start: f64,
    /// When the contact goes down (the trace's end if it never does).
    pub end: f64,
    /// The link the contact offers.
    pub kind: LinkKind,
}

/// A parsed contact trace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Contacts in the order they come up (so sorted by start time).
    pub contacts: Vec<Contact>,
    /// Number of nodes: one more than the largest node id seen (0 if none).
    pub nodes: u32,
    /// Time of the last event (0 for a trace without events).
    pub end: f64,
}

/// Why a trace could not be parsed; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TraceError {
    /// A line does not have the fields its format needs.
    #[error(
        "line {line}: expected `time CONN a b up|down` or `a b start end ...`, found {found} fields"
    )]
    FieldCount {
        /// Line number.
        line: usize,
        /// How many whitespace-separated fields the line has.
        found: usize,
    },
    /// A line of the other format than the file's first line.
    #[error("line {line}: a {found} line in a file of {format}")]
    MixedFormats {
        /// Line number.
        line: usize,
        /// The file's format, from its first line.
        format: TraceFormat,
        /// What this line looks like.
        found: TraceFormat,
    },
    /// A time is not a finite, non-negative integer or decimal.
    #[error("line {line}: time {text:?} is not a non-negative integer or decimal")]
    BadTime {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        text: String,
    },
    /// The second field of a ONE event is not the literal word `CONN`.
    #[error("line {line}: expected the word CONN, found {found:?}")]
    NotConn {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        found: String,
    },
    /// A node id is not an integer in `0..u32::MAX`.
    #[error("line {line}: node id {text:?} is not an integer from 0 to 4294967294")]
    BadNode {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        text: String,
    },
    /// The last field of a ONE event is neither `up` nor `down`.
    #[error("line {line}: expected up or down, found {found:?}")]
    BadState {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        found: String,
    },
}

/// Parses a contact trace in either format, dropping the oddity counts
/// (see [`read`] for them).
pub fn parse(text: &str) -> Result<Trace, TraceError> {
    read(text).map(|(trace, _)| trace)
}
