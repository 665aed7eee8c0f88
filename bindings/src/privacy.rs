//! Screen privacy (`pollen_app::privacy`): the user's switch, kept by the
//! core; the apps set `FLAG_SECURE` or cover the window by it.

use crate::PollenNode;
use crate::error::PollenError;
use pollen_app::privacy;
use pollen_runtime::host::Core;

#[uniffi::export]
impl PollenNode {
    /// Keeps the screens out of screenshots and the app switcher (`true`,
    /// the default) or lets the system show them; kept across restarts.
    pub fn set_screen_private(&self, on: bool) -> Result<(), PollenError> {
        self.on_host(move |core: &mut Core| {
            Ok(privacy::set_screen_private(&core.node.borrow(), on)?)
        })
    }

    /// Whether the screens are kept private.
    pub fn screen_private(&self) -> Result<bool, PollenError> {
        self.read(|n| Ok(privacy::screen_private(n)?))
    }
}
