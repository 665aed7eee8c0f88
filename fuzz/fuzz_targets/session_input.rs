//! Arbitrary peer input to a sync session must never panic, and must either
//! be handled or end the session with a reason. Mode 0 feeds raw bytes from
//! the first byte on (preamble, handshake, framing); mode 1 completes an
//! honest handshake first and then feeds the input as encrypted records, so
//! the fuzzer reaches fragments, messages, reconciliation and transfer.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_fuzz::{EmptyStore, T0};
use pollen_proto::sync::frame::{self, MAX_RECORD, RecordDecoder};
use pollen_proto::sync::handshake::{self, HS_NOISE, Preamble};
use pollen_proto::sync::{Session, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut store = EmptyStore;
    let mut s = Session::new(SessionConfig::tcp(false, "fuzz"), T0);
    if mode % 2 == 0 {
        for (i, chunk) in rest.chunks(97).enumerate() {
            s.handle_input(chunk, T0 + i as u64, &mut store);
            while s.poll_transmit(&mut store).is_some() {}
        }
    } else {
        let ours = Preamble::ours(MAX_RECORD);
        let theirs_raw = s.poll_transmit(&mut store).expect("preamble");
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&theirs_raw[..8]);
        let theirs = Preamble::decode(&raw).expect("own preamble");
        let mut hs = handshake::noise(true, &handshake::prologue(&ours, &theirs)).expect("noise");
        let mut buf = [0u8; 256];
        let n = hs.write_message(&[], &mut buf).expect("msg1");
        let mut input = ours.encode().to_vec();
        let mut rec = vec![HS_NOISE];
        rec.extend_from_slice(&buf[..n]);
        input.extend(frame::encode_record(&rec, MAX_RECORD).expect("record"));
        s.handle_input(&input, T0, &mut store);
        let reply: Vec<u8> = std::iter::from_fn(|| s.poll_transmit(&mut store))
            .flatten()
            .collect();
        let mut dec = RecordDecoder::new(MAX_RECORD);
        dec.push(&reply).expect("reply");
        let rec = dec.next_record().expect("record").expect("msg2");
        hs.read_message(&rec[1..], &mut buf).expect("msg2 reads");
        let mut noise = hs.into_transport_mode().expect("transport");
        // Each input line (split at 0xff) is one record plaintext.
        for (i, plain) in rest.split(|&b| b == 0xff).enumerate() {
            let mut body = vec![0u8; plain.len() + 16];
            let Ok(n) = noise.write_message(plain, &mut body) else {
                return;
            };
            let Ok(rec) = frame::encode_record(&body[..n], MAX_RECORD) else {
                return;
            };
            s.handle_input(&rec, T0 + i as u64, &mut store);
            while s.poll_transmit(&mut store).is_some() {}
            if s.is_closed() {
                break;
            }
        }
    }
    if let Some(t) = s.poll_timeout() {
        s.handle_timeout(t, &mut store);
    }
    while s.poll_event().is_some() {}
});
