//! Reading either trace format into contacts, counting what is odd.

use super::{Contact, LinkKind, Trace, TraceError};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Which format a trace file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// No data lines at all.
    #[default]
    Empty,
    /// The ONE simulator's `time CONN a b up|down` events.
    OneEvents,
    /// `a b start end ...` rows, as in CRAWDAD's contact tables.
    ContactList,
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceFormat::Empty => "no events",
            TraceFormat::OneEvents => "ONE connection events",
            TraceFormat::ContactList => "contact-list rows",
        })
    }
}

/// What the reader saw, oddities included (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TraceStats {
    /// The file's format.
    pub format: TraceFormat,
    /// Data lines read (events or rows).
    pub lines: u64,
    /// Contacts the trace yields.
    pub contacts: u64,
    /// ONE events earlier than the line before them (put in order).
    pub unsorted: u64,
    /// `up`s (or list rows) for a pair already in contact: counted, so the
    /// contact lasts until the matching number of `down`s.
    pub overlapping_ups: u64,
    /// `down`s for a pair not in contact (ignored).
    pub downs_without_up: u64,
    /// Contacts still up at the trace's last time (closed there).
    pub open_at_end: u64,
    /// List rows whose end is before their start (skipped).
    pub reversed_rows: u64,
    /// Lines that put a node in contact with itself (skipped).
    pub self_contacts: u64,
}

impl fmt::Display for TraceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} lines of {} -> {} contacts; {} unsorted, {} overlapping ups, \
             {} downs without up, {} open at the end, {} reversed rows, {} self-contacts",
            self.lines,
            self.format,
            self.contacts,
            self.unsorted,
            self.overlapping_ups,
            self.downs_without_up,
            self.open_at_end,
            self.reversed_rows,
            self.self_contacts
        )
    }
}

/// One `up` or `down`.
#[derive(Clone, Copy)]
struct Event {
    time: f64,
    a: u32,
    b: u32,
    up: bool,
}

/// Reads a trace in either format and says what it saw.
pub fn read(text: &str) -> Result<(Trace, TraceStats), TraceError> {
    let mut stats = TraceStats::default();
    let mut events: Vec<Event> = Vec::new();
    let mut previous: Option<f64> = None;
    // The latest time any line gives, skipped lines included.
    let mut latest = 0.0_f64;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("");
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        match stats.format {
            TraceFormat::Empty => stats.format = shape_of(&fields, line)?,
            // A ONE file checks each line as an event (field count, CONN).
            TraceFormat::OneEvents => {}
            TraceFormat::ContactList => {
                let shape = shape_of(&fields, line)?;
                if shape != TraceFormat::ContactList {
                    return Err(TraceError::MixedFormats {
                        line,
                        format: stats.format,
                        found: shape,
                    });
                }
            }
        }
        stats.lines += 1;
        match stats.format {
            TraceFormat::OneEvents => {
                let event = one_event(&fields, line)?;
                if previous.is_some_and(|p| event.time < p) {
                    stats.unsorted += 1;
                }
                previous = Some(event.time);
                latest = latest.max(event.time);
                if event.a == event.b {
                    stats.self_contacts += 1;
                } else {
                    events.push(event);
                }
            }
            _ => {
                let a = parse_node(fields[0], line, false)?;
                let b = parse_node(fields[1], line, false)?;
                let start = time_field(fields[2], line)?;
                let end = time_field(fields[3], line)?;
                latest = latest.max(start).max(end);
                if a == b {
                    stats.self_contacts += 1;
                } else if end < start {
                    stats.reversed_rows += 1;
                } else {
                    let (a, b) = (a.min(b), a.max(b));
                    events.push(Event {
                        time: start,
                        a,
                        b,
                        up: true,
                    });
                    events.push(Event {
                        time: end,
                        a,
                        b,
                        up: false,
                    });
                }
            }
        }
    }

    // Stable: equal times keep file order (and a row's up before its down).
    events.sort_by(|x, y| x.time.total_cmp(&y.time));
    let trace = pair_up(&events, latest, &mut stats);
    stats.contacts = trace.contacts.len() as u64;
    Ok((trace, stats))
}

