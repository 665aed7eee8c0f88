//! `pollen demo`: the mesh on one machine. Five phones run real Pollen nodes
//! in this process, talking TCP over loopback: Ana and Dara in a village, Chen
//! and Eli in town, two groups that never meet, and Bo whose bus goes from
//! one to the other. Messages cross the gap in Bo's phone, sealed; replies and
//! delivery proofs ride back the same way.

use super::{say, step};
use crate::CliError;
use pollen_node::node::{Node, SystemClock};
use pollen_node::receipts::Receipts;
use pollen_runtime::LinkOutcome;
use pollen_runtime::mesh::{MeshConfig, MeshEvent, Nudge, run_mesh};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest wait for any step before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

/// Listening address → phone name, for narration.
type Names = Rc<RefCell<HashMap<String, &'static str>>>;

struct Phone {
    name: &'static str,
    node: Rc<RefCell<Node>>,
    nudge: Nudge,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    addr: String,
}

impl Phone {
    fn new(root: &Path, name: &'static str) -> Result<Phone, CliError> {
        let node = Node::init(&root.join(name.to_lowercase()), name, Box::new(SystemClock))?;
        Ok(Phone {
            name,
            node: Rc::new(RefCell::new(node)),
            nudge: Nudge::default(),
            running: None,
            addr: String::new(),
        })
    }

