//! Link framing test vectors: the values published in `docs/PROTOCOL.md`
//! ("Link framing", "Framing test vectors") must be what this build computes,
//! and must decode back through the receiving side.

use super::*;

/// The split vector's message: 400 bytes, byte i = i mod 256.
fn split_message() -> Vec<u8> {
    (0..400u32).map(|i| i as u8).collect()
}

const LYING_INPUT: [u8; 6] = [0xff, 0xff, 0x41, 0x42, 0x43, 0x44];

fn computed() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut f = Fragmenter::new();

    let whole = f.split(b"hello", max_plain(MIN_RECORD)).unwrap();
    assert_eq!(whole.len(), 1);
    out.push(("frame.whole.message".into(), hex::encode(b"hello")));
    out.push((
        "frame.whole.record".into(),
        hex::encode(encode_record(&whole[0], MIN_RECORD).unwrap()),
    ));

    let msg = split_message();
    let plains = Fragmenter::new()
        .split(&msg, max_plain(MIN_RECORD))
        .unwrap();
    for (i, p) in plains.iter().enumerate() {
        out.push((
            format!("frame.split.record.{i}"),
            hex::encode(encode_record(p, MIN_RECORD).unwrap()),
        ));
    }
    out.push((
        "frame.split.wire_cost".into(),
        wire_cost(msg.len(), MIN_RECORD).to_string(),
    ));

    let mut d = RecordDecoder::new(MIN_RECORD);
    let err = d.push(&LYING_INPUT).unwrap_err();
    assert_eq!(d.buffered(), 0);
    out.push(("frame.lying.input".into(), hex::encode(LYING_INPUT)));
    out.push(("frame.lying.error".into(), err.to_string()));
    out
}

fn documented() -> Vec<(String, String)> {
    crate::doc_vectors::documented("### Framing test vectors")
}

fn doc_value(name: &str) -> Vec<u8> {
    let v = documented()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default();
    hex::decode(v).unwrap()
}

#[test]
fn protocol_doc_framing_vectors_match() {
    let computed = computed();
    let rendered: String = computed
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    assert_eq!(
        documented(),
        computed,
        "docs/PROTOCOL.md framing vectors are stale; this build computes:\n{rendered}"
    );
}

#[test]
fn documented_records_decode() {
    // Receive side, from the documented hex only.
    let mut wire = doc_value("frame.whole.record");
    let mut i = 0;
    loop {
        let rec = doc_value(&format!("frame.split.record.{i}"));
        if rec.is_empty() {
            break;
        }
        assert!(rec.len() <= MIN_RECORD);
        wire.extend(rec);
        i += 1;
    }
    assert_eq!(i, 3, "the split vector is FIRST + 2 MORE");
    let mut d = RecordDecoder::new(MIN_RECORD);
    let mut r = Reassembler::new(ReassemblyLimits::default());
    d.push(&wire).unwrap();
    let mut msgs = Vec::new();
    while let Some(body) = d.next_record().unwrap() {
        msgs.extend(r.push(&body, 0).unwrap());
    }
    assert_eq!(
        msgs,
        vec![doc_value("frame.whole.message"), split_message()]
    );

    let mut d = RecordDecoder::new(MIN_RECORD);
    let err = d.push(&doc_value("frame.lying.input")).unwrap_err();
    let documented_error = documented()
        .into_iter()
        .find(|(k, _)| k == "frame.lying.error")
        .map(|(_, v)| v);
    assert_eq!(Some(err.to_string()), documented_error);
}
