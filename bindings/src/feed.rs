//! The app model's feed for a phone's screens: it is the node's listener,
//! and turns the node's events into what the screens must do: reload, and
//! post the notifications new messages warrant. It holds what that decision
//! needs from the platform (the chat on screen, whether the app is in the
//! foreground), so an app only reports those and draws what comes out.
//!
//! The rules it holds, once: a notification is decided when the message
//! arrives, with the chat on screen counted only while the app is in the
//! foreground (a backgrounded chat is not being read); events that arrive
//! before the screens ask again are folded into one reload; the foreground
//! also sets the Bluetooth duty cycle (`ble_power_mode`).

use crate::app::{NotificationInfo, ble_power_mode};
use crate::callbacks::{CallbackError, PollenListener};
use crate::error::PollenError;
use crate::node::PollenNode;
use crate::records::{
    BlePowerMode, ConversationInfo, KeyChangeInfo, MessageInfo, MessageStatus, NeighbourInfo,
};
use pollen_runtime::host::lock;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;

/// The node calls the feed makes: the node itself, a recorder in the tests.
pub(crate) trait FeedNodeCalls: Send + Sync {
    fn notification(
        &self,
        conversation_id: String,
        message_id: String,
        open_chat: Option<String>,
    ) -> Result<Option<NotificationInfo>, PollenError>;
    fn set_power(&self, mode: BlePowerMode) -> Result<(), PollenError>;
}

impl FeedNodeCalls for PollenNode {
    fn notification(
        &self,
        conversation_id: String,
        message_id: String,
        open_chat: Option<String>,
    ) -> Result<Option<NotificationInfo>, PollenError> {
        self.notification_for_message(conversation_id, message_id, open_chat)
    }
    fn set_power(&self, mode: BlePowerMode) -> Result<(), PollenError> {
        self.ble_set_power(mode)
    }
}

/// What the screens do now.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct FeedUpdate {
    /// Notifications to post (or replace: one per chat), oldest first.
    pub notifications: Vec<NotificationInfo>,
}

#[derive(Default)]
struct State {
    /// Something changed since the screens last asked.
    changed: bool,
    notifications: Vec<NotificationInfo>,
    chat_on_screen: Option<String>,
    foreground: bool,
}

/// What the feed and its listener share.
struct Shared {
    node: Weak<dyn FeedNodeCalls>,
    state: Mutex<State>,
    wake: Notify,
}

impl Shared {
    fn changed(&self, notification: Option<NotificationInfo>) {
        let mut state = lock(&self.state);
        state.changed = true;
        state.notifications.extend(notification);
        drop(state);
        self.wake.notify_one();
    }

    fn new_message(&self, message: MessageInfo) {
        let open = {
            let state = lock(&self.state);
            state.chat_on_screen.clone().filter(|_| state.foreground)
        };
        let decided = match self.node.upgrade() {
            Some(node) => node.notification(message.conversation_id, message.id, open),
            None => Ok(None),
        };
        let notification = decided.unwrap_or_else(|error| {
            tracing::warn!(%error, "no notification decided for a new message");
            None
        });
        self.changed(notification);
    }
}

/// The listener the feed sets on its node (on the `pollen-events` thread).
struct FeedListener(Arc<Shared>);

impl PollenListener for FeedListener {
    fn on_new_message(&self, message: MessageInfo) -> Result<(), CallbackError> {
        self.0.new_message(message);
        Ok(())
    }
    fn on_message_status_changed(
        &self,
        _: String,
        _: String,
        _: MessageStatus,
    ) -> Result<(), CallbackError> {
        self.0.changed(None);
        Ok(())
    }
    fn on_conversation_changed(&self, _: ConversationInfo) -> Result<(), CallbackError> {
        self.0.changed(None);
        Ok(())
    }
    fn on_neighbour_appeared(&self, _: NeighbourInfo) -> Result<(), CallbackError> {
        self.0.changed(None);
        Ok(())
    }
    fn on_neighbour_left(&self, _: NeighbourInfo) -> Result<(), CallbackError> {
        self.0.changed(None);
        Ok(())
    }
    fn on_key_changed(&self, _: KeyChangeInfo) -> Result<(), CallbackError> {
        self.0.changed(None);
        Ok(())
    }
}

/// The screens' feed of one node.
#[derive(uniffi::Object)]
pub struct AppFeed(Arc<Shared>);

impl AppFeed {
    fn with(node: Weak<dyn FeedNodeCalls>) -> (Arc<AppFeed>, FeedListener) {
        let shared = Arc::new(Shared {
            node,
            state: Mutex::new(State {
                foreground: true,
                ..State::default()
            }),
            wake: Notify::new(),
        });
        (Arc::new(AppFeed(shared.clone())), FeedListener(shared))
    }
}

#[uniffi::export]
impl AppFeed {
    /// The feed of `node`, set as its listener (replacing any other). The
    /// app starts in the foreground.
    #[uniffi::constructor]
    pub fn new(node: Arc<PollenNode>) -> Arc<AppFeed> {
        let weak: Weak<PollenNode> = Arc::downgrade(&node);
        let (feed, listener) = AppFeed::with(weak);
        node.set_listener(Some(Arc::new(listener)));
        feed
    }

