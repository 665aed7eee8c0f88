//! A relay's untrusted input: the carrier checks every uploaded envelope
//! gets, and a relay-side session (Noise NK responder, interests offer) fed
//! arbitrary bytes from the first byte on. Neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pollen_fuzz::{EmptyStore, T0};
use pollen_node::relay::check_envelope;
use pollen_proto::sync::{Offer, Session, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let _ = check_envelope(data, T0 / 1000);
    let mut config = SessionConfig::tcp(false, "tcp:10.0.0.1");
    config.static_key = Some([7; 32]);
    config.offer = Offer::Interests;
    let mut s = Session::new(config, T0);
    let mut store = EmptyStore;
    for (i, chunk) in data.chunks(61).enumerate() {
        s.handle_input(chunk, T0 + i as u64, &mut store);
        while s.poll_transmit(&mut store).is_some() {}
        if s.is_closed() {
            break;
        }
    }
});
