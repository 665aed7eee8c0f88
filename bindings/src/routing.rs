//! The user's routing switch: encounter routing (`docs/ROUTING.md`,
//! *Encounter routing*; what it tells whom: `docs/THREAT_MODEL.md`).

use crate::PollenNode;
use crate::error::PollenError;
use pollen_runtime::host::Core;

#[uniffi::export]
impl PollenNode {
    /// Turns encounter routing on or off, kept across restarts. On (the
    /// default), the phone tells neighbours, inside encrypted sessions and as
    /// keys that change every day, whom it met today, and hands its
    /// carriers' copies to neighbours likelier to meet the recipient. Off, it
    /// tells nothing, forgets what it learned, and routes blind; it still
    /// carries for others.
    pub fn set_encounter_routing(&self, on: bool) -> Result<(), PollenError> {
        self.on_host(move |core: &mut Core| Ok(core.node.borrow_mut().set_encounter_routing(on)?))
    }

    /// Whether encounter routing is on.
    pub fn encounter_routing(&self) -> Result<bool, PollenError> {
        self.read(|n| Ok(n.encounter_routing()))
    }
}
