//! The relays this phone hands mail to when it reaches the internet, as the
//! user entered them. They live in the node's `meta` table (`app.relays`,
//! one address per line), so they survive restarts; checking that each is a
//! relay address is the runtime's job.

use crate::AppError;
use pollen_node::Node;

const KEY: &str = "app.relays";

/// The relays saved, in the order given.
pub fn relays(node: &Node) -> Result<Vec<String>, AppError> {
    let raw = node.store().meta(KEY)?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&raw)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// Saves the relays (trimmed, blanks and repeats dropped; none clears them).
pub fn set_relays(node: &Node, addresses: &[String]) -> Result<Vec<String>, AppError> {
    let mut kept: Vec<String> = Vec::new();
    for a in addresses.iter().map(|a| a.trim()) {
        if !a.is_empty() && !kept.iter().any(|k| k == a) {
            kept.push(a.to_owned());
        }
    }
    node.store().set_meta(KEY, kept.join("\n").as_bytes())?;
    Ok(kept)
}

/// Saves one more relay after those already saved (trimmed; a repeat is
/// kept once). Read and written in one step: two adds cannot lose one.
pub fn add_relay(node: &Node, address: &str) -> Result<Vec<String>, AppError> {
    let mut all = relays(node)?;
    all.push(address.to_owned());
    set_relays(node, &all)
}
