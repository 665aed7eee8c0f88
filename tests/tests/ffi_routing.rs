//! The encounter-routing switch: on by default, turned off through the
//! phone API, kept in the data directory, read and changed by the CLI on
//! the same directory.

use pollen_ffi::PollenNode;
use pollen_tests::Phone;

#[test]
fn the_encounter_switch_is_kept_and_shared_by_the_apps_and_the_cli() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ana");
    let path = dir.to_string_lossy().into_owned();
    let ana = PollenNode::create(path.clone(), "Ana".into()).expect("create");
    assert!(ana.encounter_routing().unwrap(), "on by default");
    ana.set_encounter_routing(false).unwrap();
    assert!(!ana.encounter_routing().unwrap());
    drop(ana);

    let cli = Phone {
        dir: dir.clone(),
        name: "Ana".into(),
    };
    assert_eq!(cli.ok(&["encounters"]).trim(), "encounter routing: off");
    assert_eq!(
        cli.ok(&["encounters", "on"]).trim(),
        "encounter routing: on"
    );
    let bad = cli.run(&["encounters", "maybe"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("possible values"),
        "{bad:?}"
    );
    let again = PollenNode::open(path).expect("open");
    assert!(again.encounter_routing().unwrap());
}

/// P6: delivery receipts are batched by default; the phone API and the CLI
/// share the choice through the data directory.
#[test]
fn p6_the_receipts_choice_is_kept_and_shared_by_the_apps_and_the_cli() {
    use pollen_ffi::DeliveryReceipts;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("ana");
    let path = dir.to_string_lossy().into_owned();
    let ana = PollenNode::create(path.clone(), "Ana".into()).expect("create");
    assert_eq!(ana.delivery_receipts().unwrap(), DeliveryReceipts::Batched);
    ana.set_delivery_receipts(DeliveryReceipts::Off).unwrap();
    drop(ana);

    let cli = Phone {
        dir: dir.clone(),
        name: "Ana".into(),
    };
    assert_eq!(cli.ok(&["receipts"]).trim(), "delivery receipts: off");
    assert_eq!(
        cli.ok(&["receipts", "immediate"]).trim(),
        "delivery receipts: immediate"
    );
    let bad = cli.run(&["receipts", "weekly"]);
    assert!(!bad.status.success());
    assert_eq!(cli.ok(&["read-receipts"]).trim(), "read receipts: on");
    assert_eq!(
        cli.ok(&["read-receipts", "off"]).trim(),
        "read receipts: off"
    );
    let again = PollenNode::open(path).expect("open");
    assert_eq!(
        again.delivery_receipts().unwrap(),
        DeliveryReceipts::Immediate
    );
    assert!(!again.read_receipts().unwrap());
    again.set_read_receipts(true).unwrap();
    assert!(again.read_receipts().unwrap());
}
