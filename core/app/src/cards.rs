//! Adding contacts from what the user scanned or pasted, and starting chats.

use crate::AppError;
use crate::chats::{ChatSummary, summary_of};
use pollen_node::Node;
use pollen_node::store::Contact;
use pollen_proto::identity::ContactCard;

/// The scheme of a shared link: `pollen:pollen1…`.
pub const LINK_SCHEME: &str = "pollen:";

/// The `pollen1…` card inside what was scanned or pasted: surrounding and
/// wrapped-line whitespace removed, a `pollen:` link or a URL carrying the
/// card (in its path, query or fragment) unwrapped. The card is checked
/// (checksum, version, signature) before it is returned.
pub fn card_from_input(input: &str) -> Result<String, AppError> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(malformed("nothing was scanned or pasted"));
    }
    let candidate = extract(&compact).ok_or_else(|| {
        malformed("no card found: a card starts with \"pollen1\" (or is a pollen: link)")
    })?;
    ContactCard::decode(candidate).map_err(|e| malformed(&e.to_string()))?;
    Ok(candidate.to_owned())
}

/// The piece of `s` that starts with the card prefix, any letter case.
fn extract(s: &str) -> Option<&str> {
    let rest = match s.get(..LINK_SCHEME.len()) {
        Some(head) if head.eq_ignore_ascii_case(LINK_SCHEME) => &s[LINK_SCHEME.len()..],
        _ => s,
    };
    let rest = rest.trim_start_matches('/');
    if starts_with_card(rest) && !rest.contains(['/', '?', '#', '&', '=']) {
        return Some(rest);
    }
    // A URL: the card is one of its path segments, query values or fragment.
    rest.split(['/', '?', '#', '&', '='])
        .find(|piece| starts_with_card(piece))
}

fn starts_with_card(s: &str) -> bool {
    s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("pollen1"))
}

fn malformed(reason: &str) -> AppError {
    AppError::MalformedCard {
        reason: reason.to_owned(),
    }
}

/// Adds the contact on a scanned or pasted card (see [`card_from_input`]).
pub fn add_contact_from_input(
    node: &Node,
    input: &str,
    alias: Option<&str>,
) -> Result<Contact, AppError> {
    let card = card_from_input(input)?;
    Ok(node.add_contact(&card, alias.map(str::trim).filter(|a| !a.is_empty()))?)
}

/// Opens the direct chat with a contact, creating it if no message exists yet.
pub fn open_chat_with_contact(node: &Node, alias: &str) -> Result<ChatSummary, AppError> {
    let row = node.open_direct(alias)?;
    summary_of(node, row)
}

/// Opens a chat by name: a contact alias, a group name or `#channel`.
pub fn open_chat(node: &Node, name: &str) -> Result<ChatSummary, AppError> {
    let row = node.resolve_conversation(name)?;
    summary_of(node, row)
}

/// Creates a group with these contacts and opens it.
pub fn start_group(node: &Node, name: &str, members: &[String]) -> Result<ChatSummary, AppError> {
    let row = node.create_group(name, members)?;
    summary_of(node, row)
}

/// Joins a channel (`name` with or without `#`) and opens it.
pub fn join_channel(node: &Node, name: &str) -> Result<ChatSummary, AppError> {
    let row = node.join_channel(name)?;
    summary_of(node, row)
}
