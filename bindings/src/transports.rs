//! The transports the user allows (`pollen_app::transports`): kept by the
//! core, honoured by `start` and `set_ble_radio`, and applied at once to a
//! running node.

use crate::PollenNode;
use crate::error::PollenError;
use pollen_app::transports::{self, Transports};
use pollen_runtime::host::Core;

/// Which transports the user allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TransportsInfo {
    /// Bluetooth LE, phone to phone.
    pub bluetooth: bool,
    /// Local Wi-Fi: mDNS or Bonjour discovery, then TCP.
    pub wifi: bool,
}

impl From<Transports> for TransportsInfo {
    fn from(t: Transports) -> Self {
        TransportsInfo {
            bluetooth: t.bluetooth,
            wifi: t.wifi,
        }
    }
}

impl From<TransportsInfo> for Transports {
    fn from(t: TransportsInfo) -> Self {
        Transports {
            bluetooth: t.bluetooth,
            wifi: t.wifi,
        }
    }
}

impl PollenNode {
    /// The transports allowed, read on the host thread.
    pub(crate) async fn allowed(&self) -> Result<TransportsInfo, PollenError> {
        self.on_host_async(
            |core: &mut Core| Ok(transports::transports(&core.node.borrow())?.into()),
        )
        .await
    }
}

#[uniffi::export]
impl PollenNode {
    /// The transports allowed (both until the user switches one off).
    pub async fn transports(&self) -> Result<TransportsInfo, PollenError> {
        self.allowed().await
    }

    /// Saves which transports are allowed and applies it now: Bluetooth off
    /// stops BLE on the node (the app then stops its radio; `set_ble_radio`
    /// refuses a radio until it is on again); Wi-Fi switched either way
    /// restarts a running node with the options it was started with, with
    /// or without the LAN.
    pub async fn set_transports(&self, allowed: TransportsInfo) -> Result<(), PollenError> {
        let before = self
            .on_host_async(move |core: &mut Core| {
                let n = core.node.borrow();
                let before = transports::transports(&n)?;
                transports::set_transports(&n, allowed.into())?;
                Ok(before)
            })
            .await?;
        if !allowed.bluetooth {
            self.on_host_async(|core: &mut Core| {
                core.ble
                    .set_radio(None)
                    .map_err(|detail| PollenError::Runtime { detail })
            })
            .await?;
        }
        if before.wifi != allowed.wifi
            && self.is_running()
            && let Some(options) = self.run_options()
        {
            self.stop().await?;
            self.start(options).await?;
        }
        Ok(())
    }
}
