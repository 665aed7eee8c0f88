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
