//! The internet uplink for phones: relays the runtime reaches whenever the
//! LAN is on (`set_relays`, used at the next `start`), and one session with a
//! relay now (`sync_relay`), for a background task (iOS `BGAppRefreshTask`)
//! that gets a few seconds of network and must use them.

use crate::PollenNode;
use crate::error::PollenError;
use crate::nearby;
use pollen_runtime::host::Core;
use pollen_runtime::relay::RelayAddress;
use tokio::sync::oneshot;

/// What one session with a relay did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RelaySyncInfo {
    /// Both sides finished (else `error` says why it ended early; what was
    /// committed before stands).
    pub finished: bool,
    /// Envelopes handed to the relay (this phone's and those it carried).
    pub sent: u64,
    /// Messages for this phone that came down and opened.
    pub opened: u64,
    /// This phone's messages now known delivered.
    pub delivered: u64,
    /// Why the session ended early.
    pub error: Option<String>,
}

/// Reads relay addresses; the first bad one is the error.
pub(crate) fn parse(addresses: &[String]) -> Result<Vec<RelayAddress>, PollenError> {
    addresses
        .iter()
        .map(|a| {
            a.parse()
                .map_err(
                    |e: pollen_runtime::relay::RelayAddressError| PollenError::InvalidRelay {
                        address: a.clone(),
                        why: e.to_string(),
                    },
                )
        })
        .collect()
}

#[uniffi::export]
impl PollenNode {
    /// The relays (`pollen-relay://HOST:PORT/KEY`) the runtime syncs with
    /// whenever it can reach them, from the next `start` on, kept across
    /// restarts; a bad address is refused and nothing changes. Returns what
    /// was kept (trimmed, without blanks or repeats).
    pub fn set_relays(&self, addresses: Vec<String>) -> Result<Vec<String>, PollenError> {
        parse(&addresses)?;
        self.write(move |n| Ok(pollen_app::relays::set_relays(n, &addresses)?))
    }

    /// Adds one relay after those saved (see `set_relays`), read and
    /// written in one step; a bad address is refused and nothing changes.
    /// Returns what was kept.
    pub fn add_relay(&self, address: String) -> Result<Vec<String>, PollenError> {
        parse(&[address.trim().to_owned()])?;
        self.write(move |n| Ok(pollen_app::relays::add_relay(n, &address)?))
    }

    /// The relays saved with `set_relays`.
    pub fn relays(&self) -> Result<Vec<String>, PollenError> {
        self.read(|n| Ok(pollen_app::relays::relays(n)?))
    }

    /// One session with a relay now: this phone hands over what it holds
    /// and takes its own mail. Works whether or not the runtime is started.
    pub async fn sync_relay(&self, address: String) -> Result<RelaySyncInfo, PollenError> {
        let relay = parse(std::slice::from_ref(&address))?.remove(0);
        let hood = self.neighbourhood.clone();
        let done = self
            .on_host_async(move |core: &mut Core| {
                let (tx, rx) = oneshot::channel();
                let node = core.node.clone();
                let view = core.view.clone();
                tokio::task::spawn_local(async move {
                    let outcome =
                        pollen_runtime::sync_once_with(&relay.host_port, &node, Some(relay.key))
                            .await;
                    // The observer tells the app what came down.
                    view.notify_one();
                    let _ = tx.send(outcome);
                });
                Ok(rx)
            })
            .await?;
        let outcome = done.await.map_err(|_| PollenError::ShutDown)??;
        if outcome.error.is_none() {
            nearby::reached_relay(&hood);
        }
        Ok(RelaySyncInfo {
            finished: outcome.error.is_none(),
            sent: outcome.stats.envelopes_sent,
            opened: outcome.opened,
            delivered: outcome.delivered,
            error: outcome.error.map(|e| e.to_string()),
        })
    }

    /// One session with each relay saved by `set_relays`, in turn (what a
    /// background task with a few seconds of network does): what each did,
    /// in order. A relay that cannot be reached does not stop the others;
    /// its result says why (`finished` false).
    pub async fn sync_relays(&self) -> Result<Vec<RelaySyncInfo>, PollenError> {
        let saved = self
            .on_host_async(|core: &mut Core| Ok(pollen_app::relays::relays(&core.node.borrow())?))
            .await?;
        let mut done = Vec::with_capacity(saved.len());
        for address in saved {
            done.push(match self.sync_relay(address).await {
                Ok(info) => info,
                Err(e) => RelaySyncInfo {
                    finished: false,
                    sent: 0,
                    opened: 0,
                    delivered: 0,
                    error: Some(e.to_string()),
                },
            });
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_is_added_once_and_a_bad_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_string_lossy().into_owned();
        let node = PollenNode::create(data, "Ann".into()).unwrap();
        let a = format!("pollen-relay://10.0.0.2:7000/{}", "ab".repeat(32));
        assert_eq!(node.add_relay(format!(" {a} ")).unwrap(), vec![a.clone()]);
        assert!(matches!(
            node.add_relay("relay.example:7000".into()),
            Err(PollenError::InvalidRelay { .. })
        ));
        assert_eq!(node.add_relay(a.clone()).unwrap(), vec![a.clone()]);
        assert_eq!(node.relays().unwrap(), [a]);
        node.shutdown();
    }

    #[test]
    fn every_saved_relay_gets_a_session_and_one_unreachable_does_not_stop_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_string_lossy().into_owned();
        let node = PollenNode::create(data, "Ann".into()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(node.sync_relays()).unwrap().is_empty());
        // Nothing listens on port 1 of loopback: both are refused at once.
        let key = "ab".repeat(32);
        let relays = vec![
            format!("pollen-relay://127.0.0.1:1/{key}"),
            format!("pollen-relay://127.0.0.2:1/{key}"),
        ];
        node.set_relays(relays).unwrap();
        let done = rt.block_on(node.sync_relays()).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        assert!(
            done.iter().all(|d| !d.finished && d.error.is_some()),
            "{done:?}"
        );
        node.shutdown();
    }
}
