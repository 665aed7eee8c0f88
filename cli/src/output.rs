//! Printing results for people (plain text) and scripts (`--json`).

use crate::CliError;
use pollen_node::node::{ExportReport, ImportReport, Node, Status, send::Sent};
use pollen_node::store::MessageRow;
use serde_json::{Value, json};
use std::path::Path;

/// Received text made safe for a terminal: control characters (ESC, BEL,
/// C1 controls such as CSI; newlines and tabs too, so one message stays one
/// line) and invisible bidi or zero-width format characters are shown as
/// `\u{…}` escapes instead of being interpreted by the terminal.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || pollen_proto::identity::is_format_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn print_json(v: &Value) -> Result<(), CliError> {
    let s = serde_json::to_string_pretty(v).map_err(|e| CliError::Other(e.to_string()))?;
    println!("{s}");
    Ok(())
}

/// hh:mm (UTC) of a message time in unix milliseconds.
fn time(ts_ms: u64) -> String {
    let s = (ts_ms / 1000) % 86400;
    format!("{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// `pollen id`.
pub fn id(node: &Node, qr: bool, json: bool) -> Result<(), CliError> {
    let card = node.card();
    if json {
        return print_json(&json!({
            "name": node.identity().name(),
            "card": card,
            "fingerprint": node.fingerprint().to_hex(),
        }));
    }
    println!("{card}");
    if qr {
        // Uppercase lets the QR code use alphanumeric mode: a smaller code.
        let code =
            qrcode::QrCode::with_error_correction_level(card.to_uppercase(), qrcode::EcLevel::M)
                .map_err(|e| CliError::Other(format!("cannot draw QR code: {e}")))?;
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build();
        println!("{art}");
    }
    println!("fingerprint: {}", node.fingerprint());
    Ok(())
}

/// After a send, reply, edit, reaction or deletion.
pub fn sent(s: &Sent, json: bool) {
    if json {
        println!(
            "{}",
            json!({"id": s.message.to_hex(), "conversation": s.conversation, "envelope": hex::encode(s.envelope)})
        );
    } else {
        println!(
            "{} -> {} (message {})",
            short(&s.message.to_hex()),
            s.conversation,
            s.message.to_hex()
        );
    }
}

fn short(hex: &str) -> &str {
    &hex[..hex.len().min(8)]
}

/// `pollen contact list`.
pub fn contacts(node: &Node, json: bool) -> Result<(), CliError> {
    let list = node.contacts()?;
    let changes = node.key_changes()?;
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|c| {
                json!({
                    "alias": c.alias,
                    "card_name": c.card_name,
                    "fingerprint": c.identity.fingerprint().to_hex(),
                    "verified": c.verified,
                    "added_at": c.added_at,
                    "key_changes": changes.iter().filter(|k| k.alias == c.alias).count(),
                })
            })
            .collect();
        return print_json(&Value::Array(v));
    }
    if list.is_empty() {
        println!("no contacts yet: pollen contact add CARD");
    }
    for c in &list {
        let mark = if c.verified {
            "verified"
        } else {
            "not verified"
        };
        println!(
            "{:<20} {}  {}",
            clean(&c.alias),
            c.identity.fingerprint(),
            mark
        );
    }
    for k in &changes {
        println!(
            "WARNING: a different key claimed to be {} (refused): {}",
            clean(&k.alias),
            clean(&k.new_card)
        );
    }
    Ok(())
}

/// `pollen conversations`.
pub fn conversations(node: &Node, json: bool) -> Result<(), CliError> {
    let list = node.conversations(500)?;
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|c| {
                json!({
                    "id": hex::encode(c.id),
                    "name": c.name,
                    "kind": c.kind.as_str(),
                    "last_activity": c.last_activity,
                    "unread": c.unread,
                })
            })
            .collect();
        return print_json(&Value::Array(v));
    }
    for c in &list {
        let public = if c.kind.as_str() == "channel" {
            " (public)"
        } else {
            ""
        };
        println!(
            "{:<24} {:<8}{} unread {}",
            clean(&c.name),
            c.kind.as_str(),
            public,
            c.unread
        );
    }
    Ok(())
}

fn message_json(m: &MessageRow) -> Value {
    json!({
        "id": hex::encode(m.id),
        "conversation": m.conversation_name,
        "from": m.from,
        "author": hex::encode(m.author),
        "text": m.text,
        "sent_at": m.sent_at,
        "status": m.status,
        "hops": m.hops,
        "reply_to": m.reply_to.map(hex::encode),
        "edited_at": m.edited_at,
        "deleted": m.deleted,
        "reactions": m.reactions.iter().map(|(k, e)| json!({"by": k, "emoji": e})).collect::<Vec<_>>(),
    })
}

/// A message's attachment as the apps show it (the app model's state and
/// label): from the projected row, or the message's document for rows
/// projected before attachments were.
fn attachment(
    node: &Node,
    m: &pollen_node::store::MessageRow,
) -> Result<Option<pollen_app::attachment::AttachmentView>, CliError> {
    if m.deleted {
        return Ok(None);
    }
    let reference = match &m.attachment {
        Some(r) => Some(r.clone()),
        None => node.message_attachment(&m.conversation, &m.id)?,
    };
    let Some(r) = reference else {
        return Ok(None);
    };
    let progress = node.attachment_progress(&r)?;
    Ok(Some(pollen_app::attachment::AttachmentView::new(
        r, progress,
    )))
}

/// The state's name in `inbox` (and its JSON).
fn state_name(state: pollen_app::attachment::AttachmentState) -> &'static str {
    use pollen_app::attachment::AttachmentState::*;
    match state {
        Whole => "whole",
        Coming => "coming",
        WifiOnly => "wifi_only",
        Ask => "ask",
    }
}

