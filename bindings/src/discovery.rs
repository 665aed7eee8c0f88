//! Peers the platform discovers itself: Bonjour (`_pollen._tcp` through
//! Network.framework's `NWBrowser`) on iOS, where raw mDNS multicast needs an
//! entitlement the app does not have. The platform names each peer (its
//! Bonjour service name); the core decides when to sync with it and asks the
//! [`PlatformTransport`](crate::PlatformTransport) for a link with
//! `connect(peer)`, which the platform answers with `link_up(.., peer,
//! initiator = true, ..)` on a connection it opened (`NWConnection`).
//! Connections the platform accepts (`NWListener`) come up with
//! `link_up(.., initiator = false, ..)`. Each link then runs one sync
//! session, like every platform link.

use crate::error::PollenError;
use crate::node::PollenNode;

#[uniffi::export]
impl PollenNode {
    /// The platform found `peer` (e.g. a Bonjour service name): the core
    /// asks for a link to it with `PlatformTransport::connect(peer)` as soon
    /// as a sync is due (at once for a new peer). Never blocks;
    /// `NotRunning` before `start`. Ignored while the user has Wi-Fi
    /// switched off (`set_transports`).
    pub fn peer_discovered(&self, peer: String) -> Result<(), PollenError> {
        if !self.host().is_running() {
            return Err(PollenError::NotRunning);
        }
        Ok(self.host().post(move |core| {
            let wifi =
                pollen_app::transports::transports(&core.node.borrow()).map_or(true, |t| t.wifi);
            if wifi {
                core.platform_peer_discovered(&peer);
            }
        })?)
    }

    /// The platform no longer sees `peer`: the core stops asking for links
    /// to it (once its live links end) and reports it gone if it was shown
    /// as a neighbour. Never blocks; ignored while the runtime is stopped.
    pub fn peer_lost(&self, peer: String) -> Result<(), PollenError> {
        Ok(self
            .host()
            .post(move |core| core.platform_peer_lost(&peer))?)
    }
}
