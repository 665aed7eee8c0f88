//! Contact traces in the common `time CONN a b up|down` format.
//!
//! One event per line: `time` in seconds (integer or decimal, non-negative),
//! the literal word `CONN`, two node ids (non-negative integers) and `up` or
//! `down`. A `#` starts a comment that runs to the end of the line; blank
//! lines are ignored. Events must be sorted by time (equal times are fine),
//! because pairing `up` with `down` in file order is only meaningful then.

use std::collections::HashMap;

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
    /// Contacts in the order of their `up` events (so sorted by start time).
    pub contacts: Vec<Contact>,
    /// Number of nodes: one more than the largest node id seen (0 if none).
    pub nodes: u32,
    /// Time of the last event (0 for a trace without events).
    pub end: f64,
}

/// Why a trace could not be parsed; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TraceError {
    /// A line that is neither blank nor a comment does not have five fields.
    #[error("line {line}: expected 5 fields `time CONN a b up|down`, found {found}")]
    FieldCount {
        /// Line number.
        line: usize,
        /// How many whitespace-separated fields the line has.
        found: usize,
    },
    /// The time is not a finite, non-negative integer or decimal.
    #[error("line {line}: time {text:?} is not a non-negative integer or decimal")]
    BadTime {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        text: String,
    },
    /// An event is earlier than the one before it.
    #[error(
        "line {line}: time {time} is before the previous event's {previous}; events must be sorted by time"
    )]
    OutOfOrder {
        /// Line number.
        line: usize,
        /// This event's time.
        time: f64,
        /// The previous event's time.
        previous: f64,
    },
    /// The second field is not the literal word `CONN`.
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
    /// Both node ids are the same.
    #[error("line {line}: node {node} cannot be in contact with itself")]
    SelfContact {
        /// Line number.
        line: usize,
        /// The node id.
        node: u32,
    },
    /// The last field is neither `up` nor `down`.
    #[error("line {line}: expected up or down, found {found:?}")]
    BadState {
        /// Line number.
        line: usize,
        /// The offending field (truncated).
        found: String,
    },
    /// A `down` for a pair that is not in contact.
    #[error("line {line}: down for nodes {a} and {b}, which are not in contact")]
    DownWithoutUp {
        /// Line number.
        line: usize,
        /// The smaller node id.
        a: u32,
        /// The larger node id.
        b: u32,
    },
    /// An `up` for a pair that is already in contact.
    #[error("line {line}: up for nodes {a} and {b}, already in contact since line {since_line}")]
    AlreadyUp {
        /// Line number.
        line: usize,
        /// The smaller node id.
        a: u32,
        /// The larger node id.
        b: u32,
        /// The line of the `up` that opened the contact.
        since_line: usize,
    },
}

/// Parses a contact trace, pairing `up` and `down` events per unordered pair.
pub fn parse(text: &str) -> Result<Trace, TraceError> {
    let mut contacts: Vec<Contact> = Vec::new();
    // Open contacts: pair -> (index into `contacts`, line of the `up`).
    let mut open: HashMap<(u32, u32), (usize, usize)> = HashMap::new();
    let mut previous: Option<f64> = None;
    let mut max_node: Option<u32> = None;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("");
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [time, conn, a, b, state] = fields[..] else {
            return Err(TraceError::FieldCount {
                line,
                found: fields.len(),
            });
        };

        let time = parse_time(time).ok_or_else(|| TraceError::BadTime {
            line,
            text: clip(time),
        })?;
        if let Some(previous) = previous
            && time < previous
        {
            return Err(TraceError::OutOfOrder {
                line,
                time,
                previous,
            });
        }
        previous = Some(time);

        if conn != "CONN" {
            return Err(TraceError::NotConn {
                line,
                found: clip(conn),
            });
        }
        let a = parse_node(a, line)?;
        let b = parse_node(b, line)?;
        if a == b {
            return Err(TraceError::SelfContact { line, node: a });
        }
        let (a, b) = (a.min(b), a.max(b));
        max_node = max_node.max(Some(b));

        match state {
            "up" => {
                if let Some(&(_, since_line)) = open.get(&(a, b)) {
                    return Err(TraceError::AlreadyUp {
                        line,
                        a,
                        b,
                        since_line,
                    });
                }
                open.insert((a, b), (contacts.len(), line));
                // The end is fixed by the matching `down` or, failing that,
                // by the trace's end once every line has been read.
                contacts.push(Contact {
                    a,
                    b,
                    start: time,
                    end: time,
                    kind: LinkKind::Ble,
                });
            }
            "down" => {
                let (at, _) =
                    open.remove(&(a, b))
                        .ok_or(TraceError::DownWithoutUp { line, a, b })?;
                contacts[at].end = time;
            }
            other => {
                return Err(TraceError::BadState {
                    line,
                    found: clip(other),
                });
            }
        }
    }

    let end = previous.unwrap_or(0.0);
    for (at, _) in open.into_values() {
        contacts[at].end = end;
    }
    // `parse_node` rejects u32::MAX, so this cannot overflow.
    let nodes = max_node.map_or(0, |n| n + 1);
    Ok(Trace {
        contacts,
        nodes,
        end,
    })
}

