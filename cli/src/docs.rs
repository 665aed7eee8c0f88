//! `pollen doc` and `pollen board`: shared documents from the command line.

use crate::CliError;
use crate::args::{BoardCmd, DocCmd};
use pollen_app::board::{self, ItemKind};
use pollen_node::node::{DocInfo, Node};
use pollen_node::shared_docs::{DocEdit, parse_path};
use std::path::Path;

/// Runs one `pollen doc` command on the node in `dir` (`watch` reopens it
/// each time it looks, so another process may sync meanwhile).
pub(crate) fn doc(dir: &Path, cmd: DocCmd) -> Result<(), CliError> {
    match cmd {
        DocCmd::Watch {
            doc,
            count,
            interval_ms,
        } => watch(dir, &doc, count, interval_ms),
        cmd => run(&crate::open(dir)?, cmd),
    }
}

fn run(node: &Node, cmd: DocCmd) -> Result<(), CliError> {
    match cmd {
        DocCmd::Create {
            title,
            to,
            writers,
            app,
        } => {
            let id = node.create_doc(&to, &app, &title, &writers, &[])?;
            println!("created document {} ({title:?}) for {to}", id.to_hex());
        }
        DocCmd::List { json } => {
            let docs = node.docs()?;
            if json {
                println!("{}", serde_json::to_string(&docs).unwrap_or_default());
            }
            for d in docs.iter().filter(|_| !json) {
                println!(
                    "{}  {:<6} {:?} by {}{}",
                    &d.id[..12],
                    d.app,
                    d.title,
                    d.creator,
                    if d.writable { "" } else { " (read only)" }
                );
            }
        }
        DocCmd::Show { doc, json } => show(&node.doc(&doc)?, json),
        DocCmd::Edit {
            doc,
            set,
            push,
            delete,
        } => {
            let mut edits = Vec::new();
            for s in &set {
                let (path, value) = path_value(s)?;
                edits.push(DocEdit::Set { path, value });
            }
            for s in &push {
                let (path, value) = path_value(s)?;
                edits.push(DocEdit::Push { path, value });
            }
            for p in &delete {
                edits.push(DocEdit::Delete {
                    path: parse_path(p).map_err(|e| CliError::Node(e.into()))?,
                });
            }
            if edits.is_empty() {
                return Err(CliError::Other(
                    "nothing to do: give --set, --push or --delete".into(),
                ));
            }
            let id = node.edit_doc(&doc, &edits)?;
            println!("changed document {}", id.to_hex());
        }
        DocCmd::Share { doc, to } => {
            let id = node.share_doc(&doc, &to)?;
            println!("shared document {} with {to}", id.to_hex());
        }
        DocCmd::Watch { .. } => unreachable!("handled by doc()"),
    }
    Ok(())
}

/// `PATH=VALUE`, VALUE as JSON if it parses, else as text.
fn path_value(arg: &str) -> Result<(Vec<String>, serde_json::Value), CliError> {
    let Some((path, value)) = arg.split_once('=') else {
        return Err(CliError::Other(format!("{arg:?}: expected PATH=VALUE")));
    };
    let path = parse_path(path).map_err(|e| CliError::Node(e.into()))?;
    let value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    Ok((path, value))
}

fn show(d: &DocInfo, json: bool) {
    if json {
        println!("{}", serde_json::to_string(d).unwrap_or_default());
        return;
    }
    println!(
        "{} {:?} ({}), created by {}",
        d.id, d.title, d.app, d.creator
    );
    let writers = if d.writers.is_empty() {
        "only its creator".to_owned()
    } else {
        format!("its creator and {}", d.writers.join(", "))
    };
    println!(
        "shared with {}; written by {writers}",
        d.shared_with.join(", ")
    );
    if d.refused > 0 {
        println!(
            "refused {} change(s); the last: {}",
            d.refused,
            d.refused_reason.as_deref().unwrap_or("")
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&d.content).unwrap_or_default()
    );
}

fn watch(dir: &Path, doc: &str, count: u32, interval_ms: u64) -> Result<(), CliError> {
    let mut last = None;
    let mut seen = 0u32;
    loop {
        let d = crate::open(dir)?.doc(doc)?;
        let now = serde_json::to_string(&(&d.content, d.refused)).unwrap_or_default();
        if last.as_ref() != Some(&now) {
            if last.is_some() {
                seen += 1;
            }
            show(&d, true);
            last = Some(now);
            if count > 0 && seen >= count {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(interval_ms.max(50)));
    }
}

/// Runs one `pollen board` command.
pub(crate) fn board(node: &Node, cmd: BoardCmd) -> Result<(), CliError> {
    let app = |e: pollen_app::AppError| CliError::Other(e.to_string());
    match cmd {
        BoardCmd::Create { title, to, writers } => {
            let id = board::create(node, &to, &title, &writers).map_err(app)?;
            println!("created board {} ({title:?}) for {to}", id.to_hex());
        }
        BoardCmd::Post {
            board: b,
            kind,
            text,
        } => {
            let kind = ItemKind::parse(&kind)
                .ok_or_else(|| CliError::Other(format!("{kind:?}: say need or offer")))?;
            let id = board::post(node, &b, kind, &text).map_err(app)?;
            println!("posted item {id}");
        }
        BoardCmd::Done { board: b, item } => {
            board::mark_done(node, &b, &item).map_err(app)?;
            println!("marked done");
        }
        BoardCmd::Show { board: b, json } => {
            let items = board::items(node, &b).map_err(app)?;
            if json {
                println!("{}", serde_json::to_string(&items).unwrap_or_default());
                return Ok(());
            }
            for i in items {
                let kind = match i.kind {
                    ItemKind::Need => "NEED ",
                    ItemKind::Offer => "OFFER",
                };
                let done = if i.done { " (done)" } else { "" };
                // Text from others is shown cleaned of terminal controls.
                let text: String = i.text.chars().filter(|c| !c.is_control()).collect();
                let by: String = i.by.chars().filter(|c| !c.is_control()).collect();
                println!("{}  {kind} {text} — {by}{done}", &i.id[..8]);
            }
        }
    }
    Ok(())
}
