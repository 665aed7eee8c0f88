//! BLE on desktops: `pollen run --ble` (the btleplug central next to the
//! LAN mesh) and `pollen ble scan`. Built with the `ble` feature
//! (`cargo build -p pollen-cli --features ble`; on Linux it needs
//! libdbus-1-dev and pkg-config); without it both say so and exit.

use crate::CliError;
use pollen_runtime::host::ble_ctl::BleCtl;
use std::future::Future;
use std::rc::Rc;

/// The radio `pollen run --ble` drives.
#[cfg(feature = "ble")]
pub use pollen_runtime::ble::Adapter as Radio;

/// The radio `pollen run --ble` drives (none in this build).
#[cfg(not(feature = "ble"))]
pub enum Radio {}

#[cfg(not(feature = "ble"))]
const NO_BLE: &str =
    "this pollen was built without BLE support; rebuild with `--features ble` (pollen-cli)";

/// Opens the first Bluetooth adapter, or says clearly why there is none.
pub async fn open() -> Result<Radio, CliError> {
    #[cfg(feature = "ble")]
    {
        let (adapter, info) = pollen_runtime::ble::adapter()
            .await
            .map_err(|e| CliError::Other(format!("BLE: {e}")))?;
        tracing::info!(adapter = %info, "BLE adapter");
        Ok(adapter)
    }
    #[cfg(not(feature = "ble"))]
    Err(CliError::Other(NO_BLE.into()))
}

/// Runs the BLE central on `radio` as the radio of the host's BLE driver
/// (the phones' driver) until `stop`.
pub async fn run(
    radio: Radio,
    ble: Rc<BleCtl>,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    #[cfg(feature = "ble")]
    {
        pollen_runtime::ble::run_ble(radio, ble, stop)
            .await
            .map_err(|e| CliError::Other(format!("BLE: {e}")))
    }
    #[cfg(not(feature = "ble"))]
    {
        let _ = (ble, stop);
        match radio {}
    }
}

/// `pollen ble scan`: lists what the adapter hears for `seconds`.
pub fn scan(seconds: u64, json: bool) -> Result<(), CliError> {
    #[cfg(feature = "ble")]
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::Other(format!("cannot start the runtime: {e}")))?;
        rt.block_on(async {
            let (adapter, info) = pollen_runtime::ble::adapter()
                .await
                .map_err(|e| CliError::Other(format!("BLE: {e}")))?;
            let seen = pollen_runtime::ble::scan(&adapter, std::time::Duration::from_secs(seconds))
                .await
                .map_err(|e| CliError::Other(format!("BLE: {e}")))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "adapter": info, "devices": seen })
                );
            } else {
                println!("adapter: {info}");
                for d in &seen {
                    let what = match (&d.advert_id, d.pollen) {
                        (Some(id), _) => format!("Pollen node {id}"),
                        (None, true) => "Pollen node (no identifier)".to_owned(),
                        (None, false) => "other device".to_owned(),
                    };
                    println!("{}  {what}  rssi {:?}", d.handle, d.rssi);
                }
            }
            Ok(())
        })
    }
    #[cfg(not(feature = "ble"))]
    {
        let _ = (seconds, json);
        Err(CliError::Other(NO_BLE.into()))
    }
}
