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

fn stats(text: &str) -> TraceStats {
    read(text).unwrap().1
}

#[test]
fn empty_and_comment_only_traces_are_empty() {
    assert_eq!(parse("").unwrap(), Trace::default());
    let (trace, stats) = read("# just a comment\n\n   \n\t# another\n").unwrap();
    assert_eq!(trace, Trace::default());
    assert_eq!(stats, TraceStats::default());
}

#[test]
fn pairs_up_and_down_per_unordered_pair() {
    let (trace, stats) = read(
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
    assert_eq!(
        stats,
        TraceStats {
            format: TraceFormat::OneEvents,
            lines: 6,
            contacts: 3,
            ..TraceStats::default()
        }
    );
}

#[test]
fn one_host_names_with_a_letter_prefix() {
    let trace = parse("0 CONN p3 p12 up\n4 CONN n12 3 down\n").unwrap();
    assert_eq!(trace.contacts, vec![contact(3, 12, 0.0, 4.0)]);
    assert!(matches!(
        parse("0 CONN p 1 up"),
        Err(TraceError::BadNode { line: 1, .. })
    ));
}

#[test]
fn decimal_times_and_crlf_line_endings() {
    assert_eq!(
        parse("0.5 CONN 3 7 up\r\n.25e0 CONN 3 7 down\r\n"),
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
}

#[test]
fn contacts_open_at_the_end_last_to_the_last_event_and_are_counted() {
    let (trace, stats) =
        read("1 CONN 0 1 up\n2 CONN 2 3 up\n3 CONN 2 3 down\n40 CONN 4 5 up\n").unwrap();
    assert_eq!(
        trace.contacts,
        vec![
            contact(0, 1, 1.0, 40.0),
            contact(2, 3, 2.0, 3.0),
            contact(4, 5, 40.0, 40.0),
        ]
    );
    assert_eq!(stats.open_at_end, 2);
}

#[test]
fn up_and_down_at_the_same_instant_is_a_zero_length_contact() {
    let trace = parse("7 CONN 0 1 up\n7 CONN 0 1 down\n7 CONN 0 1 up\n8 CONN 0 1 down").unwrap();
    assert_eq!(
        trace.contacts,
        vec![contact(0, 1, 7.0, 7.0), contact(0, 1, 7.0, 8.0)]
    );
}

#[test]
fn overlapping_ups_are_counted_and_need_as_many_downs() {
    // Two ups (say, two radios): the first down leaves the contact up.
    let (trace, stats) = read(
        "0 CONN 0 1 up\n\
         2 CONN 1 0 up\n\
         5 CONN 0 1 down\n\
         9 CONN 0 1 down\n\
         12 CONN 0 1 up\n\
         13 CONN 0 1 down\n",
    )
    .unwrap();
    assert_eq!(
        trace.contacts,
        vec![contact(0, 1, 0.0, 9.0), contact(0, 1, 12.0, 13.0)]
    );
    assert_eq!(stats.overlapping_ups, 1);
    assert_eq!(stats.downs_without_up, 0);
    // Three ups and only two downs: still open at the end.
    let (trace, stats) = read("0 CONN 0 1 up\n1 CONN 0 1 up\n2 CONN 0 1 up\n3 CONN 0 1 down\n4 CONN 0 1 down\n6 CONN 2 3 up\n").unwrap();
    assert_eq!(trace.contacts[0], contact(0, 1, 0.0, 6.0));
    assert_eq!((stats.overlapping_ups, stats.open_at_end), (2, 2));
}

#[test]
fn downs_without_an_up_are_ignored_and_counted() {
    let (trace, stats) = read(
        "0 CONN 1 0 down\n\
         1 CONN 0 1 up\n\
         2 CONN 0 1 down\n\
         3 CONN 1 0 down\n",
    )
    .unwrap();
    assert_eq!(trace.contacts, vec![contact(0, 1, 1.0, 2.0)]);
    assert_eq!(stats.downs_without_up, 2);
    assert_eq!(trace.end, 3.0);
}

#[test]
fn unsorted_events_are_put_in_order_and_counted() {
    let (trace, stats) = read(
        "10 CONN 0 1 down\n\
         0 CONN 0 1 up\n\
         5 CONN 2 3 up\n\
         4 CONN 2 3 down\n\
         3 CONN 3 2 up\n",
    )
    .unwrap();
    // In time order: 0 up(0,1), 3 up(2,3), 4 down(2,3), 5 up(2,3), 10 down(0,1).
    assert_eq!(
        trace.contacts,
        vec![
            contact(0, 1, 0.0, 10.0),
            contact(2, 3, 3.0, 4.0),
            contact(2, 3, 5.0, 10.0),
        ]
    );
    assert_eq!(stats.unsorted, 3);
    assert_eq!(stats.downs_without_up, 0);
    assert_eq!(stats.open_at_end, 1);
}

#[test]
fn self_contacts_are_skipped_and_counted() {
    let (trace, stats) = read("0 CONN 3 3 up\n1 CONN 0 1 up\n2 CONN 3 3 down\n").unwrap();
    assert_eq!(trace.contacts, vec![contact(0, 1, 1.0, 2.0)]);
    assert_eq!(stats.self_contacts, 2);
}

#[test]
fn contact_lists_in_any_order_with_extra_columns() {
    // Haggle-style rows: a b start end, then counters that are ignored.
    let (trace, stats) = read(
        "# a b start end n gap\n\
         2 1 50 60 1 0\n\
         1 2 10 20 1 0\n\
         3 4 15 15 1 0\n\
         1 2 20 30 2 0\n",
    )
    .unwrap();
    assert_eq!(
        trace.contacts,
        vec![
            contact(1, 2, 10.0, 20.0),
            contact(3, 4, 15.0, 15.0),
            contact(1, 2, 20.0, 30.0),
            contact(1, 2, 50.0, 60.0),
        ]
    );
    assert_eq!(trace.nodes, 5);
    assert_eq!(trace.end, 60.0);
    assert_eq!(stats.format, TraceFormat::ContactList);
    assert_eq!((stats.lines, stats.contacts, stats.unsorted), (4, 4, 0));
}

#[test]
fn overlapping_and_reversed_list_rows() {
    let (trace, stats) = read(
        "0 1 0 10\n\
         1 0 5 15\n\
         0 1 30 20\n\
         2 2 0 5\n",
    )
    .unwrap();
    assert_eq!(trace.contacts, vec![contact(0, 1, 0.0, 15.0)]);
    assert_eq!(stats.overlapping_ups, 1);
    assert_eq!(stats.reversed_rows, 1);
    assert_eq!(stats.self_contacts, 1);
    assert_eq!(stats.open_at_end, 0);
}

#[test]
fn one_file_holds_one_format() {
    assert_eq!(
        parse("0 1 0 10\n5 CONN 0 1 up\n"),
        Err(TraceError::MixedFormats {
            line: 2,
            format: TraceFormat::ContactList,
            found: TraceFormat::OneEvents
        })
    );
    // In a ONE file every line is an event: four fields is a short event.
    assert_eq!(
        parse("0 CONN 0 1 up\n0 1 0 10\n"),
        Err(TraceError::FieldCount { line: 2, found: 4 })
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
        parse("0 1 2#3"),
        Err(TraceError::FieldCount { line: 1, found: 3 })
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
        assert_eq!(
            parse(&format!("0 1 0 {bad}")),
            Err(TraceError::BadTime {
                line: 1,
                text: bad.into()
            }),
            "{bad}"
        );
    }
    let huge = "9".repeat(400);
    assert!(matches!(
        parse(&format!("{huge} CONN 0 1 up")),
        Err(TraceError::BadTime { line: 1, text }) if text.chars().count() == 33
    ));
}

#[test]
fn a_missing_conn_word_is_an_error() {
    for bad in ["conn", "CON", "DISCONN"] {
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
    for bad in ["-1", "+1", "1.0", "4294967295", "4294967296", "p-1"] {
        assert_eq!(
            parse(&format!("0 CONN 0 {bad} up")),
            Err(TraceError::BadNode {
                line: 1,
                text: bad.into()
            }),
            "{bad}"
        );
        assert_eq!(
            parse(&format!("{bad} 0 0 1")),
            Err(TraceError::BadNode {
                line: 1,
                text: bad.into()
            }),
            "{bad}"
        );
    }
    // Lists take no prefix.
    assert!(matches!(parse("p1 0 0 1"), Err(TraceError::BadNode { .. })));
    assert_eq!(parse("0 CONN 0 4294967294 up").unwrap().nodes, u32::MAX);
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
fn errors_and_stats_render() {
    let err = parse("0 CONN 0 1 up\n\nbad").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: expected `time CONN a b up|down` or `a b start end ...`, found 1 fields"
    );
    let text = stats("0 CONN 0 1 up\n0 CONN 0 1 up\n").to_string();
    assert!(text.contains("1 overlapping ups"), "{text}");
    assert!(text.contains("1 open at the end"), "{text}");
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = read(&text);
    }

    /// Whatever the order and mix of events, contacts are well formed,
    /// one pair's contacts never overlap, and every line is accounted for.
    #[test]
    fn untidy_events_give_well_formed_contacts(
        lines in proptest::collection::vec(
            (0u32..20, 0u32..4, 0u32..4, any::<bool>()),
            0..40,
        )
    ) {
        let text: String = lines
            .iter()
            .map(|(t, a, b, up)| format!("{t} CONN {a} {b} {}\n", if *up { "up" } else { "down" }))
            .collect();
        let (trace, stats) = read(&text).unwrap();
        prop_assert_eq!(stats.lines, lines.len() as u64);
        for c in &trace.contacts {
            prop_assert!(c.a < c.b && c.b < trace.nodes);
            prop_assert!(c.start <= c.end && c.end <= trace.end);
        }
        for w in trace.contacts.windows(2) {
            prop_assert!(w[0].start <= w[1].start);
        }
        for (i, x) in trace.contacts.iter().enumerate() {
            for y in &trace.contacts[i + 1..] {
                if (x.a, x.b) == (y.a, y.b) {
                    prop_assert!(x.end <= y.start);
                }
            }
        }
        let ups = lines.iter().filter(|l| l.3 && l.1 != l.2).count() as u64;
        prop_assert_eq!(ups, stats.contacts + stats.overlapping_ups);
    }
}