/// `pollen inbox`.
pub fn inbox(
    node: &Node,
    conversation: Option<&str>,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let mut rows = node.messages(conversation, limit, None)?;
    rows.reverse();
    if json {
        let mut out = Vec::new();
        for m in &rows {
            let mut v = message_json(m);
            if let (Some(a), Value::Object(map)) = (attachment(node, m)?, &mut v) {
                let r = &a.reference;
                map.insert(
                    "attachment".into(),
                    serde_json::json!({
                        "blob": pollen_node::node::blob_hex(&r.blob),
                        "name": r.preview.name,
                        "mime": r.preview.mime,
                        "size": r.preview.size,
                        "have": a.have,
                        "need": a.need,
                        "state": state_name(a.state),
                        "label": a.label(),
                    }),
                );
            }
            out.push(v);
        }
        return print_json(&Value::Array(out));
    }
    if rows.is_empty() {
        println!("no messages");
    }
    for m in &rows {
        let text = if m.deleted {
            "(deleted)".to_owned()
        } else {
            clean(&m.text)
        };
        let edited = if m.edited_at.is_some() {
            " (edited)"
        } else {
            ""
        };
        let reply = m
            .reply_to
            .map(|r| format!(" ↪{}", short(&hex::encode(r))))
            .unwrap_or_default();
        let reactions: String = m.reactions.iter().map(|(_, e)| clean(e)).collect();
        println!(
            "[{}] {} {} {}{}: {}{}{} [{}]",
            clean(&m.conversation_name),
            time(m.sent_at),
            short(&hex::encode(m.id)),
            clean(&m.from),
            reply,
            text,
            edited,
            if reactions.is_empty() {
                String::new()
            } else {
                format!("  {reactions}")
            },
            m.status
        );
        if let Some(a) = attachment(node, m)? {
            println!(
                "    attachment {} ({}; {}/{} chunks), blob {}",
                clean(&a.label()),
                state_name(a.state),
                a.have,
                a.need,
                &pollen_node::node::blob_hex(&a.reference.blob)[..16]
            );
        }
    }
    Ok(())
}

/// `pollen status`.
pub fn status(s: &Status, run: Option<serde_json::Value>, json: bool) -> Result<(), CliError> {
    if json {
        let mut v = serde_json::to_value(s).map_err(|e| CliError::Other(e.to_string()))?;
        v["run"] = run.unwrap_or(serde_json::Value::Null);
        return print_json(&v);
    }
    match &run {
        Some(r) => println!(
            "running: pid {} on {}, {} neighbour(s), {} session(s), up {} s",
            r["pid"],
            r["listen"].as_str().unwrap_or("?"),
            r["neighbours"],
            r["sessions"],
            r["up_s"]
        ),
        None => println!("not running (start `pollen run` to sync with neighbours)"),
    }
    println!("{} — fingerprint {}", clean(&s.name), s.fingerprint);
    println!(
        "envelopes stored: {} ({} carried for others), own undelivered: {}, delivered: {}",
        s.envelopes_stored, s.carried_for_others, s.own_undelivered, s.own_delivered
    );
    println!(
        "storage: {:.1} MB database, {:.1} of {:.0} MB envelope budget",
        s.storage_bytes as f64 / 1e6,
        s.envelope_bytes as f64 / 1e6,
        s.storage_cap_bytes as f64 / 1e6
    );
    if s.chunks_carried.0 + s.chunks_mine.0 > 0 {
        println!(
            "attachment chunks: {} carried for others ({:.1} MB), {} of yours ({:.1} MB)",
            s.chunks_carried.0,
            s.chunks_carried.1 as f64 / 1e6,
            s.chunks_mine.0,
            s.chunks_mine.1 as f64 / 1e6
        );
    }
    println!(
        "{} contacts, {} conversations, {} messages",
        s.contacts, s.conversations, s.messages
    );
    if s.key_changes > 0 {
        println!(
            "WARNING: {} refused key change(s): see `pollen contact list`",
            s.key_changes
        );
    }
    Ok(())
}

/// `pollen bundle export`.
pub fn export(r: &ExportReport, file: &Path, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&serde_json::to_value(r).map_err(|e| CliError::Other(e.to_string()))?);
    }
    println!(
        "exported {} envelopes and {} delivery proofs to {} ({} bytes)",
        r.envelopes,
        r.proofs,
        file.display(),
        r.bytes
    );
    Ok(())
}

/// `pollen bundle import`.
pub fn import(r: &ImportReport, json: bool) -> Result<(), CliError> {
    if json {
        print_json(&serde_json::to_value(r).map_err(|e| CliError::Other(e.to_string()))?)?;
    } else {
        println!(
            "imported {} envelopes: {} opened, {} carried, {} duplicates, {} already delivered, {} rejected",
            r.envelopes,
            r.opened,
            r.carried,
            r.duplicates,
            r.already_delivered,
            r.rejected_total()
        );
        for (reason, n) in &r.rejected {
            println!("  rejected {n}: {reason}");
        }
        println!(
            "{} delivery proofs ({} new): {} copies purged, {} of your messages delivered",
            r.proofs, r.proofs_new, r.purged, r.delivered
        );
    }
    if let Some(e) = &r.error {
        eprintln!("error: bundle incomplete: {e}; everything before it was kept");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn received_text_cannot_drive_the_terminal() {
        let hostile = "hi\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.exe\nnext";
        let shown = clean(hostile);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || pollen_proto::identity::is_format_char(c)),
            "{shown:?}"
        );
        assert!(shown.contains("\\u{1b}]0;pwned\\u{7}"), "{shown}");
        assert!(shown.contains("\\u{202e}"), "{shown}");
        assert_eq!(clean("Zoë 🐝 محمد"), "Zoë 🐝 محمد");
    }
}
