//! `pollen demo --sneakernet`: a narrated sneakernet walk-through on one machine. Ana
//! lives in a village with no network, Chen in the town down the valley, and
//! Bo drives the bus between them carrying a USB stick. Bo never learns what
//! he carries; the reply and the delivery proof ride back the same way.

use crate::CliError;
use pollen_node::node::{Node, SystemClock};
use pollen_node::receipts::Receipts;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use super::{inbox, say, step};

fn carry(from: &Node, to: &Node, stick: &Path, who: &str) -> Result<(), CliError> {
    let e = from.export_bundle(stick)?;
    let r = to.import_bundle(stick, &mut |_| {})?;
    say(format!(
        "USB stick: {} envelopes + {} proofs ({} bytes) -> {who}: {} opened, {} carried, {} duplicates, {} copies purged by proofs",
        e.envelopes, e.proofs, e.bytes, r.opened, r.carried, r.duplicates, r.purged
    ));
    Ok(())
}

/// Runs the walk-through in `keep` (or a temporary directory).
pub fn run(keep: Option<PathBuf>) -> Result<(), CliError> {
    let started = Instant::now();
    let tmp;
    let root = match keep {
        Some(dir) => dir,
        None => {
            tmp = tempfile::tempdir().map_err(|e| CliError::Other(e.to_string()))?;
            tmp.path().to_owned()
        }
    };
    let stick = root.join("usb-stick.pollen");
    println!("Pollen sneakernet demo — data in {}", root.display());

    step(
        1,
        "Three phones create identities (keys from the OS random generator).",
    );
    let ana = Node::init(&root.join("ana"), "Ana", Box::new(SystemClock))?;
    let bo = Node::init(&root.join("bo"), "Bo", Box::new(SystemClock))?;
    let chen = Node::init(&root.join("chen"), "Chen", Box::new(SystemClock))?;
    for n in [&ana, &bo, &chen] {
        say(format!("{:<5} {}", n.identity().name(), n.fingerprint()));
    }

    step(
        2,
        "Ana and Chen met last market day and scanned each other's cards.",
    );
    ana.add_contact(&chen.card(), None)?;
    chen.add_contact(&ana.card(), None)?;
    say(format!("Chen's card: {}…", &chen.card()[..40]));
    say(format!(
        "safety number they compared: {}",
        ana.safety_number("Chen")?
    ));
    ana.mark_verified("Chen")?;
    chen.mark_verified("Ana")?;
    chen.set_receipts(Receipts::Immediate)?;
    say(super::IMMEDIATE_RECEIPTS);

    step(3, "Ana writes to Chen. There is no network in the village.");
    let sent = ana.send_direct("Chen", "The bridge is out. We need insulin for Grandma Li.")?;
    say(format!(
        "sealed message {} (status: pending)",
        sent.message.to_hex()
    ));

    step(
        4,
        "Bo's bus stops in the village; Ana's phone hands Bo a bundle.",
    );
    carry(&ana, &bo, &stick, "Bo")?;
    inbox(&bo, "Bo")?;
    say("Bo carries the envelope but cannot read it, nor see who wrote it or for whom.");

    step(5, "In town, Bo's phone hands the bundle on to Chen.");
    carry(&bo, &chen, &stick, "Chen")?;
    inbox(&chen, "Chen")?;

    step(
        6,
        "Chen replies; the reply and a delivery proof ride back with Bo.",
    );
    chen.mark_read("Ana")?;
    chen.send_direct("Ana", "Insulin on the afternoon bus. Hold on!")?;
    carry(&chen, &bo, &stick, "Bo")?;
    say(format!(
        "Bo now carries {} envelope(s): the proof purged his copy of Ana's message",
        bo.status()?.carried_for_others
    ));
    carry(&bo, &ana, &stick, "Ana")?;
    inbox(&ana, "Ana")?;

    step(7, "Where things stand.");
    for n in [&ana, &bo, &chen] {
        let s = n.status()?;
        say(format!(
            "{:<5} stored {:>2} envelopes, carrying {:>2} for others, own pending {}, delivered {}",
            s.name, s.envelopes_stored, s.carried_for_others, s.own_undelivered, s.own_delivered
        ));
    }
    let delivered = ana.status()?.own_delivered == 1
        && chen
            .messages(None, 10, None)?
            .iter()
            .any(|m| m.text.contains("insulin for Grandma Li"));
    let wifi = over_wifi(ana, bo, chen)?;
    println!(
        "\n{} in {:.2} s: 1 message across 2 hops by hand, reply and delivery proof back{}.",
        if delivered && wifi {
            "Delivered"
        } else {
            "NOT delivered"
        },
        started.elapsed().as_secs_f64(),
        if wifi {
            "; 1 more over Wi-Fi, hop by hop"
        } else {
            ""
        }
    );
    if delivered && wifi {
        Ok(())
    } else {
        Err(CliError::Other("the demo message was not delivered".into()))
    }
}

/// Step 8: the same trip over TCP sync sessions instead of a USB stick. Bo's
/// phone serves on the bus hotspot; Ana's and then Chen's phones sync with it.
fn over_wifi(ana: Node, bo: Node, chen: Node) -> Result<bool, CliError> {
    step(
        8,
        "A week later the bus has a Wi-Fi hotspot: phones now sync by themselves.",
    );
    ana.send_direct("Chen", "Bridge repaired. Thank you, Bo!")?;
    let err = |e: &dyn std::fmt::Display| CliError::Other(e.to_string());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(&e))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let bo = Rc::new(RefCell::new(bo));
        let listener = pollen_runtime::listen("127.0.0.1:0")
            .await
            .map_err(|e| err(&e))?;
        let addr = listener.local_addr().map_err(|e| err(&e))?.to_string();
        say(format!(
            "Bo's phone listens on {addr} (an encrypted Noise link; no identity shown)"
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::task::spawn_local(pollen_runtime::serve(
            listener,
            bo.clone(),
            |_, _| {},
            async {
                let _ = stopped.await;
            },
        ));
        let (ana, chen) = (RefCell::new(ana), RefCell::new(chen));
        for (who, node) in [("Ana", &ana), ("Chen", &chen), ("Ana", &ana)] {
            let outcome = pollen_runtime::sync_once(&addr, node)
                .await
                .map_err(|e| err(&e))?;
            say(format!(
                "{who} <-> Bo: {}",
                crate::net::summary_line(&outcome)
            ));
        }
        let _ = stop.send(());
        let _ = server.await;
        inbox(&chen.borrow(), "Chen")?;
        let s = ana.borrow().status()?;
        say(format!(
            "Ana: own pending {}, delivered {}; Bo carries {} envelope(s)",
            s.own_undelivered,
            s.own_delivered,
            bo.borrow().status()?.carried_for_others
        ));
        Ok(s.own_delivered == 2 && s.own_undelivered == 0)
    })
}