/// Accepts only `digits`, `digits.digits`, `digits.` or `.digits`: Rust's
/// float parser would also take signs, exponents, `inf` and `NaN`, none of
/// which belong in a trace's time column.
fn parse_time(text: &str) -> Option<f64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Accepts ASCII digits only (`u32::from_str` would take a leading `+`), and
/// rejects `u32::MAX` so that the node count still fits in a `u32`.
fn parse_node(text: &str, line: usize) -> Result<u32, TraceError> {
    text.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .filter(|&n| n < u32::MAX)
        .ok_or_else(|| TraceError::BadNode {
            line,
            text: clip(text),
        })
}

/// Bounds what an error carries of the input, which may be arbitrarily long.
fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 32;
    let mut clipped: String = text.chars().take(MAX_CHARS).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn contact(a: u32, b: u32, start: f64, end: f64) -> Contact {
        Contact {
            a,
            b,
            start,
            end,
            kind: LinkKind::Ble,
        }
    }

    #[test]
    fn empty_and_comment_only_traces_are_empty() {
        assert_eq!(parse("").unwrap(), Trace::default());
        assert_eq!(
            parse("# just a comment\n\n   \n\t# another\n").unwrap(),
            Trace::default()
        );
    }

    #[test]
    fn pairs_up_and_down_per_unordered_pair() {
        let trace = parse(
            "# header comment\n\
             0 CONN 0 1 up\n\
             \n\
             5 CONN 2 1 up   # trailing comment\n\
             10 CONN 1 0 down\n\
             12 CONN 1 2 down\n\
             20 CONN 0 1 up\n\
             25 CONN 0 1 down\n",
        )
        .unwrap();
        assert_eq!(
            trace.contacts,
            vec![
                contact(0, 1, 0.0, 10.0),
                contact(1, 2, 5.0, 12.0),
                contact(0, 1, 20.0, 25.0),
            ]
        );
        assert_eq!(trace.nodes, 3);
        assert_eq!(trace.end, 25.0);
    }

    #[test]
    fn decimal_times_and_crlf_line_endings() {
        let trace = parse("0.5 CONN 3 7 up\r\n.25e0 CONN 3 7 down\r\n");
        assert_eq!(
            trace,
            Err(TraceError::BadTime {
                line: 2,
                text: ".25e0".into()
            })
        );
        let trace = parse("0.5 CONN 3 7 up\r\n1. CONN 3 7 down\r\n2.125 CONN 7 3 up\r\n").unwrap();
        assert_eq!(
            trace.contacts,
            vec![contact(3, 7, 0.5, 1.0), contact(3, 7, 2.125, 2.125)]
        );
        assert_eq!(trace.nodes, 8);
        assert_eq!(trace.end, 2.125);
    }

    #[test]
    fn up_without_down_lasts_to_the_end_of_the_trace() {
        let trace =
            parse("1 CONN 0 1 up\n2 CONN 2 3 up\n3 CONN 2 3 down\n40 CONN 4 5 up\n").unwrap();
        assert_eq!(
            trace.contacts,
            vec![
                contact(0, 1, 1.0, 40.0),
                contact(2, 3, 2.0, 3.0),
                contact(4, 5, 40.0, 40.0),
            ]
        );
    }

    #[test]
    fn up_and_down_at_the_same_instant_is_a_zero_length_contact() {
        let trace =
            parse("7 CONN 0 1 up\n7 CONN 0 1 down\n7 CONN 0 1 up\n8 CONN 0 1 down").unwrap();
        assert_eq!(
            trace.contacts,
            vec![contact(0, 1, 7.0, 7.0), contact(0, 1, 7.0, 8.0)]
        );
    }

    #[test]
    fn wrong_field_counts_are_errors() {
        assert_eq!(
            parse("0 CONN 0 1 up\n1 CONN 0 1\n"),
            Err(TraceError::FieldCount { line: 2, found: 4 })
        );
        assert_eq!(
            parse("\n\n0 CONN 0 1 up extra"),
            Err(TraceError::FieldCount { line: 3, found: 6 })
        );
        // A comment marker glued to a field still starts a comment.
        assert_eq!(
            parse("0 CONN 0 1#up"),
            Err(TraceError::FieldCount { line: 1, found: 4 })
        );
    }

    #[test]
    fn bad_times_are_errors() {
        for bad in [
            "-1", "+1", "1e3", "inf", "NaN", ".", "1.2.3", "x", "1,5", "0x10",
        ] {
            assert_eq!(
                parse(&format!("{bad} CONN 0 1 up")),
                Err(TraceError::BadTime {
                    line: 1,
                    text: bad.into()
                }),
                "{bad}"
            );
        }
        // Too large to be finite.
        let huge = "9".repeat(400);
        assert!(matches!(
            parse(&format!("{huge} CONN 0 1 up")),
            Err(TraceError::BadTime { line: 1, text }) if text.chars().count() == 33
        ));
    }

    #[test]
    fn events_out_of_order_are_errors() {
        assert_eq!(
            parse("5 CONN 0 1 up\n4.5 CONN 0 1 down\n"),
            Err(TraceError::OutOfOrder {
                line: 2,
                time: 4.5,
                previous: 5.0
            })
        );
    }

    #[test]
    fn a_missing_conn_word_is_an_error() {
        for bad in ["conn", "CON", "DISCONN", "0"] {
            assert_eq!(
                parse(&format!("0 {bad} 0 1 up")),
                Err(TraceError::NotConn {
                    line: 1,
                    found: bad.into()
                })
            );
        }
    }

    #[test]
    fn bad_node_ids_are_errors() {
        for bad in ["-1", "+1", "1.0", "a", "4294967295", "4294967296"] {
            assert_eq!(
                parse(&format!("0 CONN 0 {bad} up")),
                Err(TraceError::BadNode {
                    line: 1,
                    text: bad.into()
                }),
                "{bad}"
            );
            assert_eq!(
                parse(&format!("0 CONN {bad} 0 up")),
                Err(TraceError::BadNode {
                    line: 1,
                    text: bad.into()
                }),
                "{bad}"
            );
        }
        let trace = parse("0 CONN 0 4294967294 up").unwrap();
        assert_eq!(trace.nodes, u32::MAX);
    }

    #[test]
    fn self_contacts_are_errors() {
        assert_eq!(
            parse("0 CONN 3 3 up"),
            Err(TraceError::SelfContact { line: 1, node: 3 })
        );
    }

    #[test]
    fn bad_states_are_errors() {
        for bad in ["UP", "Down", "on", "upp"] {
            assert_eq!(
                parse(&format!("0 CONN 0 1 {bad}")),
                Err(TraceError::BadState {
                    line: 1,
                    found: bad.into()
                })
            );
        }
    }

    #[test]
    fn down_without_up_is_an_error() {
        assert_eq!(
            parse("0 CONN 1 0 down"),
            Err(TraceError::DownWithoutUp {
                line: 1,
                a: 0,
                b: 1
            })
        );
        // A second `down` after the contact has closed.
        assert_eq!(
            parse("0 CONN 0 1 up\n1 CONN 0 1 down\n2 CONN 1 0 down\n"),
            Err(TraceError::DownWithoutUp {
                line: 3,
                a: 0,
                b: 1
            })
        );
    }

    #[test]
    fn overlapping_up_is_an_error() {
        assert_eq!(
            parse("# c\n0 CONN 0 1 up\n1 CONN 2 0 up\n2 CONN 1 0 up\n"),
            Err(TraceError::AlreadyUp {
                line: 4,
                a: 0,
                b: 1,
                since_line: 2
            })
        );
    }

    #[test]
    fn errors_render_with_their_line_number() {
        let err = parse("0 CONN 0 1 up\n\nbad").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: expected 5 fields `time CONN a b up|down`, found 1"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn trace_like_text_never_panics_and_contacts_are_well_formed(
            lines in proptest::collection::vec(
                (0u32..20, prop_oneof!["CONN", "conn"], 0u32..4, 0u32..4,
                 prop_oneof!["up", "down", "x"]),
                0..30,
            )
        ) {
            // Sorted, so that most inputs get past the order check.
            let mut lines = lines;
            lines.sort_by_key(|line| line.0);
            let text: String = lines
                .iter()
                .map(|(t, c, a, b, s)| format!("{t} {c} {a} {b} {s}\n"))
                .collect();
            if let Ok(trace) = parse(&text) {
                for c in &trace.contacts {
                    prop_assert!(c.a < c.b && c.b < trace.nodes);
                    prop_assert!(c.start <= c.end && c.end <= trace.end);
                }
            }
        }
    }
}
