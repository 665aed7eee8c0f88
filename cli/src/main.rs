//! `pollen`: the command-line node.
//!
//! Every command prints a human summary, or JSON with `--json`; errors are
//! one line on stderr and a non-zero exit status.

mod args;
mod attach;
mod bench;
mod bench_attach;
mod bench_ble;
mod bench_ceiling;
mod bench_json;
mod bench_payloads;
mod bench_relay;
mod ble;
mod demo;
mod docs;
mod metrics;
mod net;
mod output;
mod relay;
mod run;
mod sim;
mod sim_progress;

use args::{BleCmd, BundleCmd, ChannelCmd, Cli, Command, ContactCmd, GroupCmd, SendArgs};
use clap::Parser;
use pollen_node::node::{Node, SystemClock};
use pollen_node::receipts::Receipts;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A failure to report: one line, then exit 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the core.
    #[error(transparent)]
    Node(#[from] pollen_node::node::NodeError),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl From<pollen_proto::identity::IdentityError> for CliError {
    fn from(e: pollen_proto::identity::IdentityError) -> Self {
        CliError::Node(e.into())
    }
}

impl From<pollen_proto::envelope::EnvelopeError> for CliError {
    fn from(e: pollen_proto::envelope::EnvelopeError) -> Self {
        CliError::Node(e.into())
    }
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // Like any Unix tool: `pollen inbox | head` ends quietly when the reader stops.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; resetting
    // SIGPIPE to its default action has no other effect on Rust's runtime.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // A node running unattended logs what it does; interactive commands stay quiet.
    let unattended = matches!(
        cli.command,
        Command::Run { .. } | Command::Serve { .. } | Command::Relay { .. }
    ) && !std::io::IsTerminal::is_terminal(&std::io::stdout());
    // The ceiling benchmark provokes a warning per hostile peer, by the million.
    let flood = matches!(cli.command, Command::Bench(bench::BenchCmd::Ceiling(_)));
    init_logging(if flood {
        "error"
    } else if unattended {
        "info"
    } else {
        "warn"
    });
    match run(cli, started) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("POLLEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn data_dir(data: Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(d) = data {
        return Ok(d);
    }
    directories::ProjectDirs::from("org", "Pollen", "pollen")
        .map(|p| p.data_dir().to_owned())
        .ok_or_else(|| {
            CliError::Other("no home directory; pass --data DIR or set POLLEN_DATA".into())
        })
}

pub(crate) fn open(dir: &Path) -> Result<Node, CliError> {
    Ok(Node::open(dir, Box::new(SystemClock))?)
}

