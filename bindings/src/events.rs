//! Events for the app: the host's own events (neighbours), and the node's
//! events (messages, deliveries, conversations, key changes) turned into
//! listener calls; all delivered in order on the `pollen-events` thread.

use crate::callbacks::{CallbackError, PollenListener};
use crate::records::{
    ConversationInfo, KeyChangeInfo, LinkKind, MessageInfo, MessageStatus, NeighbourInfo,
};
use pollen_node::conversation::MessageId;
use pollen_node::node::{ConversationId, Node, NodeError, NodeEvent};
use pollen_runtime::host::{Core, HostEvent, NeighbourKind, lock};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

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

/// Turns what the node learned ([`NodeEvent`]s, raised where ingest,
/// sending and contact handling learn it) into listener calls, reading only
/// the rows the events name.
pub(crate) struct Observer;

impl Observer {
    /// Runs on the host thread: after each wake-up it drains the node's
    /// events. Wake-ups that come while it works fold into one.
    pub fn spawn(core: &Core, sink: EventSink) {
        let node = core.node.clone();
        let view = core.view.clone();
        node.borrow().watch_events(true);
        tokio::task::spawn_local(async move {
            loop {
                let result = {
                    let node = node.borrow();
                    let learned = node.take_events();
                    translate(&node, learned)
                };
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
}

/// Own messages a reader's marker moved over that now show as read (the
/// newest 200 at most: older ones scrolled out of any screen).
fn newly_read(
    node: &Node,
    conversation: &ConversationId,
    after: u64,
    up_to: u64,
) -> Result<Vec<Event>, NodeError> {
    let me = node.public().signing;
    let before = Some((up_to.saturating_add(1), MessageId([0u8; 16])));
    let rows = node
        .store()
        .messages(Some(conversation), &me, 200, before)?;
    Ok(rows
        .into_iter()
        .take_while(|m| m.sent_at > after)
        .filter(|m| m.author == me && m.status == "read")
        .map(|m| Event::StatusChanged {
            conversation_id: conversation.to_hex(),
            message_id: hex::encode(m.id),
            status: MessageStatus::Read,
        })
        .collect())
}

/// Listener calls for what the node learned, in order; each conversation
/// that changed is announced once, after its messages, in list order.
pub(crate) fn translate(node: &Node, learned: Vec<NodeEvent>) -> Result<Vec<Event>, NodeError> {
    let me = node.public().signing;
    let mut out = Vec::new();
    let mut changed: Vec<ConversationId> = Vec::new();
    let mut touch = |c: ConversationId| {
        if !changed.contains(&c) {
            changed.push(c);
        }
    };
    for e in learned {
        match e {
            NodeEvent::MessageAdded {
                conversation,
                message,
                own,
            } => {
                if !own && let Some(row) = node.message(&conversation, &message)? {
                    out.push(Event::NewMessage(MessageInfo::from_row(row, &me)));
                }
                touch(conversation);
            }
            NodeEvent::MessageChanged { conversation, .. }
            | NodeEvent::Carried { conversation, .. } => touch(conversation),
            NodeEvent::Delivered {
                conversation,
                message,
            } => {
                out.push(Event::StatusChanged {
                    conversation_id: conversation.to_hex(),
                    message_id: message.to_hex(),
                    status: MessageStatus::Delivered,
                });
                touch(conversation);
            }
            NodeEvent::Read {
                conversation,
                after,
                up_to,
            } => {
                out.extend(newly_read(node, &conversation, after, up_to)?);
                touch(conversation);
            }
            NodeEvent::ConversationChanged { conversation } => touch(conversation),
            NodeEvent::KeyChanged { alias } => {
                let newest = node
                    .key_changes()?
                    .into_iter()
                    .filter(|k| k.alias == alias)
                    .max_by_key(|k| k.seen_at);
                if let Some(k) = newest {
                    out.push(Event::KeyChanged(k.into()));
                }
            }
            NodeEvent::StoragePressure {
                used_bytes,
                cap_bytes,
            } => tracing::warn!(used_bytes, cap_bytes, "storage is nearly full"),
            // A document belongs to the conversations it is shared into:
            // their screens reload (the board of a chat, its list).
            NodeEvent::DocChanged { doc } | NodeEvent::DocRefused { doc, .. } => {
                for c in node.store().doc_audiences(&doc)? {
                    touch(c);
                }
            }
        }
    }
    let mut rows = Vec::new();
    for c in changed {
        if let Some(row) = node.conversation(&c)? {
            rows.push(ConversationInfo::from(row));
        }
    }
    // Most recent first, as the list shows them.
    rows.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
    out.extend(rows.into_iter().map(Event::ConversationChanged));
    Ok(out)
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
        // Carol's proof leaves at once, not with its batch.
        c.set_receipts(pollen_node::receipts::Receipts::Immediate)
            .expect("receipts");
        a.watch_events(true);
        c.watch_events(true);
        let at_a = || translate(&a, a.take_events());
        let at_c = || translate(&c, c.take_events());
        assert!(at_a().expect("nothing yet").is_empty());
        assert!(at_c().expect("nothing yet").is_empty());

        // An own send changes the conversation but is not a "new message".
        let sent = a.send_direct("carol", "hello").expect("send");
        let events = at_a().expect("refresh");
        assert_eq!(kinds(&events), vec!["conversation"]);

        // The envelope reaches carol by bundle: one new message, then nothing more.
        let bundle = tmp.path().join("b.pollen");
        a.export_bundle(&bundle).expect("export");
        c.import_bundle(&bundle, &mut |_| {}).expect("import");
        let events = at_c().expect("refresh");
        assert_eq!(kinds(&events), vec!["new", "conversation"]);
        let Event::NewMessage(msg) = &events[0] else {
            unreachable!("checked above")
        };
        assert_eq!(msg.id, sent.message.to_hex());
        assert_eq!(
            (msg.text.as_str(), msg.sender_name.as_str()),
            ("hello", "alice")
        );
        assert!(at_c().expect("refresh").is_empty());

        // Carol's delivery proof comes back: alice's message is delivered.
        let back = tmp.path().join("back.pollen");
        c.export_bundle(&back).expect("export");
        a.import_bundle(&back, &mut |_| {}).expect("import");
        let events = at_a().expect("refresh");
        assert!(
            events.iter().any(|e| matches!(e, Event::StatusChanged { status: MessageStatus::Delivered, message_id, .. } if *message_id == sent.message.to_hex())),
            "{events:?}"
        );

        // A card with other keys under a pinned alias: one key-change event.
        assert!(a.add_contact(&m.card(), Some("carol")).is_err());
        let events = at_a().expect("refresh");
        assert_eq!(kinds(&events), vec!["key"]);
    }
}
