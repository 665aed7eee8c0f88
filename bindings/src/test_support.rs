//! Set-ups several binding tests share.

use crate::PollenNode;
use std::sync::Arc;

/// Ana and Chen, each a fresh node under `root`, Chen in Ana's contacts,
/// and Ana's chat with Chen (its conversation id).
pub(crate) fn ana_and_chen_in_a_chat(
    root: &std::path::Path,
) -> (Arc<PollenNode>, Arc<PollenNode>, String) {
    let at = |n: &str| root.join(n).to_string_lossy().into_owned();
    let ana = PollenNode::create(at("ana"), "Ana".into()).unwrap();
    let chen = PollenNode::create(at("chen"), "Chen".into()).unwrap();
    ana.add_contact_from_input(chen.card().unwrap(), None)
        .unwrap();
    let chat = ana.open_chat_with_contact("Chen".into()).unwrap();
    (ana, chen, chat.conversation_id)
}
