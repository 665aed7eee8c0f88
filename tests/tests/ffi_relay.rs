//! The internet uplink for phones: a node built through `pollen-ffi` hands
//! its mail to a `pollen relay` process in one session (what an iOS
//! background refresh does), a contact who never met it reads it there, the
//! delivery proof comes back the same way, and the runtime keeps reaching
//! relays it was given while it runs.

mod ffi_support;

use ffi_support::{block_on, loopback, status_of};
use pollen_ffi::records::MessageStatus;
use pollen_ffi::{PollenError, PollenNode};
use pollen_tests::{Phone, Server, wait_for};
use std::time::Duration;

#[test]
fn a_phone_uplinks_through_a_relay_in_one_session_and_while_it_runs() {
    let root = tempfile::tempdir().unwrap();
    let relay_dir = Phone {
        dir: root.path().join("relay"),
        name: "relay".into(),
    };
    let relay = Server::start_with(&relay_dir, &["relay", "--listen", "127.0.0.1:0"]);
    let ana = PollenNode::create(
        root.path().join("ana").to_string_lossy().into_owned(),
        "Ana".into(),
    )
    .expect("create");
    let chen = Phone::new(root.path(), "Chen");
    // The proof straight back (by default it waits for its batch).
    chen.ok(&["receipts", "immediate"]);
    ana.add_contact(chen.card(), Some("Chen".into()))
        .expect("ana pins chen");
    chen.ok(&["contact", "add", &ana.card().unwrap(), "--alias", "Ana"]);

    // A bad address is refused with its reason, and nothing is dialled.
    match ana.set_relays(vec!["relay.example:7000".into()]) {
        Err(PollenError::InvalidRelay { address, why }) => {
            assert_eq!(address, "relay.example:7000");
            assert!(why.contains("pollen-relay://"), "{why}");
        }
        other => panic!("expected InvalidRelay, got {other:?}"),
    }
    assert!(matches!(
        block_on(ana.sync_relay("pollen-relay://127.0.0.1:1/zz".into())),
        Err(PollenError::InvalidRelay { .. })
    ));

    // One session, the runtime not even started: Ana's message goes up.
    ana.send_direct("Chen".into(), "the bridge is out, take the ferry".into())
        .expect("send");
    let up = block_on(ana.sync_relay(relay.addr.clone())).expect("relay session");
    assert!(up.finished, "{up:?}");
    assert_eq!(up.sent, 1, "{up:?}");
    let hood = ana.nearby().expect("nearby");
    assert_eq!(hood.lines[4], "Internet: last reached just now");

    // Chen, who never met Ana, reads it from the relay; his proof stays there.
    let down = chen.json(&["sync", &relay.addr]);
    assert_eq!(down["received"]["opened"], 1, "{down}");
    assert!(
        chen.texts()
            .contains(&"the bridge is out, take the ferry".to_owned())
    );

    // Chen answers through the relay; with the relay given to the runtime,
    // Ana's phone fetches the answer and the proof while it runs.
    chen.ok(&["send", "--to", "Ana", "got it, thanks"]);
    chen.ok(&["sync", &relay.addr]);
    let kept = ana
        .set_relays(vec![format!(" {} ", relay.addr), relay.addr.clone()])
        .expect("relays");
    assert_eq!(kept, std::slice::from_ref(&relay.addr), "trimmed, once");
    assert_eq!(ana.relays().expect("relays"), kept);
    block_on(ana.start(loopback(Vec::new()))).expect("start");
    let patience = Duration::from_secs(60);
    wait_for("Chen's answer to reach Ana", patience, || {
        status_of(&ana, "got it, thanks") == Some(MessageStatus::Received)
    });
    wait_for("Ana's message to show delivered", patience, || {
        status_of(&ana, "the bridge is out, take the ferry") == Some(MessageStatus::Delivered)
    });
    block_on(ana.stop()).expect("stop");
    ana.shutdown();
    assert!(relay.stop().success(), "the relay stops cleanly");
}
