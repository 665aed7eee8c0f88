//! The exported `PollenNode` object: each method is one job on the core thread.

use crate::adapters::{Radio, Transport};
use crate::callbacks::{BleRadio, PlatformTransport, PollenListener};
use crate::error::PollenError;
use crate::events::{self, Event, Listener, Observer};
use crate::nearby::{self, SharedNeighbourhood};
use crate::records::{
    BlePowerMode, ContactInfo, ConversationCursor, ConversationInfo, ConversationPage, ExportInfo,
    IdentityInfo, ImportInfo, KeyChangeInfo, MessageCursor, MessageInfo, MessagePage, NodeStatus,
    RunOptions, SentInfo,
};
use pollen_node::ble::LinkId;
use pollen_node::node::send::Sent;
use pollen_node::node::{ConversationId, Node, SystemClock};
use pollen_runtime::host::ble_ctl::{self, SharedRadio};
use pollen_runtime::host::platform::LinkSpec;
use pollen_runtime::host::{Core, EventSink, HostOptions, NodeHost, lock};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};

/// A Pollen node on one data directory: identity, contacts, conversations,
/// and the runtime that syncs with neighbours. Call `shutdown` when done.
#[derive(uniffi::Object)]
pub struct PollenNode {
    /// The node runtime, on its own thread.
    host: NodeHost,
    /// The app's listener, called on the events thread.
    listener: Listener,
    events_thread: Mutex<Option<JoinHandle<()>>>,
    events_id: ThreadId,
    /// Who is in reach, kept by the host's events (the Nearby screen).
    pub(crate) neighbourhood: SharedNeighbourhood,
    /// What the runtime was last started with, to restart it the same way
    /// when the allowed transports change.
    run_options: Mutex<Option<RunOptions>>,
}

/// A 16-byte id (`ConversationId`, `MessageId` or the bare bytes) from its hex form.
pub(crate) fn hex_id<T: From<[u8; 16]>>(s: &str) -> Option<T> {
    let bytes: [u8; 16] = hex::decode(s).ok()?.try_into().ok()?;
    Some(T::from(bytes))
}

pub(crate) fn sent(s: Sent) -> SentInfo {
    SentInfo {
        message_id: s.message.to_hex(),
        conversation: s.conversation,
    }
}

impl PollenNode {
    pub(crate) fn start_with(node: Node) -> Result<Arc<PollenNode>, PollenError> {
        let listener = Listener::default();
        let (tx, rx) = std::sync::mpsc::channel::<Event>();
        let events_thread = std::thread::Builder::new()
            .name("pollen-events".into())
            .spawn({
                let listener = listener.clone();
                move || events::deliver(rx, &listener)
            })
            .map_err(|e| PollenError::Runtime {
                detail: format!("cannot start a thread: {e}"),
            })?;
        let host_events = tx.clone();
        let neighbourhood = SharedNeighbourhood::default();
        let hood = neighbourhood.clone();
        let host = NodeHost::spawn(node, move || -> EventSink {
            Rc::new(move |e| {
                nearby::observe(&hood, &e);
                if let Some(e) = Event::from_host(e) {
                    let _ = host_events.send(e);
                }
            })
        })?;
        host.post(move |core| Observer::spawn(core, tx))?;
        Ok(Arc::new(PollenNode {
            host,
            listener,
            events_id: events_thread.thread().id(),
            events_thread: Mutex::new(Some(events_thread)),
            neighbourhood,
            run_options: Mutex::new(None),
        }))
    }

