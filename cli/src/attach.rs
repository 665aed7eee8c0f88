//! `pollen send --file` and `pollen fetch`: attachments from the command line.

use crate::CliError;
use pollen_node::node::send::Sent;
use pollen_node::node::{Node, NodeError, blob_hex};
use pollen_proto::chunk::{AttachmentRef, Preview};
use std::path::Path;

/// Largest file `pollen send --file` takes.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn mime_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("txt") => "text/plain",
        Some("pdf") => "application/pdf",
        Some("ogg" | "opus") => "audio/ogg",
        Some("m4a") => "audio/mp4",
        Some("mp4") => "video/mp4",
        _ => "",
    }
}

/// Reads `path` and sends it, with `text`, to the conversation `to`.
pub(crate) fn send_file(
    node: &Node,
    to: &str,
    path: &Path,
    text: &str,
) -> Result<(Sent, AttachmentRef), CliError> {
    let io = |e: std::io::Error| CliError::Other(format!("{}: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(CliError::Other(format!(
            "{}: {len} bytes, more than the 16 MiB an attachment may have",
            path.display()
        )));
    }
    let data = std::fs::read(path).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let preview = Preview {
        mime: mime_for(&name).into(),
        name,
        ..Preview::default()
    };
    Ok(node.send_file(to, &data, preview, text)?)
}

/// `pollen fetch BLOB [--out PATH]`.
pub(crate) fn fetch(node: &Node, blob: &str, out: Option<&Path>) -> Result<(), CliError> {
    let reference = node.find_attachment(blob)?;
    let p = node.fetch(&reference)?;
    println!(
        "{} {} bytes: {}/{} chunks ({}%)",
        crate::output::clean(&reference.preview.name),
        reference.preview.size,
        p.have,
        p.need,
        u32::from(p.have) * 100 / u32::from(p.need.max(1))
    );
    let Some(out) = out else {
        if !p.complete() {
            println!("wanted: chunks are asked for whenever a neighbour is met");
        }
        return Ok(());
    };
    match node.save_attachment(&reference, out) {
        Ok(n) => {
            println!(
                "saved {n} bytes to {} (blob {})",
                out.display(),
                &blob_hex(&reference.blob)[..16]
            );
            Ok(())
        }
        Err(NodeError::Incomplete(have, need)) => Err(CliError::Other(format!(
            "not complete yet ({have}/{need} chunks); run `pollen fetch {blob} --out {}` again after meeting a neighbour",
            out.display()
        ))),
        Err(e) => Err(e.into()),
    }
}