fn run(cli: Cli, started: std::time::Instant) -> Result<ExitCode, CliError> {
    let dir = || data_dir(cli.data.clone());
    match cli.command {
        Command::Init { name } => {
            let dir = dir()?;
            let node = Node::init(&dir, &name, Box::new(SystemClock))?;
            println!("created identity {:?} in {}", name.trim(), dir.display());
            println!("fingerprint: {}", node.fingerprint());
            println!("card: {}", node.card());
        }
        Command::Wipe { yes } => {
            let dir = dir()?;
            if !yes {
                return Err(CliError::Other(format!(
                    "refusing to wipe {} without --yes: it erases this identity, its contacts and messages for good",
                    dir.display()
                )));
            }
            let files = pollen_node::node::wipe_data_dir(&dir)?;
            println!("wiped {} ({files} files erased)", dir.display());
        }
        Command::Id { qr, json } => output::id(&open(&dir()?)?, qr, json)?,
        Command::Contact(cmd) => contact(&open(&dir()?)?, cmd)?,
        Command::Send(args) => send(&open(&dir()?)?, &args)?,
        Command::Doc(cmd) => docs::doc(&dir()?, cmd)?,
        Command::Board(cmd) => docs::board(&open(&dir()?)?, cmd)?,
        Command::Fetch { blob, out } => attach::fetch(&open(&dir()?)?, &blob, out.as_deref())?,
        Command::Reply { message, text } => {
            output::sent(&open(&dir()?)?.reply(&message, &text)?, false)
        }
        Command::Edit { message, text } => {
            output::sent(&open(&dir()?)?.edit(&message, &text)?, false)
        }
        Command::React { message, emoji } => {
            output::sent(&open(&dir()?)?.react(&message, &emoji)?, false)
        }
        Command::Delete { message } => output::sent(&open(&dir()?)?.delete(&message)?, false),
        Command::Read { conversation } => match open(&dir()?)?.mark_read(&conversation)? {
            Some(sent) => output::sent(&sent, false),
            None => println!("nothing new to mark read"),
        },
        Command::Group(GroupCmd::Create { name, members }) => {
            let conv = open(&dir()?)?.create_group(&name, &members)?;
            println!(
                "created group {:?} with {} member(s); keys sealed to each",
                conv.name,
                members.len()
            );
        }
        Command::Group(GroupCmd::Add { name, member }) => {
            let epoch = open(&dir()?)?.add_member(&name, &member)?;
            println!(
                "added {member:?} to {name:?}; new key (epoch {epoch}) sealed to every member"
            );
        }
        Command::Group(GroupCmd::Remove { name, member }) => {
            let epoch = open(&dir()?)?.remove_member(&name, &member)?;
            println!(
                "removed {member:?} from {name:?}; new key (epoch {epoch}) sealed to the others"
            );
        }
        Command::Channel(ChannelCmd::Join { name }) => {
            let conv = open(&dir()?)?.join_channel(&name)?;
            println!(
                "joined public channel {} (anyone who knows the name can read it)",
                conv.name
            );
        }
        Command::Conversations { json } => output::conversations(&open(&dir()?)?, json)?,
        Command::Inbox {
            conversation,
            limit,
            json,
        } => output::inbox(&open(&dir()?)?, conversation.as_deref(), limit, json)?,
        Command::Encounters { state } => {
            let mut node = open(&dir()?)?;
            if let Some(state) = state {
                node.set_encounter_routing(state == "on")?;
            }
            let now = if node.encounter_routing() {
                "on"
            } else {
                "off"
            };
            println!("encounter routing: {now}");
        }
        Command::Receipts { mode } => {
            let node = open(&dir()?)?;
            if let Some(mode) = mode.as_deref().and_then(Receipts::parse) {
                node.set_receipts(mode)?;
            }
            println!("delivery receipts: {}", node.receipts()?.as_str());
        }
        Command::AutoFetch { bluetooth, wifi } => {
            let node = open(&dir()?)?;
            let mut limits = node.auto_fetch()?;
            if bluetooth.is_some() || wifi.is_some() {
                limits.slow_link = bluetooth.unwrap_or(limits.slow_link);
                limits.fast_link = wifi.unwrap_or(limits.fast_link);
                limits = node.set_auto_fetch(limits)?;
            }
            println!(
                "automatic fetch from contacts: up to {} bytes over Bluetooth, {} over Wi-Fi",
                limits.slow_link, limits.fast_link
            );
        }
        Command::ReadReceipts { state } => {
            let node = open(&dir()?)?;
            if let Some(state) = state {
                node.set_read_receipts(state == "on")?;
            }
            let now = if node.read_receipts()? { "on" } else { "off" };
            println!("read receipts: {now}");
        }
        Command::Block { who } => {
            let key = open(&dir()?)?.block(&who)?;
            println!("blocked {who:?} ({key}): their messages are dropped here");
        }
        Command::Unblock { who } => {
            if open(&dir()?)?.unblock(&who)? {
                println!("unblocked {who:?}");
            } else {
                println!("{who:?} was not blocked");
            }
        }
        Command::Blocked => {
            for b in open(&dir()?)?.blocked()? {
                println!(
                    "{}  {}",
                    b.key,
                    b.alias.as_deref().unwrap_or("(not a contact)")
                );
            }
        }
        Command::Status { json } => {
            let dir = dir()?;
            output::status(&open(&dir)?.status()?, run::live_status(&dir), json)?
        }
        Command::Bundle(BundleCmd::Export { file, json }) => {
            let r = open(&dir()?)?.export_bundle(&file)?;
            output::export(&r, &file, json)?;
        }
        Command::Bundle(BundleCmd::Import { file, json }) => {
            return import_bundle(&open(&dir()?)?, &file, json);
        }
        Command::Serve {
            listen,
            json,
            limits,
        } => {
            let mut node = open(&dir()?)?;
            limits.apply(&mut node);
            return net::serve(node, &listen, json);
        }
        command @ Command::Run { .. } => return run_node(dir()?, command),
        command @ Command::Relay { .. } => return run_relay(dir, command),
        Command::Sync { addr, json, limits } => {
            let mut node = open(&dir()?)?;
            limits.apply(&mut node);
            return net::sync(node, &addr, json);
        }
        Command::Bench(cmd) => bench::run(cmd)?,
        Command::Ble(BleCmd::Scan { seconds, json }) => ble::scan(seconds, json)?,
        Command::Demo { keep, sneakernet } => {
            if sneakernet {
                demo::sneakernet(keep)?
            } else {
                demo::mesh(keep)?
            }
        }
        Command::BenchProbe { dir } => bench::probe(&dir, started)?,
        Command::Sim(args) => sim::run(args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn send(node: &Node, args: &SendArgs) -> Result<(), CliError> {
    let t = &args.target;
    let text = args.text.as_deref().unwrap_or("");
    if let Some(path) = &args.file {
        let name = match (&t.to, &t.group, &t.channel) {
            (Some(to), _, _) => to.clone(),
            (_, Some(g), _) => g.clone(),
            (_, _, Some(c)) if c.starts_with('#') => c.clone(),
            (_, _, Some(c)) => format!("#{c}"),
            _ => return Err(CliError::Other("say --to, --group or --channel".into())),
        };
        let (sent, reference) = attach::send_file(node, &name, path, text)?;
        output::sent(&sent, args.json);
        if !args.json {
            println!(
                "attached {} ({} bytes, {} chunks), blob {}",
                output::clean(&reference.preview.name),
                reference.preview.size,
                reference.chunk_count(),
                pollen_node::node::blob_hex(&reference.blob)
            );
        }
        return Ok(());
    }
    let Some(text) = &args.text else {
        return Err(CliError::Other(
            "say what to send: TEXT or --file PATH".into(),
        ));
    };
    let sent = match (&t.to, &t.group, &t.channel) {
        (Some(to), _, _) => node.send_direct(to, text)?,
        (_, Some(g), _) => node.send_group(g, text)?,
        (_, _, Some(c)) => node.send_channel(c, text)?,
        _ => return Err(CliError::Other("say --to, --group or --channel".into())),
    };
    output::sent(&sent, args.json);
    Ok(())
}

fn import_bundle(node: &Node, file: &Path, json: bool) -> Result<ExitCode, CliError> {
    let report = node.import_bundle(file, &mut |r| {
        if !json {
            eprintln!("committed {} records", r.envelopes + r.proofs);
        }
    })?;
    output::import(&report, json)?;
    Ok(if report.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `pollen run`: the node on the LAN (and BLE, relays) until stopped.
fn run_node(dir: PathBuf, command: Command) -> Result<ExitCode, CliError> {
    let Command::Run {
        listen,
        no_mdns,
        peers,
        max_links,
        relays,
        ble,
        limits,
    } = command
    else {
        unreachable!("run_node is only called for `pollen run`");
    };
    let mut node = open(&dir)?;
    limits.apply(&mut node);
    for p in &peers {
        pollen_runtime::check_addr(p).map_err(|e| CliError::Other(e.to_string()))?;
    }
    let options = pollen_runtime::host::HostOptions {
        lan: true,
        listen,
        mdns: !no_mdns,
        peers,
        relays: run::relay_addresses(&dir, &relays)?,
        max_links: Some(max_links.max(1)),
    };
    run::run(node, dir, options, ble)
}

/// `pollen relay`: a store on disk (or shared in Postgres) serving clients.
fn run_relay(
    data_dir: impl Fn() -> Result<PathBuf, CliError>,
    command: Command,
) -> Result<ExitCode, CliError> {
    let Command::Relay {
        listen,
        store,
        advertise,
        metrics,
        storage_mb,
        per_peer_mb,
        max_links,
        no_address_limits,
    } = command
    else {
        unreachable!("run_relay is only called for `pollen relay`");
    };
    let postgres = store
        .as_deref()
        .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"));
    let dir = match (&store, postgres) {
        (Some(p), None) => PathBuf::from(p),
        _ => data_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    relay::run(
        relay::RelayOptions {
            listen: &listen,
            advertise: advertise.as_deref(),
            dir: &dir,
            metrics: metrics.as_deref(),
            limits: pollen_node::store::StoreLimits {
                global_bytes: storage_mb << 20,
                per_origin_bytes: per_peer_mb << 20,
            },
            max_links: max_links.max(1),
            address_limits: !no_address_limits,
        },
        postgres,
    )
}

fn contact(node: &Node, cmd: ContactCmd) -> Result<(), CliError> {
    match cmd {
        ContactCmd::Add { card, alias } => {
            let c = node.add_contact(&card, alias.as_deref())?;
            println!("pinned {} ({})", c.alias, c.identity.fingerprint());
            println!(
                "compare safety numbers in person: pollen contact verify {:?}",
                c.alias
            );
        }
        ContactCmd::List { json } => output::contacts(node, json)?,
        ContactCmd::Verify { name, confirm } => {
            let number = node.safety_number(&name)?;
            println!("safety number with {name}:\n  {number}");
            if confirm {
                node.mark_verified(&name)?;
                println!("{name} marked verified");
            } else {
                println!(
                    "if it matches what {name}'s phone shows, run: pollen contact verify {name:?} --confirm"
                );
            }
        }
        ContactCmd::Remove { name } => {
            node.remove_contact(&name)?;
            println!("unpinned {name}");
        }
    }
    Ok(())
}
