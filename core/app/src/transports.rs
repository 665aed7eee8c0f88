//! Which transports the user allows: Bluetooth and local Wi-Fi, each on by
//! default. The choice lives in the node's `meta` table (`app.transports`),
//! so it survives restarts; the runtime starts only the allowed ones and the
//! apps keep their radios off for a transport switched off.

use crate::AppError;
use pollen_node::Node;

const KEY: &str = "app.transports";
const BLUETOOTH: u8 = 1;
const WIFI: u8 = 2;

/// The transports the user allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transports {
    /// Bluetooth LE (phone to phone).
    pub bluetooth: bool,
    /// Local Wi-Fi (mDNS or Bonjour, then TCP).
    pub wifi: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            bluetooth: true,
            wifi: true,
        }
    }
}

/// The transports allowed now (both, until the user switches one off).
pub fn transports(node: &Node) -> Result<Transports, AppError> {
    Ok(match node.store().meta(KEY)?.as_deref() {
        Some([bits]) => Transports {
            bluetooth: bits & BLUETOOTH != 0,
            wifi: bits & WIFI != 0,
        },
        // Unset, or written by a later version in a form this one does not
        // know: every transport on, as a new phone has.
        _ => Transports::default(),
    })
}

/// Saves the transports allowed.
pub fn set_transports(node: &Node, t: Transports) -> Result<(), AppError> {
    let bits = if t.bluetooth { BLUETOOTH } else { 0 } | if t.wifi { WIFI } else { 0 };
    node.store().set_meta(KEY, &[bits])?;
    Ok(())
}
