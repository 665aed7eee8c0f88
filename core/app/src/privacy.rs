//! Screen privacy: whether the apps keep Pollen's screens out of
//! screenshots, screen recordings and the app switcher's thumbnails
//! (Android's `FLAG_SECURE`; iOS covers the window when the app leaves the
//! front). On until the user turns it off: a seized or borrowed phone should
//! not show chats in its task switcher. Kept in the node's `meta` table
//! (`app.screen_private`).

use crate::AppError;
use pollen_node::Node;

const KEY: &str = "app.screen_private";

/// Whether the screens are kept private (on unless switched off).
pub fn screen_private(node: &Node) -> Result<bool, AppError> {
    Ok(node.store().meta(KEY)?.as_deref() != Some(&[0u8][..]))
}

/// Keeps the screens private (`true`) or lets the system show them.
pub fn set_screen_private(node: &Node, on: bool) -> Result<(), AppError> {
    node.store().set_meta(KEY, &[u8::from(on)])?;
    Ok(())
}