    /// Runs `f` on the host thread and waits for its result.
    pub(crate) fn on_host<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        self.host.call(move |core| Ok(f(core)))?
    }

    /// Runs `f` on the host thread; resolves with its result.
    pub(crate) async fn on_host_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        self.host.call_async(move |core| Ok(f(core))).await?
    }

    /// Runs `f` on the host thread without waiting (platform callbacks).
    fn post(&self, f: impl FnOnce(&mut Core) + Send + 'static) -> Result<(), PollenError> {
        Ok(self.host.post(f)?)
    }

    /// A read on the node.
    pub(crate) fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Node) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        self.on_host(move |core: &mut Core| f(&core.node.borrow()))
    }

    /// A write: the observer and the neighbours hear of it.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Node) -> Result<T, PollenError> + Send + 'static,
    ) -> Result<T, PollenError> {
        self.on_host(move |core: &mut Core| {
            let result = f(&core.node.borrow());
            core.wrote();
            result
        })
    }
}

#[uniffi::export]
impl PollenNode {
    /// Creates a new identity named `name` in `data_dir` (created if needed).
    #[uniffi::constructor]
    pub fn create(data_dir: String, name: String) -> Result<Arc<PollenNode>, PollenError> {
        let node = Node::init(Path::new(&data_dir), &name, Box::new(SystemClock))?;
        Self::start_with(node)
    }

    /// Opens the identity and store in `data_dir`.
    #[uniffi::constructor]
    pub fn open(data_dir: String) -> Result<Arc<PollenNode>, PollenError> {
        let node = Node::open(Path::new(&data_dir), Box::new(SystemClock))?;
        Self::start_with(node)
    }

    /// Who this node is.
    pub fn identity(&self) -> Result<IdentityInfo, PollenError> {
        self.read(|n| {
            Ok(IdentityInfo {
                name: n.identity().name().to_owned(),
                fingerprint: n.fingerprint().to_hex(),
                card: n.card(),
            })
        })
    }

    /// This node's contact card (`pollen1…`).
    pub fn card(&self) -> Result<String, PollenError> {
        self.read(|n| Ok(n.card()))
    }

    /// Pins the contact on `card` under `alias` (default: the card's name).
    pub fn add_contact(
        &self,
        card: String,
        alias: Option<String>,
    ) -> Result<ContactInfo, PollenError> {
        self.write(move |n| Ok(n.add_contact(&card, alias.as_deref())?.into()))
    }

    /// Every pinned contact.
    pub fn contacts(&self) -> Result<Vec<ContactInfo>, PollenError> {
        self.read(|n| Ok(n.contacts()?.into_iter().map(Into::into).collect()))
    }

    /// The safety number to compare with `alias` in person.
    pub fn safety_number(&self, alias: String) -> Result<String, PollenError> {
        self.read(move |n| Ok(n.safety_number(&alias)?))
    }

    /// Records that the safety number was compared in person.
    pub fn mark_verified(&self, alias: String) -> Result<ContactInfo, PollenError> {
        self.write(move |n| Ok(n.mark_verified(&alias)?.into()))
    }

    /// Unpins a contact; the conversation stays.
    pub fn remove_contact(&self, alias: String) -> Result<(), PollenError> {
        self.write(move |n| Ok(n.remove_contact(&alias)?))
    }

    /// Refused key changes, newest first.
    pub fn key_changes(&self) -> Result<Vec<KeyChangeInfo>, PollenError> {
        self.read(|n| Ok(n.key_changes()?.into_iter().map(Into::into).collect()))
    }

