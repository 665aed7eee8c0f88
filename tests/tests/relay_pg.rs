//! Two `pollen relay` processes on one PostgreSQL database behave as one
//! relay: the same key, the same mail. One is killed mid-session; the client
//! retries on the other and nothing is lost. Needs root (a throwaway server
//! is installed and started, see `tests/pg/`), so it is `#[ignore]`d: run it
//! as root with `-- --ignored` (as `scripts/test.sh` does).

use pollen_tests::{Pg, Phone, Server};
use std::process::Command;
use std::time::Duration;

#[test]
#[ignore = "needs root: installs and runs a throwaway PostgreSQL server"]
fn two_relays_on_one_database_are_one_relay_and_survive_a_kill() {
    let pg = Pg::start();
    let root = tempfile::tempdir().unwrap();
    let relay_dir = Phone {
        dir: root.path().join("relay"),
        name: "relay".into(),
    };
    let start = || {
        Server::start_with(
            &relay_dir,
            &["relay", "--listen", "127.0.0.1:0", "--store", &pg.url],
        )
    };
    let r1 = start();
    let r2 = start();
    let key = |a: &str| a.rsplit_once('/').unwrap().1.to_owned();
    assert_eq!(
        key(&r1.addr),
        key(&r2.addr),
        "one relay key for both processes"
    );
    assert_ne!(r1.addr, r2.addr);

    let a = Phone::new(root.path(), "Ana");
    let c = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    c.ok(&["receipts", "immediate"]);
    a.add(&c);
    c.add(&a);
    const N: usize = 120;
    for i in 0..N {
        a.ok(&[
            "send",
            "--to",
            "Chen",
            &format!("note {i:03} from the other island"),
        ]);
    }

    // A uploads to R1, which freezes mid-session and is then killed.
    r1.freeze();
    let upload = Command::new(pollen_tests::pollen_bin())
        .args(["--data"])
        .arg(&a.dir)
        .args(["sync", &r1.addr, "--json"])
        .env("POLLEN_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    r1.kill();
    let first = upload.wait_with_output().unwrap();
    assert!(
        !first.status.success(),
        "the session with the killed relay must fail: {}",
        String::from_utf8_lossy(&first.stdout)
    );
    eprintln!(
        "upload to R1 during its kill: {}",
        String::from_utf8_lossy(&first.stderr).trim()
    );

    // The client retries on the other relay of the same database.
    let retry = a.json(&["sync", &r2.addr]);
    assert_eq!(retry["finished"], true, "{retry}");

    // C, elsewhere, downloads everything from R2: nothing was lost.
    let down = c.json(&["sync", &r2.addr]);
    assert_eq!(down["finished"], true, "{down}");
    assert_eq!(down["received"]["opened"], N as u64, "{down}");
    let texts = c.texts();
    for i in 0..N {
        let t = format!("note {i:03} from the other island");
        assert_eq!(texts.iter().filter(|x| **x == t).count(), 1, "{t}");
    }
    // The relays saw only ciphertext.
    let mut db = pg.client();
    let rows = db.query("SELECT bytes FROM envelopes", &[]).unwrap();
    for row in rows {
        let bytes: Vec<u8> = row.get(0);
        assert!(!pollen_tests::contains(&bytes, "from the other island"));
    }
    // C's proofs went back to R2; A hears of them there.
    let back = a.json(&["sync", &r2.addr]);
    assert_eq!(back["delivered"], N as u64, "{back}");
    assert!(r2.stop().success());
}