    /// Waits until the node reports a change, then says what the screens
    /// do: reload, and post these notifications. Changes reported while the
    /// screens were busy come as one update.
    pub async fn next(&self) -> FeedUpdate {
        loop {
            {
                let mut state = lock(&self.0.state);
                if state.changed {
                    state.changed = false;
                    return FeedUpdate {
                        notifications: std::mem::take(&mut state.notifications),
                    };
                }
            }
            self.0.wake.notified().await;
        }
    }

    /// The chat on screen (conversation id), or none: no notification is
    /// posted for it while the app is in the foreground.
    pub fn set_chat_on_screen(&self, conversation_id: Option<String>) {
        lock(&self.0.state).chat_on_screen = conversation_id;
    }

    /// The app came to the foreground or went to the background: the chat
    /// on screen counts only in the foreground, and Bluetooth's duty cycle
    /// follows (`ble_power_mode`, the battery saver stepping it down).
    pub fn set_foreground(&self, on: bool, battery_saver: bool) {
        lock(&self.0.state).foreground = on;
        let Some(node) = self.0.node.upgrade() else {
            return;
        };
        if let Err(error) = node.set_power(ble_power_mode(true, on, battery_saver)) {
            tracing::warn!(%error, "BLE power mode not set");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{ConversationKind, LinkKind};

    /// Notifies every message but those of the open chat; records power modes.
    #[derive(Default)]
    struct Node {
        modes: Mutex<Vec<BlePowerMode>>,
    }

    impl FeedNodeCalls for Node {
        fn notification(
            &self,
            conversation_id: String,
            message_id: String,
            open_chat: Option<String>,
        ) -> Result<Option<NotificationInfo>, PollenError> {
            Ok(
                (open_chat.as_ref() != Some(&conversation_id)).then(|| NotificationInfo {
                    conversation_id,
                    kind: ConversationKind::Direct,
                    title: "Ann".into(),
                    body: "hi".into(),
                    count: 1,
                    subtitle: None,
                    message_id,
                }),
            )
        }
        fn set_power(&self, mode: BlePowerMode) -> Result<(), PollenError> {
            self.modes.lock().unwrap().push(mode);
            Ok(())
        }
    }

    fn message(conversation: &str, id: &str) -> MessageInfo {
        MessageInfo {
            id: id.into(),
            conversation_id: conversation.into(),
            conversation_name: "Ann".into(),
            author_key: String::new(),
            sender_name: "Ann".into(),
            text: "hi".into(),
            sent_at: 0,
            reply_to: None,
            edited_at: None,
            deleted: false,
            reactions: vec![],
            status: MessageStatus::Received,
            hops: None,
            outgoing: false,
        }
    }

    fn feed() -> (Arc<Node>, Arc<AppFeed>, FeedListener) {
        let node = Arc::new(Node::default());
        let weak: Weak<Node> = Arc::downgrade(&node);
        let (feed, listener) = AppFeed::with(weak);
        (node, feed, listener)
    }

    fn next(feed: &AppFeed) -> FeedUpdate {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(feed.next())
    }

    fn ids(update: &FeedUpdate) -> Vec<&str> {
        update
            .notifications
            .iter()
            .map(|n| n.message_id.as_str())
            .collect()
    }

    #[test]
    fn events_before_the_screens_ask_again_are_one_update() {
        let (_node, feed, listener) = feed();
        listener.on_new_message(message("c1", "m1")).unwrap();
        let neighbour = NeighbourInfo {
            id: "n".into(),
            kind: LinkKind::Ble,
        };
        listener.on_neighbour_appeared(neighbour).unwrap();
        listener.on_new_message(message("c2", "m2")).unwrap();
        assert_eq!(ids(&next(&feed)), ["m1", "m2"]);

        listener
            .on_key_changed(KeyChangeInfo {
                alias: "Ann".into(),
                old_fingerprint: String::new(),
                new_card: String::new(),
                seen_at: 0,
            })
            .unwrap();
        assert_eq!(
            next(&feed),
            FeedUpdate::default(),
            "a reload, nothing to post"
        );
    }

    #[test]
    fn the_chat_on_screen_is_quiet_only_in_the_foreground() {
        let (node, feed, listener) = feed();
        feed.set_chat_on_screen(Some("c1".into()));
        listener.on_new_message(message("c1", "m1")).unwrap();
        assert!(next(&feed).notifications.is_empty());

        feed.set_foreground(false, false);
        listener.on_new_message(message("c1", "m2")).unwrap();
        assert_eq!(ids(&next(&feed)), ["m2"]);

        feed.set_foreground(true, true);
        feed.set_chat_on_screen(None);
        listener.on_new_message(message("c1", "m3")).unwrap();
        assert_eq!(ids(&next(&feed)), ["m3"]);
        let modes = node.modes.lock().unwrap().clone();
        assert_eq!(
            modes,
            [
                ble_power_mode(true, false, false),
                ble_power_mode(true, true, true)
            ]
        );
    }

    #[test]
    fn a_waiting_screen_wakes_on_the_next_event() {
        let (_node, feed, listener) = feed();
        let waiter = std::thread::spawn(move || next(&feed));
        std::thread::sleep(std::time::Duration::from_millis(50));
        listener.on_new_message(message("c1", "m1")).unwrap();
        assert_eq!(ids(&waiter.join().unwrap()), ["m1"]);
    }
}