/// Pairs `up`s with `down`s per unordered pair, counting overlaps as ONE
/// does.
fn pair_up(events: &[Event], end: f64, stats: &mut TraceStats) -> Trace {
    let mut contacts: Vec<Contact> = Vec::new();
    // Open contacts: pair -> (index into `contacts`, `up`s not yet matched).
    let mut open: HashMap<(u32, u32), (usize, u32)> = HashMap::new();
    let mut max_node: Option<u32> = None;
    for e in events {
        max_node = max_node.max(Some(e.b));
        let key = (e.a, e.b);
        if e.up {
            if let Some((_, count)) = open.get_mut(&key) {
                *count += 1;
                stats.overlapping_ups += 1;
                continue;
            }
            open.insert(key, (contacts.len(), 1));
            // The end is fixed by the matching `down` or, failing that, by
            // the trace's end once every event has been read.
            contacts.push(Contact {
                a: e.a,
                b: e.b,
                start: e.time,
                end: e.time,
                kind: LinkKind::Ble,
            });
        } else {
            match open.get_mut(&key) {
                None => stats.downs_without_up += 1,
                Some((at, count)) => {
                    *count -= 1;
                    if *count == 0 {
                        contacts[*at].end = e.time;
                        open.remove(&key);
                    }
                }
            }
        }
    }
    stats.open_at_end = open.len() as u64;
    for (at, _) in open.into_values() {
        contacts[at].end = end;
    }
    Trace {
        contacts,
        // `parse_node` rejects u32::MAX, so this cannot overflow.
        nodes: max_node.map_or(0, |n| n + 1),
        end,
    }
}

/// Which format a data line looks like: a word in the second field is a
/// ONE event (checked in full by [`one_event`]), numbers are a list row.
fn shape_of(fields: &[&str], line: usize) -> Result<TraceFormat, TraceError> {
    match fields {
        [_, word, ..] if !word.bytes().all(|c| c.is_ascii_digit() || c == b'.') => {
            Ok(TraceFormat::OneEvents)
        }
        _ if fields.len() >= 4 => Ok(TraceFormat::ContactList),
        _ => Err(TraceError::FieldCount {
            line,
            found: fields.len(),
        }),
    }
}

fn one_event(fields: &[&str], line: usize) -> Result<Event, TraceError> {
    let [time, conn, a, b, state] = fields[..] else {
        return Err(TraceError::FieldCount {
            line,
            found: fields.len(),
        });
    };
    let time = time_field(time, line)?;
    if conn != "CONN" {
        return Err(TraceError::NotConn {
            line,
            found: clip(conn),
        });
    }
    let a = parse_node(a, line, true)?;
    let b = parse_node(b, line, true)?;
    let up = match state {
        "up" => true,
        "down" => false,
        other => {
            return Err(TraceError::BadState {
                line,
                found: clip(other),
            });
        }
    };
    Ok(Event {
        time,
        a: a.min(b),
        b: a.max(b),
        up,
    })
}

fn time_field(text: &str, line: usize) -> Result<f64, TraceError> {
    parse_time(text).ok_or_else(|| TraceError::BadTime {
        line,
        text: clip(text),
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

/// Accepts ASCII digits only (`u32::from_str` would take a leading `+`),
/// behind ASCII letters where `prefixed` (ONE writes hosts as `p12`), and
/// rejects `u32::MAX` so that the node count still fits in a `u32`.
fn parse_node(text: &str, line: usize, prefixed: bool) -> Result<u32, TraceError> {
    let digits = if prefixed {
        text.trim_start_matches(|c: char| c.is_ascii_alphabetic())
    } else {
        text
    };
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse::<u32>().ok())
        .flatten()
        .filter(|&n| n < u32::MAX)
        .ok_or_else(|| TraceError::BadNode {
            line,
            text: clip(text),
        })
}

/// Bounds what an error carries of the input, which may be arbitrarily long.
pub(super) fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 32;
    let mut clipped: String = text.chars().take(MAX_CHARS).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}