    /// Sends a text to a conversation by name (alias, group or `#channel`).
    pub fn send(&self, conversation: String, text: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.send(&conversation, &text)?)))
    }

    /// Sends a text into the conversation with this id (hex), never
    /// ambiguous: the chat screen's send.
    pub fn send_in(&self, conversation_id: String, text: String) -> Result<SentInfo, PollenError> {
        let id = hex_id(&conversation_id).ok_or(PollenError::UnknownConversation {
            name: conversation_id.clone(),
        })?;
        self.write(move |n| Ok(sent(n.send_in(&ConversationId(id), &text)?)))
    }

    /// Sends a direct message to the contact with this alias.
    pub fn send_direct(&self, alias: String, text: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.send_direct(&alias, &text)?)))
    }

    /// Replies to a message (id or unique hex prefix).
    pub fn reply(&self, message_id: String, text: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.reply(&message_id, &text)?)))
    }

    /// Replaces the text of one of this node's messages.
    pub fn edit(&self, message_id: String, text: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.edit(&message_id, &text)?)))
    }

    /// Reacts to a message; an empty emoji removes the reaction.
    pub fn react(&self, message_id: String, emoji: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.react(&message_id, &emoji)?)))
    }

    /// Deletes one of this node's messages.
    pub fn delete(&self, message_id: String) -> Result<SentInfo, PollenError> {
        self.write(move |n| Ok(sent(n.delete(&message_id)?)))
    }

    /// Marks a conversation read (tells the others); None if nothing was new.
    pub fn mark_read(&self, conversation: String) -> Result<Option<SentInfo>, PollenError> {
        self.write(move |n| Ok(n.mark_read(&conversation)?.map(sent)))
    }

    /// Creates a group with these contacts (by alias), this node as admin.
    pub fn create_group(
        &self,
        name: String,
        members: Vec<String>,
    ) -> Result<ConversationInfo, PollenError> {
        self.write(move |n| Ok(n.create_group(&name, &members)?.into()))
    }

    /// Removes a member from a group this node administers; returns the new epoch.
    pub fn remove_member(&self, group: String, alias: String) -> Result<u32, PollenError> {
        self.write(move |n| Ok(n.remove_member(&group, &alias)?))
    }

    /// Joins a public channel.
    pub fn join_channel(&self, name: String) -> Result<ConversationInfo, PollenError> {
        self.write(move |n| Ok(n.join_channel(&name)?.into()))
    }

    /// The conversation list, most recent first.
    pub fn conversations(&self, limit: u32) -> Result<Vec<ConversationInfo>, PollenError> {
        self.read(move |n| {
            Ok(n.conversations(limit)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// A page of the conversation list, most recent first; pass the previous
    /// page's `next` as `before` for the page after it.
    pub fn conversation_page(
        &self,
        limit: u32,
        before: Option<ConversationCursor>,
    ) -> Result<ConversationPage, PollenError> {
        let before = match before {
            None => None,
            Some(c) => Some((
                c.last_activity,
                hex_id(&c.id).ok_or(PollenError::UnknownConversation { name: c.id })?,
            )),
        };
        self.read(move |n| {
            let rows = n.conversations_page(limit, before)?;
            let full = limit > 0 && rows.len() == limit as usize;
            let conversations: Vec<ConversationInfo> =
                rows.into_iter().map(ConversationInfo::from).collect();
            let next = conversations
                .last()
                .filter(|_| full)
                .map(|c| ConversationCursor {
                    last_activity: c.last_activity,
                    id: c.id.clone(),
                });
            Ok(ConversationPage {
                conversations,
                next,
            })
        })
    }

    /// A page of messages, newest first, of one conversation or all; pass
    /// the previous page's `next` as `before` for the page after it.
    pub fn messages(
        &self,
        conversation: Option<String>,
        limit: u32,
        before: Option<MessageCursor>,
    ) -> Result<MessagePage, PollenError> {
        let before = match before {
            None => None,
            Some(c) => Some((
                c.sent_at,
                hex_id(&c.id).ok_or(PollenError::UnknownMessage { id: c.id })?,
            )),
        };
        self.read(move |node| {
            let me = node.public().signing;
            let rows = node.messages(conversation.as_deref(), limit, before)?;
            let full = limit > 0 && rows.len() == limit as usize;
            let messages: Vec<MessageInfo> = rows
                .into_iter()
                .map(|m| MessageInfo::from_row(m, &me))
                .collect();
            let next = messages.last().filter(|_| full).map(|m| MessageCursor {
                sent_at: m.sent_at,
                id: m.id.clone(),
            });
            Ok(MessagePage { messages, next })
        })
    }

    /// Figures for a status screen.
    pub fn status(&self) -> Result<NodeStatus, PollenError> {
        self.on_host(|core: &mut Core| {
            let mut status = NodeStatus::from_status(core.node.borrow().status()?);
            let f = core.figures();
            status.running = f.running;
            status.lan_address = f.lan_address;
            status.neighbours = f.neighbours;
            status.links = f.links;
            Ok(status)
        })
    }

    /// Writes what this node would give a stranger to carry to a bundle file.
    pub async fn export_bundle(&self, path: String) -> Result<ExportInfo, PollenError> {
        self.on_host_async(move |core: &mut Core| {
            Ok(core
                .node
                .borrow()
                .export_bundle(&PathBuf::from(path))?
                .into())
        })
        .await
    }

    /// Imports a bundle file (validated record by record).
    pub async fn import_bundle(&self, path: String) -> Result<ImportInfo, PollenError> {
        self.on_host_async(move |core: &mut Core| {
            let report = core
                .node
                .borrow()
                .import_bundle(&PathBuf::from(path), &mut |_| {});
            core.wrote();
            Ok(report?.into())
        })
        .await
    }

    /// Sets (or clears) the listener that receives events.
    pub fn set_listener(&self, listener: Option<Arc<dyn PollenListener>>) {
        *lock(&self.listener) = listener;
    }

    /// Sets (or clears) the platform transport for platform links.
    pub fn set_transport(&self, transport: Option<Arc<dyn PlatformTransport>>) {
        self.host
            .set_transport(transport.map(|t| Arc::new(Transport(t)) as _));
    }

    /// Starts the runtime: the LAN (if `options.lan` and Wi-Fi is allowed,
    /// see `set_transports`) with the relays saved by `set_relays`, and
    /// platform links.
    pub async fn start(&self, options: RunOptions) -> Result<(), PollenError> {
        *lock(&self.run_options) = Some(options.clone());
        let wifi = self.allowed().await?.wifi;
        let saved = self
            .on_host_async(|core: &mut Core| Ok(pollen_app::relays::relays(&core.node.borrow())?))
            .await?;
        let relays = crate::uplink::parse(&saved)?;
        let options = HostOptions {
            lan: options.lan && wifi,
            listen: options.listen,
            mdns: options.mdns && wifi,
            peers: if wifi { options.peers } else { Vec::new() },
            relays,
            max_links: None,
        };
        Ok(self.host.start(options).await?)
    }

    /// The options of the last `start`.
    pub(crate) fn run_options(&self) -> Option<RunOptions> {
        lock(&self.run_options).clone()
    }

    /// Stops the runtime; sessions get up to 5 s to commit what they received.
    pub async fn stop(&self) -> Result<(), PollenError> {
        let stopped = self.host.stop().await;
        nearby::stopped(&self.neighbourhood);
        Ok(stopped?)
    }

    /// Whether the runtime is running.
    pub fn is_running(&self) -> bool {
        self.host.is_running()
    }

    /// The platform opened a link to `peer`; `initiator` on the side that
    /// connected (BLE central); `max_write` bytes per `send` at most.
    pub fn link_up(
        &self,
        link_id: u64,
        peer: String,
        initiator: bool,
        max_write: u32,
    ) -> Result<(), PollenError> {
        Ok(self
            .host
            .link_up(LinkSpec::new(link_id, peer, initiator, max_write))?)
    }

    /// Bytes the platform read from a link, in order.
    pub fn link_received(&self, link_id: u64, bytes: Vec<u8>) -> Result<(), PollenError> {
        Ok(self.host.link_received(link_id, bytes)?)
    }

    /// The platform lost a link (unknown or already closed ids are ignored).
    pub fn link_down(&self, link_id: u64) {
        self.host.link_down(link_id);
    }

    /// Starts Bluetooth LE with this radio (a fresh advertising secret each
    /// time; an earlier radio is stopped first), or with `None` stops it:
    /// links are closed after committing what arrived, scanning and
    /// advertising stop. Independent of `start`/`stop`.
    pub fn set_ble_radio(&self, radio: Option<Arc<dyn BleRadio>>) -> Result<(), PollenError> {
        let radio = radio.map(|r| Arc::new(Radio(r)) as SharedRadio);
        self.on_host(move |core: &mut Core| {
            if radio.is_some()
                && !pollen_app::transports::transports(&core.node.borrow())?.bluetooth
            {
                return Err(PollenError::TransportOff {
                    transport: "Bluetooth".into(),
                });
            }
            core.ble
                .set_radio(radio)
                .map_err(|detail| PollenError::Runtime { detail })
        })
    }

    /// Whether a BLE radio is set.
    pub fn ble_is_on(&self) -> Result<bool, PollenError> {
        self.on_host(|core: &mut Core| Ok(core.ble.is_on()))
    }

    /// The radio heard an advertisement of the Pollen service from `handle`
    /// (malformed Pollen fields are ignored); never blocks.
    pub fn ble_advertisement(
        &self,
        handle: String,
        service_data: Option<Vec<u8>>,
        local_name: Option<String>,
    ) -> Result<(), PollenError> {
        self.post(move |core: &mut Core| core.ble.advertisement(handle, service_data, local_name))
    }

    /// A BLE link is up: as central (`central`) after the MTU exchange and the
    /// subscription, as peripheral when the central subscribed; never blocks.
    pub fn ble_link_up(
        &self,
        link_id: u64,
        handle: String,
        central: bool,
        att_mtu: u16,
    ) -> Result<(), PollenError> {
        ble_ctl::check_link_up(att_mtu)?;
        self.post(move |core: &mut Core| {
            core.ble.link_up(LinkId(link_id), handle, central, att_mtu)
        })
    }

    /// A `BleRadio::connect` failed before a link came up; never blocks.
    pub fn ble_connect_failed(&self, handle: String) -> Result<(), PollenError> {
        self.post(move |core: &mut Core| core.ble.connect_failed(handle))
    }

    /// A GATT value arrived on a BLE link (values for unknown links are
    /// ignored); never blocks.
    pub fn ble_received(&self, link_id: u64, value: Vec<u8>) -> Result<(), PollenError> {
        ble_ctl::check_value(&value)?;
        self.post(move |core: &mut Core| core.ble.received(LinkId(link_id), value))
    }

    /// `sent` values handed to `BleRadio::send` on this link went out;
    /// never blocks.
    pub fn ble_ready(&self, link_id: u64, sent: u32) -> Result<(), PollenError> {
        self.post(move |core: &mut Core| core.ble.ready(LinkId(link_id), sent))
    }

    /// A BLE link is gone (unknown ids are ignored); never blocks.
    pub fn ble_link_down(&self, link_id: u64) -> Result<(), PollenError> {
        self.post(move |core: &mut Core| core.ble.link_down(LinkId(link_id)))
    }

    /// Switches BLE's duty cycle (kept for the next radio while BLE is off);
    /// never blocks.
    pub fn ble_set_power(&self, mode: BlePowerMode) -> Result<(), PollenError> {
        self.post(move |core: &mut Core| core.ble.set_power(mode.into()))
    }

    /// Stops the runtime and the node's threads; later calls fail with
    /// `ShutDown`. (Not `close`, which Kotlin's `AutoCloseable` owns.)
    pub fn shutdown(&self) {
        // A listener may shut its node down: then nothing waits for itself.
        let here = std::thread::current().id();
        self.host.shutdown(here != self.events_id);
        if here == self.events_id {
            return;
        }
        if let Some(t) = lock(&self.events_thread).take()
            && t.join().is_err()
        {
            tracing::error!("the pollen events thread panicked");
        }
    }
}

impl Drop for PollenNode {
    fn drop(&mut self) {
        self.host.shutdown(false);
    }
}

impl PollenNode {
    /// The host, for the exported methods in other modules (`discovery`).
    pub(crate) fn host(&self) -> &NodeHost {
        &self.host
    }
}
