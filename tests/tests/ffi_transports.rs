//! The transports switch and a group's members, through the phone API: Wi-Fi
//! switched off takes a running node off the LAN and back on, Bluetooth
//! switched off stops BLE and refuses a radio, the choice survives a reopen;
//! an admin adds a contact by the group's id and sees the list change;
//! screen privacy is kept by the core.

mod ffi_support;

use ffi_support::{block_on, loopback};
use pollen_ffi::transports::TransportsInfo;
use pollen_ffi::{BleRadio, CallbackError, PollenError, PollenNode};
use std::sync::{Arc, Mutex};

/// A radio that records what the core asked of it.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn log(&self, what: &str) -> Result<(), CallbackError> {
        self.0.lock().unwrap().push(what.to_owned());
        Ok(())
    }
}

impl BleRadio for Recorder {
    fn start_scan(&self) -> Result<(), CallbackError> {
        self.log("start_scan")
    }
    fn stop_scan(&self) -> Result<(), CallbackError> {
        self.log("stop_scan")
    }
    fn advertise(&self, _: Vec<u8>, _: String, _: u32) -> Result<(), CallbackError> {
        self.log("advertise")
    }
    fn stop_advertising(&self) -> Result<(), CallbackError> {
        self.log("stop_advertising")
    }
    fn connect(&self, _: String) -> Result<(), CallbackError> {
        self.log("connect")
    }
    fn disconnect(&self, _: u64) -> Result<(), CallbackError> {
        self.log("disconnect")
    }
    fn send(&self, _: u64, _: Vec<u8>) -> Result<(), CallbackError> {
        self.log("send")
    }
}

const BOTH: TransportsInfo = TransportsInfo {
    bluetooth: true,
    wifi: true,
};

#[test]
fn switching_transports_off_and_on_applies_at_once_and_is_kept() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("ana").to_string_lossy().into_owned();
    let ana = PollenNode::create(path.clone(), "Ana".into()).expect("create");
    assert_eq!(block_on(ana.transports()).unwrap(), BOTH, "all on at first");

    block_on(ana.start(loopback(Vec::new()))).expect("start");
    assert!(ana.status().unwrap().lan_address.is_some());
    let radio = Arc::new(Recorder::default());
    ana.set_ble_radio(Some(radio.clone()))
        .expect("a radio while allowed");
    assert!(ana.ble_is_on().unwrap());

    // Wi-Fi off: the node runs on without the LAN.
    let no_wifi = TransportsInfo {
        bluetooth: true,
        wifi: false,
    };
    block_on(ana.set_transports(no_wifi)).unwrap();
    assert!(ana.is_running());
    assert_eq!(ana.status().unwrap().lan_address, None);
    assert!(ana.ble_is_on().unwrap(), "Bluetooth was not touched");

    // Bluetooth off: BLE stops, its radio told to stop, and none is taken.
    block_on(ana.set_transports(TransportsInfo {
        bluetooth: false,
        wifi: false,
    }))
    .unwrap();
    assert!(!ana.ble_is_on().unwrap());
    let asked = radio.0.lock().unwrap().clone();
    assert!(asked.contains(&"stop_scan".to_owned()), "{asked:?}");
    assert!(matches!(
        ana.set_ble_radio(Some(Arc::new(Recorder::default()))),
        Err(PollenError::TransportOff { .. })
    ));

    // Both on again: the LAN is back with the options of the first start.
    block_on(ana.set_transports(BOTH)).unwrap();
    assert!(ana.is_running());
    assert!(ana.status().unwrap().lan_address.is_some());
    ana.set_ble_radio(Some(Arc::new(Recorder::default())))
        .expect("a radio again");

    block_on(ana.set_transports(no_wifi)).unwrap();
    block_on(ana.stop()).unwrap();
    ana.shutdown();
    drop(ana);

    // Kept: started again after a reopen, the node stays off the LAN.
    let again = PollenNode::open(path).expect("open");
    assert_eq!(block_on(again.transports()).unwrap(), no_wifi);
    block_on(again.start(loopback(Vec::new()))).expect("start");
    assert!(again.is_running());
    assert_eq!(again.status().unwrap().lan_address, None);
    block_on(again.stop()).unwrap();
    again.shutdown();
}

#[test]
fn an_admin_adds_a_contact_by_the_groups_id_and_the_list_follows() {
    let root = tempfile::tempdir().unwrap();
    let node = |name: &str| {
        let p = root.path().join(name).to_string_lossy().into_owned();
        PollenNode::create(p, name.into()).expect("create")
    };
    let (ana, bo, chen) = (node("Ana"), node("Bo"), node("Chen"));
    for other in [&bo, &chen] {
        ana.add_contact(other.card().unwrap(), None).unwrap();
    }
    let crew = ana.create_group("crew".into(), vec!["Bo".into()]).unwrap();
    let before = ana.group_members(crew.id.clone()).unwrap();
    assert!(before.admin_is_me);
    assert_eq!(before.addable, ["Chen"]);
    assert_eq!(ana.add_member(crew.id.clone(), "Chen".into()).unwrap(), 2);
    let after = ana.group_members(crew.id.clone()).unwrap();
    let names: Vec<&str> = after.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["You", "Bo", "Chen"]);
    assert!(after.addable.is_empty());
    assert!(matches!(
        ana.add_member(crew.id.clone(), "Chen".into()),
        Err(PollenError::AlreadyMember { .. })
    ));
    // Removing takes the id as well as the name.
    assert_eq!(ana.remove_member(crew.id.clone(), "Bo".into()).unwrap(), 3);
    assert!(matches!(
        ana.group_members("00".repeat(16)),
        Err(PollenError::UnknownConversation { .. })
    ));
    for n in [ana, bo, chen] {
        n.shutdown();
    }
}

#[test]
fn screen_privacy_is_on_at_first_and_the_phones_choice_is_kept() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("ana").to_string_lossy().into_owned();
    let ana = PollenNode::create(path.clone(), "Ana".into()).expect("create");
    assert!(ana.screen_private().unwrap(), "private by default");
    ana.set_screen_private(false).unwrap();
    ana.shutdown();
    drop(ana);
    let again = PollenNode::open(path).expect("open");
    assert!(!again.screen_private().unwrap(), "kept across a restart");
    again.shutdown();
}
