//! The Settings screen in one read: every switch and list the core keeps
//! for the user, so an app draws them from one record instead of asking
//! for each (and never holds a copy that could disagree with the core).

use crate::PollenNode;
use crate::blocks::{BlockedInfo, blocked};
use crate::error::PollenError;
use crate::privacy::DeliveryReceipts;
use crate::transports::TransportsInfo;

/// What the Settings screen shows, as the core holds it now.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SettingsInfo {
    /// The transports the user allows.
    pub transports: TransportsInfo,
    /// Whether encounter routing is on.
    pub encounter_routing: bool,
    /// Whether the screens are kept out of screenshots and the app switcher.
    pub screen_private: bool,
    /// How delivery receipts leave this phone.
    pub delivery_receipts: DeliveryReceipts,
    /// Whether reading a chat tells the others.
    pub read_receipts: bool,
    /// The relays saved, in order.
    pub relays: Vec<String>,
    /// Everyone blocked.
    pub blocked: Vec<BlockedInfo>,
}

#[uniffi::export]
impl PollenNode {
    /// Every setting the Settings screen shows, read at once.
    pub fn settings(&self) -> Result<SettingsInfo, PollenError> {
        self.read(|n| {
            Ok(SettingsInfo {
                transports: pollen_app::transports::transports(n)?.into(),
                encounter_routing: n.encounter_routing(),
                screen_private: pollen_app::privacy::screen_private(n)?,
                delivery_receipts: n.receipts()?.into(),
                read_receipts: n.read_receipts()?,
                relays: pollen_app::relays::relays(n)?,
                blocked: blocked(n)?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_record_follows_every_switch_the_user_turns() {
        let dir = tempfile::tempdir().unwrap();
        let node =
            PollenNode::create(dir.path().to_string_lossy().into_owned(), "Ann".into()).unwrap();
        let first = node.settings().unwrap();
        assert_eq!(
            first,
            SettingsInfo {
                transports: TransportsInfo {
                    bluetooth: true,
                    wifi: true
                },
                encounter_routing: true,
                screen_private: true,
                delivery_receipts: DeliveryReceipts::Batched,
                read_receipts: true,
                relays: vec![],
                blocked: vec![],
            }
        );
        node.set_encounter_routing(false).unwrap();
        node.set_screen_private(false).unwrap();
        node.set_delivery_receipts(DeliveryReceipts::Off).unwrap();
        node.set_read_receipts(false).unwrap();
        let relay = format!("pollen-relay://relay.example:7000/{}", "ab".repeat(32));
        node.add_relay(relay.clone()).unwrap();
        let key = node.block("cd".repeat(32)).unwrap();
        let now = node.settings().unwrap();
        assert_eq!(
            now,
            SettingsInfo {
                encounter_routing: false,
                screen_private: false,
                delivery_receipts: DeliveryReceipts::Off,
                read_receipts: false,
                relays: vec![relay],
                blocked: vec![BlockedInfo { key, alias: None }],
                ..first
            }
        );
        node.shutdown();
    }
}
