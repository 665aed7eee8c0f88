//! Events for the app: the host's own events (neighbours), and the observer,
//! which compares what the UI shows (conversation list, newest messages, key
//! changes) before and after each change of the store and turns the
//! differences into listener calls; all delivered in order on the
//! `pollen-events` thread.

use crate::callbacks::{CallbackError, PollenListener};
use crate::records::{
    ConversationInfo, KeyChangeInfo, LinkKind, MessageInfo, MessageStatus, NeighbourInfo,
};
use pollen_node::node::{Node, NodeError};
use pollen_runtime::host::{Core, HostEvent, NeighbourKind, lock};
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

/// Newest messages (all conversations) the observer compares. A message
/// arriving with an older send time than all of these is not announced as
/// new, only through its conversation's change.
const WINDOW: u32 = 500;

/// One listener call.
#[derive(Debug)]
pub(crate) enum Event {
    /// `on_new_message`.
    NewMessage(MessageInfo),
    /// `on_message_status_changed`.
    StatusChanged {
        conversation_id: String,
        message_id: String,
        status: MessageStatus,
    },
    /// `on_conversation_changed`.
    ConversationChanged(ConversationInfo),
    /// `on_neighbour_appeared`.
    NeighbourAppeared(NeighbourInfo),
    /// `on_neighbour_left`.
    NeighbourLeft(NeighbourInfo),
    /// `on_key_changed`.
    KeyChanged(KeyChangeInfo),
}

/// Where the host thread puts events.
pub(crate) type EventSink = std::sync::mpsc::Sender<Event>;

/// The app's listener, set from any thread.
pub(crate) type Listener = Arc<Mutex<Option<Arc<dyn PollenListener>>>>;

impl Event {
    /// The listener call for a host event, if the app has one for it.
    pub(crate) fn from_host(e: HostEvent) -> Option<Event> {
        let kind = |k: NeighbourKind| match k {
            NeighbourKind::Lan => LinkKind::Lan,
            NeighbourKind::Platform => LinkKind::Platform,
            NeighbourKind::Ble => LinkKind::Ble,
        };
        match e {
            HostEvent::NeighbourAppeared { id, kind: k } => {
                Some(Event::NeighbourAppeared(NeighbourInfo {
                    id,
                    kind: kind(k),
                }))
            }
            HostEvent::NeighbourLeft { id, kind: k } => {
                Some(Event::NeighbourLeft(NeighbourInfo { id, kind: kind(k) }))
            }
            // Sessions show through what they changed (the observer) and
            // through `status()`.
            HostEvent::Session { .. } | HostEvent::LanStatus(_) => None,
        }
    }
}

/// The `pollen-events` thread: calls the listener for each event until the
/// host thread is gone. A failing or panicking listener is logged and skipped.
pub(crate) fn deliver(events: std::sync::mpsc::Receiver<Event>, listener: &Listener) {
    for event in events {
        let Some(listener) = lock(listener).clone() else {
            continue;
        };
        match catch_unwind(AssertUnwindSafe(|| dispatch(&listener, event))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "listener failed"),
            Err(_) => tracing::error!("listener panicked"),
        }
    }
}

fn dispatch(l: &Arc<dyn PollenListener>, event: Event) -> Result<(), CallbackError> {
    match event {
        Event::NewMessage(m) => l.on_new_message(m),
        Event::StatusChanged {
            conversation_id,
            message_id,
            status,
        } => l.on_message_status_changed(conversation_id, message_id, status),
        Event::ConversationChanged(c) => l.on_conversation_changed(c),
        Event::NeighbourAppeared(n) => l.on_neighbour_appeared(n),
        Event::NeighbourLeft(n) => l.on_neighbour_left(n),
        Event::KeyChanged(k) => l.on_key_changed(k),
    }
}

/// What the UI last saw.
#[derive(Default)]
pub(crate) struct Observer {
    primed: bool,
    conversations: HashMap<String, ConversationInfo>,
    messages: HashMap<String, MessageInfo>,
    key_changes: usize,
}

