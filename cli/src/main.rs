//! `pollen`: the command-line node.
//!
//! Every command prints a human summary, or JSON with `--json`; errors are
//! one line on stderr and a non-zero exit status.

mod bench;
mod bench_ble;
mod bench_relay;
mod ble;
mod demo;
mod metrics;
mod net;
mod output;
mod relay;
mod run;
mod sim;

use clap::{Args, Parser, Subcommand};
use pollen_node::node::{Node, SystemClock};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Pollen: an offline-first, end-to-end encrypted mesh messenger.
#[derive(Parser, Debug)]
#[command(name = "pollen", version, about, propagate_version = true)]
struct Cli {
    /// Data directory (default: $POLLEN_DATA, else the platform data dir).
    #[arg(long, global = true, env = "POLLEN_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create this device's identity.
    Init {
        /// Display name shown to contacts.
        #[arg(long)]
        name: String,
    },
    /// Print your contact card.
    Id {
        /// Also draw it as a QR code in the terminal.
        #[arg(long)]
        qr: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage contacts.
    #[command(subcommand)]
    Contact(ContactCmd),
    /// Send a message to a contact, group or channel.
    Send(SendArgs),
    /// Reply to a message.
    Reply {
        /// Message id (or a unique prefix of at least 4 hex digits).
        message: String,
        /// The reply.
        text: String,
    },
    /// Edit one of your messages.
    Edit {
        /// Message id (or unique prefix).
        message: String,
        /// The new text.
        text: String,
    },
    /// React to a message ("" removes your reaction).
    React {
        /// Message id (or unique prefix).
        message: String,
        /// The reaction.
        emoji: String,
    },
    /// Delete one of your messages.
    Delete {
        /// Message id (or unique prefix).
        message: String,
    },
    /// Mark a conversation read (tells the others).
    Read {
        /// Contact alias, group name or #channel.
        conversation: String,
    },
    /// Private groups.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Public channels.
    #[command(subcommand)]
    Channel(ChannelCmd),
    /// List conversations, most recent first.
    Conversations {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show messages, newest last.
    Inbox {
        /// Only this conversation (contact alias, group name or #channel).
        #[arg(long)]
        conversation: Option<String>,
        /// How many messages at most.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Identity, storage and delivery figures.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Accept sync sessions from neighbours until stopped (Ctrl-C). Prints
    /// the bound address on its first line, then one line per session.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:7745")]
        listen: String,
        /// Print one JSON object per session.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: StorageArgs,
    },
    /// Run the node: find neighbours on the LAN (mDNS) and keep in sync with
    /// them until stopped (Ctrl-C). Prints the bound address on its first line.
    Run {
        /// Address to listen on (every interface, a random port by default).
        #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:0")]
        listen: String,
        /// Do not advertise or browse with mDNS.
        #[arg(long)]
        no_mdns: bool,
        /// A neighbour to keep in sync with, host:port (repeatable).
        #[arg(long = "peer", value_name = "ADDR")]
        peers: Vec<String>,
        /// Most sessions at once.
        #[arg(long, default_value_t = 16)]
        max_links: usize,
        /// A relay to upload to and download from whenever it is reachable,
        /// pollen-relay://HOST:PORT/KEY (repeatable; also read from the file
        /// `relays` in the data directory, one per line).
        #[arg(long = "relay", value_name = "ADDRESS")]
        relays: Vec<String>,
        /// Also sync over Bluetooth LE as a central (builds with `--features ble`).
        #[arg(long)]
        ble: bool,
        #[command(flatten)]
        limits: StorageArgs,
    },
    /// Bluetooth LE tools (builds with `--features ble`).
    #[command(subcommand)]
    Ble(BleCmd),
    /// Run a relay: a node with large storage and no user that holds
    /// envelopes for people elsewhere. Prints its address (with its key) first.
    Relay {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:7746")]
        listen: String,
        /// Where the relay keeps its store and key: a directory (SQLite; default:
        /// the data directory) or postgres://USER:PASSWORD@HOST:PORT/DB, a database
        /// that several relay processes share and that holds their common key.
        #[arg(long, value_name = "PATH|URL")]
        store: Option<String>,
        /// HOST:PORT to print in the relay address (default: the bound address).
        #[arg(long, value_name = "HOST:PORT")]
        advertise: Option<String>,
        /// Serve Prometheus metrics on ADDR (GET /metrics).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<String>,
        /// Megabytes of envelopes held at most.
        #[arg(long, value_name = "MB", default_value_t = 10_240)]
        storage_mb: u64,
        /// Megabytes one client address may leave here.
        #[arg(long, value_name = "MB", default_value_t = 256)]
        per_peer_mb: u64,
        /// Most client sessions at once.
        #[arg(long, default_value_t = relay::RELAY_MAX_LINKS)]
        max_links: usize,
    },
    /// One sync session with a neighbour at ADDR (host:port) or a relay
    /// (pollen-relay://HOST:PORT/KEY, whose key is checked), then exit.
    Sync {
        /// The neighbour's or relay's address.
        addr: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: StorageArgs,
    },
    /// Sneakernet: move envelopes by file.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Benchmarks (run them on a release build).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// A narrated walk-through on one machine: five phones running Pollen over
    /// loopback, a bus carrying messages between two groups that never meet.
    Demo {
        /// Keep the demo's data here instead of a temporary directory.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
        /// The sneakernet story instead: messages carried on a USB stick.
        #[arg(long)]
        sneakernet: bool,
    },
    /// The mesh simulator: real nodes over simulated radios and moving
    /// people, each routing policy against the earliest possible delivery.
    Sim(sim::SimArgs),
    /// Internal: cold-start probe used by `bench open`.
    #[command(hide = true)]
    BenchProbe {
        /// Data directory to open.
        dir: PathBuf,
    },
}

/// How much this node stores for others while syncing.
#[derive(clap::Args, Debug)]
struct StorageArgs {
    /// Megabytes of envelopes held at most (all kinds together).
    #[arg(long, value_name = "MB", default_value_t = 256)]
    storage_mb: u64,
    /// Megabytes of carried envelopes one neighbour may leave here.
    #[arg(long, value_name = "MB", default_value_t = 64)]
    per_peer_mb: u64,
}

impl StorageArgs {
    fn apply(&self, node: &mut Node) {
        node.set_limits(pollen_node::store::StoreLimits {
            global_bytes: self.storage_mb << 20,
            per_origin_bytes: self.per_peer_mb << 20,
        });
    }
}

#[derive(Subcommand, Debug)]
enum BleCmd {
    /// Scan for a while and list what was heard (Pollen nodes flagged).
    Scan {
        /// How long to scan.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ContactCmd {
    /// Pin a contact from their card (pollen1…).
    Add {
        /// The contact card.
        card: String,
        /// Local name (default: the name on the card).
        #[arg(long)]
        alias: Option<String>,
    },
    /// List contacts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the safety number to compare in person; --confirm marks verified.
    Verify {
        /// Contact alias.
        name: String,
        /// You compared the numbers and they match.
        #[arg(long)]
        confirm: bool,
    },
    /// Unpin a contact.
    Remove {
        /// Contact alias.
        name: String,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false, id = "target")]
struct SendTarget {
    /// A contact alias.
    #[arg(long)]
    to: Option<String>,
    /// A group name.
    #[arg(long)]
    group: Option<String>,
    /// A joined channel.
    #[arg(long)]
    channel: Option<String>,
}

#[derive(Args, Debug)]
struct SendArgs {
    #[command(flatten)]
    target: SendTarget,
    /// The message.
    text: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum GroupCmd {
    /// Create a group; you are its admin.
    Create {
        /// Group name.
        name: String,
        /// Contact aliases to add (repeatable).
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// Remove a member; the group key is rotated.
    Remove {
        /// Group name.
        name: String,
        /// Contact alias to remove.
        #[arg(long)]
        member: String,
    },
}

#[derive(Subcommand, Debug)]
enum ChannelCmd {
    /// Join a public channel (anyone who knows the name can read it).
    Join {
        /// Channel name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum BundleCmd {
    /// Write everything you would hand a stranger to FILE.
    Export {
        /// Output file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a bundle: validate, keep what you may carry, open what is yours.
    Import {
        /// Bundle file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

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
    init_logging(if unattended { "info" } else { "warn" });
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

fn open(dir: &Path) -> Result<Node, CliError> {
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
        Command::Id { qr, json } => output::id(&open(&dir()?)?, qr, json)?,
        Command::Contact(cmd) => contact(&open(&dir()?)?, cmd)?,
        Command::Send(args) => {
            let node = open(&dir()?)?;
            let t = &args.target;
            let sent = match (&t.to, &t.group, &t.channel) {
                (Some(to), _, _) => node.send_direct(to, &args.text)?,
                (_, Some(g), _) => node.send_group(g, &args.text)?,
                (_, _, Some(c)) => node.send_channel(c, &args.text)?,
                _ => return Err(CliError::Other("say --to, --group or --channel".into())),
            };
            output::sent(&sent, args.json);
        }
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
        Command::Status { json } => {
            let dir = dir()?;
            output::status(&open(&dir)?.status()?, run::live_status(&dir), json)?
        }
        Command::Bundle(BundleCmd::Export { file, json }) => {
            let r = open(&dir()?)?.export_bundle(&file)?;
            output::export(&r, &file, json)?;
        }
        Command::Bundle(BundleCmd::Import { file, json }) => {
            let node = open(&dir()?)?;
            let report = node.import_bundle(&file, &mut |r| {
                if !json {
                    eprintln!("committed {} records", r.envelopes + r.proofs);
                }
            })?;
            output::import(&report, json)?;
            if !report.complete {
                return Ok(ExitCode::FAILURE);
            }
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
        Command::Run {
            listen,
            no_mdns,
            peers,
            max_links,
            relays,
            ble,
            limits,
        } => {
            let dir = dir()?;
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
            return run::run(node, dir, options, ble);
        }
        Command::Relay {
            listen,
            store,
            advertise,
            metrics,
            storage_mb,
            per_peer_mb,
            max_links,
        } => {
            let postgres = store
                .as_deref()
                .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"));
            let dir = match (&store, postgres) {
                (Some(p), None) => PathBuf::from(p),
                _ => dir().unwrap_or_else(|_| PathBuf::from(".")),
            };
            return relay::run(
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
                },
                postgres,
            );
        }
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
