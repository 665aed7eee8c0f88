//! The command line: every command, subcommand and flag `pollen` takes.

use clap::{Args, Parser, Subcommand};
use pollen_node::node::Node;
use std::path::PathBuf;

/// Pollen: an offline-first, end-to-end encrypted mesh messenger.
#[derive(Parser, Debug)]
#[command(name = "pollen", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Data directory (default: $POLLEN_DATA, else the platform data dir).
    #[arg(long, global = true, env = "POLLEN_DATA", value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Create this device's identity.
    Init {
        /// Display name shown to contacts.
        #[arg(long)]
        name: String,
    },
    /// Panic wipe: erase the identity, contacts, messages and caches of the
    /// data directory for good.
    Wipe {
        /// Confirm: without it nothing is erased.
        #[arg(long)]
        yes: bool,
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
    /// Shared documents: create, list, show, edit, share, watch.
    #[command(subcommand)]
    Doc(DocCmd),
    /// The needs-and-offers board (a shared document).
    #[command(subcommand)]
    Board(BoardCmd),
    /// Fetch an attachment: mark it wanted, print progress, save it with --out.
    Fetch {
        /// Blob id (or a unique prefix of at least 8 hex digits), from `pollen inbox`.
        blob: String,
        /// Save the file here once every chunk is held.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
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
    /// Encounter routing: tell neighbours, inside encrypted sessions and as
    /// keys that change every day, whom you met today, and route carried
    /// messages by what they tell (on by default). Prints the setting;
    /// `on` or `off` changes it.
    Encounters {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
    },
    /// Delivery receipts for messages you receive: `batched` (the default:
    /// held back 0-10 minutes and sent with others at a 10-minute boundary,
    /// so whoever handed a message over does not learn at once that it was
    /// for you), `immediate` (the sender sees "delivered" at once) or `off`
    /// (never: carriers keep the message until it expires). Prints the
    /// setting; a value changes it.
    Receipts {
        /// `batched`, `immediate` or `off`.
        #[arg(value_parser = ["batched", "immediate", "off"])]
        mode: Option<String>,
    },
    /// Attachments from contacts fetched without asking: the largest size
    /// over Bluetooth and over Wi-Fi, in bytes (2 MiB and 16 MiB by
    /// default; a stranger's never). Prints the setting; a value changes it.
    AutoFetch {
        /// Largest size over Bluetooth.
        #[arg(long)]
        bluetooth: Option<u64>,
        /// Largest size over Wi-Fi or a cable.
        #[arg(long)]
        wifi: Option<u64>,
    },
    /// Read receipts: whether opening a chat tells the others how far you
    /// have read (on by default; sealed inside the conversation). Prints the
    /// setting; `on` or `off` changes it.
    ReadReceipts {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
    },
    /// Block a contact (alias) or anyone (signing key in hex): their messages
    /// are dropped here without a delivery proof, and you cannot write to them.
    Block {
        /// Contact alias or signing key (hex).
        who: String,
    },
    /// Unblock a contact or key: their new messages come in again.
    Unblock {
        /// Contact alias or signing key (hex).
        who: String,
    },
    /// Everyone blocked.
    Blocked,
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
        #[arg(long, default_value_t = crate::relay::RELAY_MAX_LINKS)]
        max_links: usize,
        /// Lifts the per-address limits (links, unfinished handshakes,
        /// handshake rate) for a benchmark whose clients all share one
        /// address; never for a relay facing the internet.
        #[arg(long)]
        no_address_limits: bool,
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
    Bench(crate::bench::BenchCmd),
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
    Sim(crate::sim::SimArgs),
    /// Internal: cold-start probe used by `bench open`.
    #[command(hide = true)]
    BenchProbe {
        /// Data directory to open.
        dir: PathBuf,
    },
}

/// How much this node stores for others while syncing.
#[derive(clap::Args, Debug)]
pub(crate) struct StorageArgs {
    /// Megabytes of envelopes held at most (all kinds together).
    #[arg(long, value_name = "MB", default_value_t = 256)]
    pub(crate) storage_mb: u64,
    /// Megabytes of carried envelopes one neighbour may leave here.
    #[arg(long, value_name = "MB", default_value_t = 64)]
    pub(crate) per_peer_mb: u64,
}

impl StorageArgs {
    pub(crate) fn apply(&self, node: &mut Node) {
        node.set_limits(pollen_node::store::StoreLimits {
            global_bytes: self.storage_mb << 20,
            per_origin_bytes: self.per_peer_mb << 20,
        });
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum DocCmd {
    /// Create a document shared with a contact, group or #channel.
    Create {
        /// Its title.
        title: String,
        /// The contact, group or #channel that reads it.
        #[arg(long)]
        to: String,
        /// A contact who may write too (repeat for more); the creator always may.
        #[arg(long = "writer")]
        writers: Vec<String>,
        /// What kind of document, for apps.
        #[arg(long, default_value = "doc")]
        app: String,
    },
    /// List shared documents.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a document's content (JSON) and who may write.
    Show {
        /// Document id (or a unique prefix of at least 4 hex digits).
        doc: String,
        /// Print the whole record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a document: every edit given becomes one change.
    Edit {
        /// Document id (or unique prefix).
        doc: String,
        /// PATH=VALUE: put VALUE (JSON, or else taken as text) at PATH (a/b/0).
        #[arg(long = "set")]
        set: Vec<String>,
        /// PATH=VALUE: append VALUE to the list at PATH.
        #[arg(long = "push")]
        push: Vec<String>,
        /// PATH: remove what PATH names.
        #[arg(long = "delete")]
        delete: Vec<String>,
    },
    /// Share a document with another contact, group or #channel.
    Share {
        /// Document id (or unique prefix).
        doc: String,
        /// Who else reads it.
        #[arg(long)]
        to: String,
    },
    /// Print the document each time it changes (another process syncing).
    Watch {
        /// Document id (or unique prefix).
        doc: String,
        /// Stop after this many changes (0: never).
        #[arg(long, default_value_t = 0)]
        count: u32,
        /// How often to look, in milliseconds.
        #[arg(long, default_value_t = 500)]
        interval_ms: u64,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum BoardCmd {
    /// Create a board shared with a contact, group or #channel.
    Create {
        /// Its title.
        title: String,
        /// Who reads it.
        #[arg(long)]
        to: String,
        /// A contact who may post too (repeat for more).
        #[arg(long = "writer")]
        writers: Vec<String>,
    },
    /// Post a need or an offer.
    Post {
        /// Board id (or unique prefix).
        board: String,
        /// need or offer.
        kind: String,
        /// What is needed or offered.
        text: String,
    },
    /// Mark an item done.
    Done {
        /// Board id (or unique prefix).
        board: String,
        /// Item id (or unique prefix).
        item: String,
    },
    /// Show the board's items, open ones first.
    Show {
        /// Board id (or unique prefix).
        board: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum BleCmd {
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
pub(crate) enum ContactCmd {
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
pub(crate) struct SendTarget {
    /// A contact alias.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// A group name.
    #[arg(long)]
    pub(crate) group: Option<String>,
    /// A joined channel.
    #[arg(long)]
    pub(crate) channel: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) target: SendTarget,
    /// The message (optional with --file).
    pub(crate) text: Option<String>,
    /// Attach this file (at most 16 MiB).
    #[arg(long)]
    pub(crate) file: Option<std::path::PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum GroupCmd {
    /// Create a group; you are its admin.
    Create {
        /// Group name.
        name: String,
        /// Contact aliases to add (repeatable).
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// Add a contact; a new group key goes to every member (the new one reads from now on).
    Add {
        /// Group name.
        name: String,
        /// Contact alias to add.
        #[arg(long)]
        member: String,
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
pub(crate) enum ChannelCmd {
    /// Join a public channel (anyone who knows the name can read it).
    Join {
        /// Channel name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum BundleCmd {
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