    /// Starts this phone's node, keeping in sync with `peers`.
    async fn start(&mut self, peers: &[&Phone], names: &Names) -> Result<(), CliError> {
        let listener = pollen_runtime::listen("127.0.0.1:0").await.map_err(err)?;
        self.addr = listener.local_addr().map_err(err)?.to_string();
        names.borrow_mut().insert(self.addr.clone(), self.name);
        let config = MeshConfig {
            mdns: false,
            peers: peers.iter().map(|p| p.addr.clone()).collect(),
            ..MeshConfig::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let (me, names) = (self.name, names.clone());
        let events = move |e: MeshEvent| {
            if let MeshEvent::Session {
                peer,
                outgoing: true,
                outcome,
            } = e
            {
                narrate(
                    me,
                    names.borrow().get(&peer).copied().unwrap_or("?"),
                    &outcome,
                );
            }
        };
        let task = tokio::task::spawn_local(run_mesh(
            listener,
            self.node.clone(),
            config,
            self.nudge.clone(),
            events,
            async {
                let _ = stopped.await;
            },
        ));
        let task = tokio::task::spawn_local(async move {
            if let Ok(Err(e)) = task.await {
                eprintln!("error: {e}");
            }
        });
        self.running = Some((stop, task));
        Ok(())
    }

    /// Stops this phone's node (sessions commit what they received).
    async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    fn holds(&self, envelope: &pollen_proto::envelope::EnvelopeId) -> bool {
        self.node
            .borrow()
            .store()
            .has_envelope(envelope)
            .unwrap_or(false)
    }

    /// (hops, text) of the first received message containing `text`.
    fn received(&self, text: &str) -> Option<Option<u32>> {
        let node = self.node.borrow();
        let rows = node.messages(None, 50, None).ok()?;
        rows.into_iter()
            .find(|m| m.text.contains(text) && m.status == "received")
            .map(|m| m.hops)
    }
}

fn narrate(from: &str, to: &str, o: &LinkOutcome) {
    let s = &o.stats;
    let moved = s.envelopes_sent + s.envelopes_received + s.proofs_sent + s.proofs_received;
    if moved == 0 {
        return;
    }
    let mut parts = Vec::new();
    if s.envelopes_sent > 0 {
        parts.push(format!("{from} -> {to}: {} envelope(s)", s.envelopes_sent));
    }
    if s.envelopes_received > 0 {
        parts.push(format!(
            "{to} -> {from}: {} envelope(s)",
            s.envelopes_received
        ));
    }
    let proofs = s.proofs_sent + s.proofs_received;
    if proofs > 0 {
        parts.push(format!("{proofs} delivery proof(s)"));
    }
    say(format!("  ~ sync {from} <-> {to}: {}", parts.join(", ")));
}

/// Waits (letting the nodes run) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) -> Result<Duration, CliError> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > STEP_TIMEOUT {
            return Err(CliError::Other(format!(
                "demo timed out waiting for {what}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = start.elapsed();
    // Let sessions still running finish, so the narration stays in order.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(took)
}

fn hops_text(h: Option<Option<u32>>) -> String {
    match h.flatten() {
        Some(1) => "1 hop".into(),
        Some(n) => format!("{n} hops"),
        None => "? hops".into(),
    }
}

/// Runs the mesh walk-through in `keep` (or a temporary directory).
pub fn run(keep: Option<PathBuf>) -> Result<(), CliError> {
    let tmp;
    let root = match keep {
        Some(dir) => dir,
        None => {
            tmp = tempfile::tempdir().map_err(err)?;
            tmp.path().to_owned()
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    tokio::task::LocalSet::new().block_on(&rt, story(root))
}

async fn story(root: PathBuf) -> Result<(), CliError> {
    let started = Instant::now();
    println!(
        "Pollen mesh demo: five phones, real nodes over loopback TCP (data in {})",
        root.display()
    );
    let names: Names = Rc::default();

    step(
        1,
        "Five phones create identities: Ana and Dara in the village, Chen and Eli in town, Bo drives the bus.",
    );
    let mut ana = Phone::new(&root, "Ana")?;
    let mut dara = Phone::new(&root, "Dara")?;
    let mut chen = Phone::new(&root, "Chen")?;
    let mut eli = Phone::new(&root, "Eli")?;
    let mut bo = Phone::new(&root, "Bo")?;
    for p in [&ana, &dara, &chen, &eli, &bo] {
        say(format!("{:<5} {}", p.name, p.node.borrow().fingerprint()));
    }
    {
        let (a, c) = (ana.node.borrow(), chen.node.borrow());
        a.add_contact(&c.card(), None)?;
        c.add_contact(&a.card(), None)?;
        dara.node.borrow().join_channel("valley-news")?;
        eli.node.borrow().join_channel("valley-news")?;
        c.set_receipts(Receipts::Immediate)?;
    }
    say(
        "Ana and Chen swapped contact cards last market day; Dara and Eli follow the public channel valley-news.",
    );
    say(super::IMMEDIATE_RECEIPTS);

    step(
        2,
        "Each group runs Pollen on its own Wi-Fi. The two groups never meet.",
    );
    dara.start(&[], &names).await?;
    ana.start(&[&dara], &names).await?;
    eli.start(&[], &names).await?;
    chen.start(&[&eli], &names).await?;
    say(format!("village: Ana {} <-> Dara {}", ana.addr, dara.addr));
    say(format!("town:    Chen {} <-> Eli {}", chen.addr, eli.addr));

    step(3, "Ana writes to Chen; Dara posts to valley-news.");
    let t_send = Instant::now();
    let ana_text = "The bridge is out. We need insulin for Grandma Li.";
    let dara_text = "Market moves to Thursday because of the bridge.";
    let ana_sent = ana.node.borrow().send_direct("Chen", ana_text)?;
    ana.nudge.poke();
    let dara_sent = dara.node.borrow().send_channel("valley-news", dara_text)?;
    dara.nudge.poke();
    let d = until("the village to share its news", || {
        dara.holds(&ana_sent.envelope) && ana.holds(&dara_sent.envelope)
    })
    .await?;
    say(format!(
        "the village phones now carry each other's envelopes ({} ms); town has none of it",
        d.as_millis()
    ));

    step(
        4,
        "Bo's bus stops in the village; his phone syncs with whoever is near.",
    );
    bo.start(&[&ana, &dara], &names).await?;
    until("Bo to pick up the village's envelopes", || {
        bo.holds(&ana_sent.envelope) && bo.holds(&dara_sent.envelope)
    })
    .await?;
    bo.stop().await;
    say(
        "the bus leaves. Bo carries two sealed envelopes: he cannot read them or see who wrote them.",
    );

    step(5, "The bus reaches town.");
    bo.start(&[&chen, &eli], &names).await?;
    until("Chen and Eli to receive", || {
        chen.received(ana_text).is_some() && eli.received(dara_text).is_some()
    })
    .await?;
    let ana_latency = t_send.elapsed();
    let ana_hops = chen.received(ana_text);
    let dara_hops = eli.received(dara_text);
    say(format!(
        "Chen reads Ana's message ({})",
        hops_text(ana_hops)
    ));
    say(format!("Eli reads Dara's post ({})", hops_text(dara_hops)));
    let reply_text = "Insulin on the afternoon bus. Hold on!";
    let t_reply = Instant::now();
    let reply = chen.node.borrow().send_direct("Ana", reply_text)?;
    chen.nudge.poke();
    until("Bo to pick up Chen's reply", || bo.holds(&reply.envelope)).await?;
    bo.stop().await;
    say("Chen's reply and the delivery proof for Ana's message ride with Bo.");

    step(6, "The bus returns to the village.");
    bo.start(&[&ana, &dara], &names).await?;
    until("Ana to get the reply and the proof", || {
        ana.received(reply_text).is_some()
            && ana
                .node
                .borrow()
                .status()
                .is_ok_and(|s| s.own_delivered >= 1)
    })
    .await?;
    let reply_latency = t_reply.elapsed();
    let reply_hops = ana.received(reply_text);
    let proof_latency = t_send.elapsed();

    step(7, "Where things stand.");
    for p in [&ana, &dara, &chen, &eli, &bo] {
        let s = p.node.borrow().status()?;
        say(format!(
            "{:<5} holds {:>2} envelopes, carrying {:>2} for others, own pending {}, delivered {}",
            s.name, s.envelopes_stored, s.carried_for_others, s.own_undelivered, s.own_delivered
        ));
    }
    let bo_reads = bo.node.borrow().messages(None, 10, None)?.len();
    say(format!(
        "Bo's inbox: {bo_reads} messages (he carried everything, read nothing)"
    ));
    for p in [&mut ana, &mut dara, &mut chen, &mut eli, &mut bo] {
        p.stop().await;
    }

    println!("\nDelivered across the gap, hop by hop, with no network between the groups:");
    println!(
        "  Ana  -> Chen         {:<10} in {:>6.2} s  {ana_text:?}",
        hops_text(ana_hops),
        ana_latency.as_secs_f64()
    );
    println!(
        "  Dara -> valley-news  {:<10} in {:>6.2} s  {dara_text:?} (read by Eli)",
        hops_text(dara_hops),
        ana_latency.as_secs_f64()
    );
    println!(
        "  Chen -> Ana          {:<10} in {:>6.2} s  {reply_text:?}",
        hops_text(reply_hops),
        reply_latency.as_secs_f64()
    );
    println!(
        "  Ana's message confirmed delivered {:.2} s after she sent it; whole demo {:.2} s.",
        proof_latency.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if bo_reads != 0 {
        return Err(CliError::Other("the carrier could read a message".into()));
    }
    Ok(())
}