impl Observer {
    /// Runs the observer on the host thread: after each wake-up it compares
    /// and emits. Wake-ups that come while it works fold into one.
    pub fn spawn(core: &Core, sink: EventSink) {
        let node = core.node.clone();
        let view = core.view.clone();
        let me = node.borrow().public().signing;
        tokio::task::spawn_local(async move {
            let mut observer = Observer::default();
            loop {
                let result = observer.refresh(&node.borrow(), &me);
                match result {
                    Ok(events) => {
                        for e in events {
                            if sink.send(e).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the store for events"),
                }
                view.notified().await;
            }
        });
    }

    /// Reads the store and returns what changed since the last call (nothing
    /// on the first call: that is the baseline).
    pub fn refresh(&mut self, node: &Node, me: &[u8; 32]) -> Result<Vec<Event>, NodeError> {
        let conversations: Vec<ConversationInfo> = node
            .conversations(WINDOW)?
            .into_iter()
            .map(ConversationInfo::from)
            .collect();
        let messages: Vec<MessageInfo> = node
            .messages(None, WINDOW, None)?
            .into_iter()
            .map(|m| MessageInfo::from_row(m, me))
            .collect();
        let key_changes = node.key_changes()?;
        let mut out = Vec::new();
        if self.primed {
            let mut changed: HashSet<String> = HashSet::new();
            for c in &conversations {
                if self.conversations.get(&c.id) != Some(c) {
                    changed.insert(c.id.clone());
                }
            }
            for m in &messages {
                match self.messages.get(&m.id) {
                    None if !m.outgoing => out.push(Event::NewMessage(m.clone())),
                    None => {
                        changed.insert(m.conversation_id.clone());
                    }
                    Some(old) => {
                        if old.status != m.status {
                            out.push(Event::StatusChanged {
                                conversation_id: m.conversation_id.clone(),
                                message_id: m.id.clone(),
                                status: m.status,
                            });
                        }
                        let content = |x: &MessageInfo| {
                            (x.text.clone(), x.edited_at, x.deleted, x.reactions.clone())
                        };
                        if content(old) != content(m) {
                            changed.insert(m.conversation_id.clone());
                        }
                    }
                }
            }
            // List order: most recent first, as the UI shows it.
            for c in &conversations {
                if changed.contains(&c.id) {
                    out.push(Event::ConversationChanged(c.clone()));
                }
            }
            let new_changes = key_changes.len().saturating_sub(self.key_changes);
            for k in key_changes.iter().take(new_changes).rev() {
                out.push(Event::KeyChanged(k.clone().into()));
            }
        }
        self.primed = true;
        self.key_changes = key_changes.len();
        self.conversations = conversations
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        self.messages = messages.into_iter().map(|m| (m.id.clone(), m)).collect();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_node::node::SystemClock;
    use std::path::Path;

    fn node(dir: &Path, name: &str) -> Node {
        Node::init(&dir.join(name), name, Box::new(SystemClock)).expect("init")
    }

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| match e {
                Event::NewMessage(_) => "new",
                Event::StatusChanged { .. } => "status",
                Event::ConversationChanged(_) => "conversation",
                Event::NeighbourAppeared(_) => "appeared",
                Event::NeighbourLeft(_) => "left",
                Event::KeyChanged(_) => "key",
            })
            .collect()
    }

    #[test]
    fn arrivals_own_writes_and_key_changes_become_events() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = node(tmp.path(), "alice");
        let c = node(tmp.path(), "carol");
        let m = node(tmp.path(), "mallory");
        a.add_contact(&c.card(), Some("carol")).expect("pin carol");
        c.add_contact(&a.card(), Some("alice")).expect("pin alice");
        let me_a = a.public().signing;
        let me_c = c.public().signing;
        let mut at_a = Observer::default();
        let mut at_c = Observer::default();
        assert!(at_a.refresh(&a, &me_a).expect("baseline").is_empty());
        assert!(at_c.refresh(&c, &me_c).expect("baseline").is_empty());

        // An own send changes the conversation but is not a "new message".
        let sent = a.send_direct("carol", "hello").expect("send");
        let events = at_a.refresh(&a, &me_a).expect("refresh");
        assert_eq!(kinds(&events), vec!["conversation"]);

        // The envelope reaches carol by bundle: one new message, then nothing more.
        let bundle = tmp.path().join("b.pollen");
        a.export_bundle(&bundle).expect("export");
        c.import_bundle(&bundle, &mut |_| {}).expect("import");
        let events = at_c.refresh(&c, &me_c).expect("refresh");
        assert_eq!(kinds(&events), vec!["new", "conversation"]);
        let Event::NewMessage(msg) = &events[0] else {
            unreachable!("checked above")
        };
        assert_eq!(msg.id, sent.message.to_hex());
        assert_eq!(
            (msg.text.as_str(), msg.sender_name.as_str()),
            ("hello", "alice")
        );
        assert!(at_c.refresh(&c, &me_c).expect("refresh").is_empty());

        // Carol's delivery proof comes back: alice's message is delivered.
        let back = tmp.path().join("back.pollen");
        c.export_bundle(&back).expect("export");
        a.import_bundle(&back, &mut |_| {}).expect("import");
        let events = at_a.refresh(&a, &me_a).expect("refresh");
        assert!(
            events.iter().any(|e| matches!(e, Event::StatusChanged { status: MessageStatus::Delivered, message_id, .. } if *message_id == sent.message.to_hex())),
            "{events:?}"
        );

        // A card with other keys under a pinned alias: one key-change event.
        assert!(a.add_contact(&m.card(), Some("carol")).is_err());
        let events = at_a.refresh(&a, &me_a).expect("refresh");
        assert_eq!(kinds(&events), vec!["key"]);
    }
}
