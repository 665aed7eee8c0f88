"""Tests of the generated Python bindings against the real core.

Run after scripts/bindings.sh:
    PYTHONPATH=target/bindings/python python3 bindings/python/tests/test_pollen.py

Three nodes in one process are linked by a loopback PlatformTransport;
messages go A -> B -> C. The BLE tests give each node a Python BleRadio on a
simulated "air" (advertisements, connections and GATT values in memory), so
the core's BLE driver decides everything as it does on phones. Events are
awaited with timeouts, never sleeps. Prints `N passed, N failed`.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback

import pollen
from pollen import (
    BleLinkPeer,
    BleLinks,
    BleStep,
    BlePowerMode,
    BleRadio,
    CallbackError,
    DeliveryReceipts,
    LinkKind,
    MessageStatus,
    PlatformTransport,
    PollenError,
    PollenListener,
    PollenNode,
    RunOptions,
)

TIMEOUT = 30.0
# A BLE link with the typical iOS MTU of 185 (182 bytes per write).
MAX_WRITE = 182
NO_LAN = RunOptions(lan=False, listen="", mdns=False, peers=[])


class Recorder(PollenListener):
    """Keeps every event; tests wait on a condition over them."""

    def __init__(self):
        self.cond = threading.Condition()
        self.events = []
        self.threads = set()

    def _add(self, *event):
        with self.cond:
            self.events.append(event)
            self.threads.add(threading.current_thread().ident)
            self.cond.notify_all()

    def on_new_message(self, message):
        self._add("new", message)

    def on_message_status_changed(self, conversation_id, message_id, status):
        self._add("status", conversation_id, message_id, status)

    def on_conversation_changed(self, conversation):
        self._add("conversation", conversation)

    def on_neighbour_appeared(self, neighbour):
        self._add("appeared", neighbour)

    def on_neighbour_left(self, neighbour):
        self._add("left", neighbour)

    def on_key_changed(self, change):
        self._add("key", change)

    def wait_for(self, what, predicate=lambda *_: True, timeout=TIMEOUT):
        """The first event of kind `what` whose fields satisfy `predicate`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e[0] == what and predicate(*e[1:]):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [e[0] for e in self.events]
                    raise AssertionError(f"no {what!r} event within {timeout}s (saw {kinds})")
                self.cond.wait(left)


class Hub:
    """Loopback links between nodes of this process, by node name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.nodes = {}
        self.transports = {}
        self.ends = {}  # link id -> (peer node, peer's link id)
        self.next_id = 1
        self.links_made = 0

    def add(self, name, node):
        self.nodes[name] = node
        self.transports[name] = LoopbackTransport(self, name)
        node.set_transport(self.transports[name])

    def connect(self, a, b):
        with self.lock:
            la, lb = self.next_id, self.next_id + 1
            self.next_id += 2
            na, nb = self.nodes[a], self.nodes[b]
            self.ends[la] = (nb, lb)
            self.ends[lb] = (na, la)
            self.links_made += 1
        nb.link_up(lb, a, False, MAX_WRITE)
        na.link_up(la, b, True, MAX_WRITE)

    def live(self):
        with self.lock:
            return len(self.ends)


class LoopbackTransport(PlatformTransport):
    """What BLE code does, in memory: bytes written on one end arrive at the other."""

    def __init__(self, hub, name):
        self.hub = hub
        self.name = name
        self.writes = []

    def send(self, link_id, data):
        if len(data) > MAX_WRITE:
            raise CallbackError.Failed(f"write of {len(data)} bytes > {MAX_WRITE}")
        self.writes.append(len(data))
        with self.hub.lock:
            end = self.hub.ends.get(link_id)
        if end is None:
            raise CallbackError.Failed(f"link {link_id} is closed")
        node, other = end
        node.link_received(other, data)

    def disconnect(self, link_id):
        with self.hub.lock:
            end = self.hub.ends.pop(link_id, None)
            if end is not None:
                self.hub.ends.pop(end[1], None)
        if end is not None:
            end[0].link_down(end[1])

    def connect(self, peer):
        if peer not in self.hub.nodes:
            raise CallbackError.Failed(f"{peer} is out of range")
        self.hub.connect(self.name, peer)


class BonjourNet(Hub):
    """What PollenKit's PollenBonjour does with Network.framework, in memory:
    each node advertises a `_pollen._tcp` service (NWListener) under a name;
    a browser (NWBrowser) tells its node `peer_discovered(service)`; when the
    core asks `connect(service)` the dialler opens a connection (NWConnection)
    and reports `link_up(.., service, initiator=True, ..)`, and the listener
    reports the accepted end as `link_up(.., "in:<n>", initiator=False, ..)`
    (an accepted connection does not tell the service name of its dialler)."""

    def __init__(self):
        super().__init__()
        self.services = {}  # service name -> node name
        self.connects = []  # (node name, service) the cores asked for

    def advertise(self, name, node, service):
        self.nodes[name] = node
        self.services[service] = name
        self.transports[name] = BonjourTransport(self, name)
        node.set_transport(self.transports[name])

    def dial(self, name, service):
        with self.lock:
            self.connects.append((name, service))
            target = self.services.get(service)
            if target is None:
                raise CallbackError.Failed(f"no service {service}")
            la, lb = self.next_id, self.next_id + 1
            self.next_id += 2
            na, nb = self.nodes[name], self.nodes[target]
            self.ends[la] = (nb, lb)
            self.ends[lb] = (na, la)
            self.links_made += 1
        nb.link_up(lb, f"in:{la}", False, MAX_WRITE)
        na.link_up(la, service, True, MAX_WRITE)


class BonjourTransport(LoopbackTransport):
    def connect(self, peer):
        if peer.startswith("in:"):
            raise CallbackError.Failed("an accepted connection cannot be dialled back")
        self.hub.dial(self.name, peer)


# A BLE link with the typical iOS MTU: 182-byte GATT values.
BLE_MTU = 185


class Air:
    """Radios in range of each other: advertisements reach scanners, connect()
    brings a link up at both ends, values sent at one end arrive at the
    other, disconnect() takes both ends down. Each radio keeps its links in a
    `BleLinks` table, as the Swift and Kotlin radios do: the table numbers
    the links, holds what the core sent until the "stack" takes it, counts
    it back for ble_ready and says when a closing link may hang up."""

    def __init__(self, in_range=None):
        self.lock = threading.Lock()
        self.radios = {}
        self.in_range = in_range  # None: everyone hears everyone
        self.connects = []  # (central handle, peripheral handle)
        self.live = {}  # frozenset of handles -> live links
        self.max_live = {}
        self.oversize = []
        self.stopped = threading.Event()
        self.beacon = threading.Thread(target=self._beacon, daemon=True)
        self.beacon.start()

    def radio(self, handle, node):
        r = AirRadio(self, handle, node)
        with self.lock:
            self.radios[handle] = r
        return r

    def hears(self, a, b):
        return a != b and (self.in_range is None or frozenset((a, b)) in self.in_range)

    def _beacon(self):
        # Advertisements ten times a second, as a scanner would report them.
        while not self.stopped.wait(0.1):
            with self.lock:
                radios = list(self.radios.values())
            for adv in radios:
                data = adv.adv
                if data is None:
                    continue
                for scanner in radios:
                    if scanner.scanning and self.hears(adv.handle, scanner.handle):
                        try:
                            scanner.node.ble_advertisement(adv.handle, data, None)
                        except PollenError:
                            pass  # that node was shut down

    def connect(self, central, handle):
        with self.lock:
            target = self.radios.get(handle)
            ok = target is not None and target.adv is not None and self.hears(central.handle, handle)
        # Each end numbers the link in its own table; iOS reports the value
        # length (MAX_WRITE), the table adds the ATT header.
        mine = central.links.up(handle, True, MAX_WRITE) if ok else None
        theirs = target.links.up(central.handle, False, MAX_WRITE) if mine else None
        if theirs is None:
            if mine is not None:
                central.links.gone(mine.link_id)
            central.node.ble_connect_failed(handle)
            return
        assert mine.att_mtu == theirs.att_mtu == BLE_MTU, (mine, theirs)
        with self.lock:
            pair = frozenset((central.handle, handle))
            self.live[pair] = self.live.get(pair, 0) + 1
            self.max_live[pair] = max(self.max_live.get(pair, 0), self.live[pair])
            self.connects.append((central.handle, handle))
        # Both link_ups are queued before either core can send: this runs on
        # the central's core thread, which takes its own link_up after this
        # call, and the peripheral answers only once it took its link_up. (A
        # value for a link not yet up is dropped, as from a real radio.)
        central.node.ble_link_up(mine.link_id, handle, True, mine.att_mtu)
        target.node.ble_link_up(theirs.link_id, central.handle, False, theirs.att_mtu)

    def send(self, radio, link_id, value):
        if len(value) > MAX_WRITE:
            self.oversize.append(len(value))
        if not radio.links.queue(link_id, bytes(value)):
            raise CallbackError.Failed(f"BLE link {link_id} is closed")
        self.pump(radio, link_id)

    def disconnect(self, radio, link_id):
        radio.links.hang_up(link_id)
        self.pump(radio, link_id)

    def pump(self, radio, link_id):
        """The platform's loop over its table, with a stack that takes every value."""
        while True:
            step = radio.links.next(link_id)
            peer = radio.links.peer(link_id)
            if step.is_wait() or peer is None:
                return
            with self.lock:
                other = self.radios[peer.handle]
            theirs = other.links.find(radio.handle, not peer.central)
            if step.is_send():
                if theirs is not None:
                    other.node.ble_received(theirs, step.value)
                assert radio.links.sent(link_id)
                radio.node.ble_ready(link_id, 1)
                radio.values += 1
                continue
            # Hang up: both ends see the connection drop.
            assert radio.links.gone(link_id)
            theirs = other.links.gone_handle(radio.handle, not peer.central)
            with self.lock:
                self.live[frozenset((radio.handle, other.handle))] -= 1
            for node, link in ((other.node, theirs), (radio.node, link_id)):
                try:
                    if link is not None:
                        node.ble_link_down(link)
                except PollenError:
                    pass
            return

    def live_links(self):
        with self.lock:
            radios = list(self.radios.values())
        return sum(len(r.links.ids(None)) for r in radios) // 2

    def close(self):
        self.stopped.set()
        self.beacon.join()


class AirRadio(BleRadio):
    """A phone's radio on the air; records what the core asked of it."""

    def __init__(self, air, handle, node):
        self.air = air
        self.handle = handle
        self.node = node
        self.links = BleLinks()
        self.scanning = False
        self.adv = None
        self.intervals = []
        self.calls = []
        self.values = 0

    def start_scan(self):
        self.calls.append("start_scan")
        self.scanning = True

    def stop_scan(self):
        self.calls.append("stop_scan")
        self.scanning = False

    def advertise(self, service_data, local_name, interval_ms):
        self.calls.append("advertise")
        assert local_name, "no local name for iOS"
        self.intervals.append(interval_ms)
        self.adv = bytes(service_data)

    def stop_advertising(self):
        self.calls.append("stop_advertising")
        self.adv = None

    def connect(self, handle):
        self.calls.append("connect")
        self.air.connect(self, handle)

    def disconnect(self, link_id):
        self.calls.append(("disconnect", link_id))
        self.air.disconnect(self, link_id)

    def send(self, link_id, value):
        self.air.send(self, link_id, value)


class FailingRadio(BleRadio):
    """A radio whose every call throws, as broken platform code would."""

    def __init__(self):
        self.calls = 0

    def _fail(self, *_):
        self.calls += 1
        raise CallbackError.Failed("radio is broken")

    start_scan = stop_scan = stop_advertising = _fail
    advertise = connect = disconnect = send = _fail


def wait_until(predicate, what, timeout=TIMEOUT):
    """Polls a cheap condition (for state without an event)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def expect_error(kind, f, *args):
    try:
        f(*args)
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}")


class World:
    """Nodes in a temporary directory, shut down at the end."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pollen-py-")
        self.nodes = []
        self.hub = Hub()
        self.airs = []

    def node(self, name, listener=True):
        n = PollenNode.create(os.path.join(self.tmp.name, name), name)
        # These tests wait seconds for "delivered": proofs leave at once.
        # The default holds them back for their batch (tested in Rust).
        assert n.delivery_receipts() == DeliveryReceipts.BATCHED
        n.set_delivery_receipts(DeliveryReceipts.IMMEDIATE)
        rec = None
        if listener:
            rec = Recorder()
            n.set_listener(rec)
        self.nodes.append(n)
        self.hub.add(name, n)
        return n, rec

    def air(self, in_range=None):
        a = Air(in_range)
        self.airs.append(a)
        return a

    def close(self):
        for a in self.airs:
            a.close()
        for n in self.nodes:
            n.shutdown()
        self.tmp.cleanup()


def befriend(a, a_name, b, b_name):
    a.add_contact(b.card(), b_name)
    b.add_contact(a.card(), a_name)


# ---------------------------------------------------------------- tests


def test_identity_and_data_dir_errors(w):
    a, _ = w.node("alice")
    ident = a.identity()
    assert ident.name == "alice"
    assert ident.card.startswith("pollen1") and ident.card == a.card()
    assert len(ident.fingerprint) == 64
    path = os.path.join(w.tmp.name, "alice")
    e = expect_error(PollenError.AlreadyInitialized, PollenNode.create, path, "again")
    assert path in e.dir
    expect_error(PollenError.NotInitialized, PollenNode.open, os.path.join(w.tmp.name, "nobody"))


def test_panic_wipe(w):
    path = os.path.join(w.tmp.name, "wiped")
    n = PollenNode.create(path, "wiped")
    card = n.card()
    n.shutdown()
    del n
    expect_error(PollenError.NotInitialized, pollen.wipe, w.tmp.name)
    assert pollen.wipe(path) >= 1
    assert not os.path.exists(path)
    expect_error(PollenError.NotInitialized, PollenNode.open, path)
    fresh = PollenNode.create(path, "wiped")
    assert fresh.card() != card


def test_contacts_safety_numbers_and_key_change(w):
    a, arec = w.node("alice")
    c, _ = w.node("carol")
    impostor, _ = w.node("mallory")
    befriend(a, "alice", c, "carol")
    assert a.safety_number("carol") == c.safety_number("alice")
    assert [x.alias for x in a.contacts()] == ["carol"]
    assert not a.contacts()[0].verified
    assert a.mark_verified("carol").verified
    expect_error(PollenError.InvalidName, a.add_contact, a.card(), None)
    expect_error(PollenError.InvalidCard, a.add_contact, "pollen1notacard", None)
    e = expect_error(PollenError.KeyChanged, a.add_contact, impostor.card(), "carol")
    assert e.alias == "carol"
    (_, change) = arec.wait_for("key")
    assert change.alias == "carol" and change.new_card == impostor.card()
    assert a.key_changes()[0].new_card == impostor.card()
    expect_error(PollenError.UnknownContact, a.safety_number, "nobody")


def test_sending_errors_are_typed(w):
    a, _ = w.node("alice")
    expect_error(PollenError.UnknownContact, a.send_direct, "nobody", "hi")
    expect_error(PollenError.UnknownConversation, a.send, "nowhere", "hi")
    expect_error(PollenError.UnknownMessage, a.reply, "zzzz", "hi")
    c, _ = w.node("carol")
    befriend(a, "alice", c, "carol")
    expect_error(PollenError.InvalidText, a.send_direct, "carol", "   ")
    expect_error(PollenError.InvalidText, a.send_direct, "carol", "x" * 5000)


def test_message_carried_a_to_c_through_b(w):
    a, arec = w.node("alice")
    b, brec = w.node("bob")
    c, crec = w.node("carol")
    befriend(a, "alice", c, "carol")
    for n in (a, b, c):
        asyncio.run(n.start(NO_LAN))
    # Neighbours meet once: A-B and B-C, as BLE devices in range would.
    w.hub.connect("alice", "bob")
    w.hub.connect("bob", "carol")
    brec.wait_for("appeared", lambda n: n.id == "alice")
    brec.wait_for("appeared", lambda n: n.id == "carol")
    wait_until(lambda: w.hub.live() == 0, "first sessions to finish")

    sent = a.send_direct("carol", "hello through bob")
    # A has news: it asks its transport for a link to B; B carries the
    # envelope and asks for a link to C, which opens it.
    (_, got) = crec.wait_for("new", lambda m: m.id == sent.message_id)
    assert got.text == "hello through bob"
    assert got.sender_name == "alice"
    # Two links; Bob may keep the maximum hop count (checklist P4), so at least one.
    assert got.hops in (1, 2), f"hops {got.hops}"
    assert not got.outgoing and got.status == MessageStatus.RECEIVED
    assert b.status().carried_for_others >= 1
    # C's delivery proof travels back C -> B -> A.
    arec.wait_for("status", lambda conv, mid, st: mid == sent.message_id and st == MessageStatus.DELIVERED)
    assert a.status().own_delivered == 1
    # The conversation list at C shows it as unread.
    (_, conv) = crec.wait_for("conversation", lambda cv: cv.name == "alice" and cv.unread == 1)
    assert conv.kind == pollen.ConversationKind.DIRECT
    # A reply from C reaches A the same way, threaded.
    r = c.reply(sent.message_id[:8], "got it")
    (_, back) = arec.wait_for("new", lambda m: m.id == r.message_id)
    assert back.reply_to == sent.message_id
    # Every byte went through the transports, in writes of at most MAX_WRITE
    # (checked in send), and the nodes asked for the later links themselves.
    assert all(w.hub.transports[n].writes for n in ("alice", "bob", "carol"))
    assert w.hub.links_made >= 5, w.hub.links_made
    # Listener calls come from one Rust thread per node, not this one.
    assert threading.current_thread().ident not in crec.threads
    for n in (a, b, c):
        asyncio.run(n.stop())
        assert not n.is_running()


def test_bonjour_discovered_peer_gets_a_link_and_the_message(w):
    """iOS without the multicast entitlement: the platform browses Bonjour
    and hands the core discovered peers; the core asks for a link, the
    platform connects, a session runs over it and delivers the message."""
    net = BonjourNet()
    a, arec = w.node("alice")
    b, brec = w.node("bob")
    expect_error(PollenError.NotRunning, a.peer_discovered, "bob-svc")
    # Cards in either letter case: Android's QR code is upper case.
    a.add_contact(b.card().upper(), "bob")
    b.add_contact(a.card(), "alice")
    assert a.add_contact(b.card(), "bob").alias == "bob", "same card, either case"
    e = expect_error(PollenError.InvalidCard, a.add_contact, "POLLEN1" + b.card()[7:], None)
    assert "upper- and lower-case" in e.why, e.why
    net.advertise("alice", a, "alice-svc")
    net.advertise("bob", b, "bob-svc")
    for n in (a, b):
        asyncio.run(n.start(NO_LAN))
    sent = a.send_direct("bob", "found you on Wi-Fi")
    # Nobody was discovered: the core has no peer to ask a link for.
    time.sleep(1.0)
    assert net.connects == [], net.connects
    assert not brec.events or all(e[0] != "new" for e in brec.events)

    a.peer_discovered("bob-svc")
    (_, got) = brec.wait_for("new", lambda m: m.id == sent.message_id)
    assert got.text == "found you on Wi-Fi" and got.sender_name == "alice"
    assert net.connects[0] == ("alice", "bob-svc"), net.connects
    (_, n) = arec.wait_for("appeared", lambda n: n.id == "bob-svc")
    assert n.kind == LinkKind.PLATFORM
    brec.wait_for("appeared", lambda n: n.id.startswith("in:"))
    assert net.transports["alice"].writes and net.transports["bob"].writes

    # Lost from the browser: reported gone once its link closed, and no
    # longer asked for even when there is news.
    wait_until(lambda: net.live() == 0, "the session to finish")
    a.peer_lost("bob-svc")
    arec.wait_for("left", lambda n: n.id == "bob-svc")
    asked = len([c for c in net.connects if c == ("alice", "bob-svc")])
    a.send_direct("bob", "are you there?")
    time.sleep(1.0)
    assert len([c for c in net.connects if c == ("alice", "bob-svc")]) == asked
    for n in (a, b):
        asyncio.run(n.stop())


def test_the_ios_screens_calls_in_order(w):
    """What the SwiftUI screens call, in their order, from Python in Swift's
    role (ios/README.md, "What the Swift draws"): a scanned upper-case card
    with line breaks, the chat opened from the contact, a send by
    conversation id, the chat list and timeline as drawn, the notification
    decision with and without the chat on screen, mute; and the GATT
    contract the radio reads."""
    a, arec = w.node("alice")
    b, brec = w.node("bob")
    e = expect_error(PollenError.InvalidCard, a.add_contact_from_input, "pollen1notacard", None)
    assert e.why, "a malformed card says why"
    assert a.add_contact_from_input("\n " + b.card().upper() + "\n", None).alias == "bob"
    b.add_contact_from_input(a.card(), None)
    chat = a.open_chat_with_contact("bob")
    assert chat.title == "bob" and chat.preview == "" and chat.unread == 0
    for n in (a, b):
        asyncio.run(n.start(NO_LAN))
    w.hub.connect("alice", "bob")
    sent = a.send_in(chat.conversation_id, "from the iPhone")
    (_, got) = brec.wait_for("new", lambda m: m.id == sent.message_id)
    at_b = [c for c in b.chat_list(200) if c.conversation_id == got.conversation_id]
    assert at_b and at_b[0].title == "alice" and at_b[0].unread == 1, at_b
    items = b.timeline(got.conversation_id, 100, None, 0)
    assert isinstance(items[0], pollen.TimelineEntry.DAY), items
    assert items[-1].message.text == "from the iPhone" and not items[-1].message.own
    m = items[-1].message
    assert (m.shown_text, m.reactions_line, m.byline) == ("from the iPhone", "", "alice"), m
    note = b.notification_for_message(got.conversation_id, got.id, None)
    assert note is not None and note.title == "alice" and note.conversation_id == got.conversation_id
    assert note.subtitle is None, note  # one unread
    # The chat screen marks read by id on every reload: once it writes, then nothing.
    assert b.mark_chat_read(got.conversation_id) is not None
    assert b.mark_chat_read(got.conversation_id) is None
    assert [c.unread for c in b.chat_list(200) if c.conversation_id == got.conversation_id] == [0]
    assert b.notification_for_message(got.conversation_id, got.id, got.conversation_id) is None, "chat on screen"
    b.set_chat_muted(got.conversation_id, True)
    assert b.notification_for_message(got.conversation_id, got.id, None) is None, "muted"
    g = pollen.gatt_contract()
    assert g.service_uuid.startswith("7a3f0001-") and g.att_header == 3 and g.max_att_mtu == 517
    for n in (a, b):
        asyncio.run(n.stop())


def test_edits_reactions_and_paging(w):
    a, arec = w.node("alice")
    c, crec = w.node("carol")
    befriend(a, "alice", c, "carol")
    for n in (a, c):
        asyncio.run(n.start(NO_LAN))
    first = a.send_direct("carol", "one")
    second = a.send_direct("carol", "two")
    w.hub.connect("alice", "carol")
    crec.wait_for("new", lambda m: m.id == second.message_id)
    a.edit(second.message_id, "two, edited")
    crec.wait_for("conversation", lambda cv: c.messages("alice", 1, None).messages[0].text == "two, edited")
    c.react(first.message_id, "🌼")
    arec.wait_for(
        "conversation",
        lambda cv: any(r.emoji == "🌼" for m in a.messages("carol", 10, None).messages for r in m.reactions),
    )
    expect_error(PollenError.NotAuthor, c.edit, first.message_id, "not mine")
    page = c.messages("alice", 1, None)
    assert [m.text for m in page.messages] == ["two, edited"] and page.next is not None
    page2 = c.messages("alice", 1, page.next)
    assert [m.text for m in page2.messages] == ["one"]
    assert c.messages("alice", 1, page2.next).messages == []
    for n in (a, c):
        asyncio.run(n.stop())


def test_groups_and_channels(w):
    a, _ = w.node("alice")
    c, crec = w.node("carol")
    befriend(a, "alice", c, "carol")
    group = a.create_group("garden", ["carol"])
    assert group.kind == pollen.ConversationKind.GROUP
    expect_error(PollenError.UnknownContact, a.create_group, "other", ["nobody"])
    chan = a.join_channel("#market")
    assert chan.kind == pollen.ConversationKind.CHANNEL and chan.name == "#market"
    c.join_channel("market")
    a.send("garden", "group hello")
    a.send("#market", "channel hello")
    for n in (a, c):
        asyncio.run(n.start(NO_LAN))
    w.hub.connect("alice", "carol")
    crec.wait_for("new", lambda m: m.text == "group hello" and m.conversation_name == "garden")
    crec.wait_for("new", lambda m: m.text == "channel hello" and m.conversation_name == "#market")
    a.send_direct("carol", "direct hello")
    walked, before = [], None
    while True:
        page = a.conversation_page(2, before)
        walked.extend(cv.name for cv in page.conversations)
        if page.next is None:
            break
        before = page.next
    assert walked == [cv.name for cv in a.conversations(100)] and len(walked) == 3, walked
    assert a.remove_member("garden", "carol") == 2
    expect_error(PollenError.NotAdmin, c.remove_member, "garden", "alice")
    for n in (a, c):
        asyncio.run(n.stop())


def test_sneakernet_bundle(w):
    a, _ = w.node("alice")
    c, crec = w.node("carol")
    d, _ = w.node("dave")
    befriend(a, "alice", c, "carol")
    a.send_direct("carol", "by hand")
    path = os.path.join(w.tmp.name, "a.pollen")
    exported = asyncio.run(a.export_bundle(path))
    assert exported.envelopes == 1 and exported.bytes == os.path.getsize(path)
    carried = asyncio.run(d.import_bundle(path))
    assert carried.complete and carried.carried == 1 and carried.opened == 0
    opened = asyncio.run(c.import_bundle(path))
    assert opened.opened == 1
    crec.wait_for("new", lambda m: m.text == "by hand")
    try:
        asyncio.run(c.import_bundle(os.path.join(w.tmp.name, "missing.pollen")))
        raise AssertionError("expected Io")
    except PollenError.Io as e:
        assert "missing.pollen" in e.path


def test_link_errors(w):
    a, _ = w.node("alice")
    expect_error(PollenError.NotRunning, a.link_up, 1, "x", True, MAX_WRITE)
    asyncio.run(a.start(NO_LAN))
    try:
        asyncio.run(a.start(NO_LAN))
        raise AssertionError("expected AlreadyRunning")
    except PollenError.AlreadyRunning:
        pass
    expect_error(PollenError.InvalidLink, a.link_up, 1, "x", True, 5)
    expect_error(PollenError.UnknownLink, a.link_received, 99, b"\x00")
    a.link_down(99)  # unknown ids are ignored
    # A peer that sends garbage: the session fails, the core disconnects.
    disconnected = threading.Event()

    class Recording(PlatformTransport):
        def send(self, link_id, data):
            pass

        def disconnect(self, link_id):
            disconnected.set()

        def connect(self, peer):
            raise CallbackError.Failed("no radio")

    a.set_transport(Recording())
    a.link_up(7, "junk", False, MAX_WRITE)
    expect_error(PollenError.DuplicateLink, a.link_up, 7, "junk", False, MAX_WRITE)
    a.link_received(7, b"\xff" * 64)
    assert disconnected.wait(TIMEOUT), "garbage did not close the link"
    wait_until(lambda: expect_or_none(a.link_received, 7, b"x"), "link 7 to be gone")
    asyncio.run(a.stop())
    assert not a.is_running()


def expect_or_none(f, *args):
    try:
        f(*args)
        return False
    except PollenError.UnknownLink:
        return True


def test_shutdown_is_final(w):
    a, _ = w.node("alice")
    asyncio.run(a.start(NO_LAN))
    a.shutdown()
    expect_error(PollenError.ShutDown, a.status)
    expect_error(PollenError.ShutDown, a.card)
    a.shutdown()  # twice is harmless
    reopened = PollenNode.open(os.path.join(w.tmp.name, "alice"))
    w.nodes.append(reopened)
    assert reopened.identity().name == "alice"


def test_lan_between_two_nodes(w):
    a, _ = w.node("alice")
    c, crec = w.node("carol")
    befriend(a, "alice", c, "carol")
    asyncio.run(c.start(RunOptions(lan=True, listen="127.0.0.1:0", mdns=False, peers=[])))
    addr = c.status().lan_address
    assert addr and addr.startswith("127.0.0.1:")
    asyncio.run(a.start(RunOptions(lan=True, listen="127.0.0.1:0", mdns=False, peers=[addr])))
    sent = a.send_direct("carol", "over tcp")
    crec.wait_for("new", lambda m: m.id == sent.message_id)
    for n in (a, c):
        asyncio.run(n.stop())
    e = None
    try:
        asyncio.run(a.start(RunOptions(lan=True, listen="not an address", mdns=False, peers=[])))
    except PollenError.Runtime as err:
        e = err
    assert e is not None, "a bad listen address must fail"


def test_ble_direct_message_and_proof(w):
    a, arec = w.node("alice")
    b, brec = w.node("bob")
    befriend(a, "alice", b, "bob")
    air = w.air()
    first = a.send_direct("bob", "hello over the air")
    ra, rb = air.radio("phone-a", a), air.radio("phone-b", b)
    t0 = time.monotonic()
    a.set_ble_radio(ra)
    b.set_ble_radio(rb)
    # Setting the radio issues the driver's first commands at once.
    for r in (ra, rb):
        assert "start_scan" in r.calls and r.adv is not None, r.calls
        assert r.intervals[-1] == 250, r.intervals  # foreground
    # Both advertise and scan, yet one of them connects: one link, which
    # carries the message and brings the delivery proof back.
    (_, got) = brec.wait_for("new", lambda m: m.id == first.message_id)
    cold = time.monotonic() - t0
    assert got.text == "hello over the air" and got.sender_name == "alice"
    assert got.hops == 1, got.hops
    arec.wait_for("status", lambda c, mid, st: mid == first.message_id and st == MessageStatus.DELIVERED)
    wait_until(lambda: air.live_links() == 0, "the finished link to close")
    assert len(air.connects) == 1, air.connects
    assert max(air.max_live.values()) == 1, air.max_live
    brec.wait_for("appeared", lambda n: n.id == "phone-a" and n.kind == LinkKind.BLE)
    arec.wait_for("left", lambda n: n.id == "phone-b" and n.kind == LinkKind.BLE)
    assert ra.values > 0 and rb.values > 0
    # A local write is news: the driver reopens a link to B by itself.
    t1 = time.monotonic()
    second = a.send_direct("bob", "and again")
    brec.wait_for("new", lambda m: m.id == second.message_id)
    warm = time.monotonic() - t1
    arec.wait_for("status", lambda c, mid, st: mid == second.message_id and st == MessageStatus.DELIVERED)
    assert len(air.connects) >= 2, air.connects
    assert max(air.max_live.values()) == 1, air.max_live
    assert not air.oversize, f"values over the MTU: {air.oversize}"
    # A power change reaches the radio's advertisement at once.
    a.ble_set_power(BlePowerMode.BACKGROUND)
    wait_until(lambda: ra.intervals[-1] == 1000, "the background advertising interval")
    # What the user wrote goes one second after the last sync at the
    # soonest, and the writer connects whichever identifier is lower (news
    # that only passed through still waits 10 s; the checklist's duty budget
    # is unchanged, as idle phones connect no more often).
    print(f"  figure: BLE loopback (ATT MTU {BLE_MTU}): radios on -> message at B {cold:.2f}s; "
          f"send after a sync -> message at B {warm:.2f}s (connections: {air.connects})")


def test_ble_carried_a_to_c_through_b(w):
    a, arec = w.node("alice")
    b, _ = w.node("bob")
    c, crec = w.node("carol")
    befriend(a, "alice", c, "carol")
    air = w.air(in_range={frozenset(("A", "B")), frozenset(("B", "C"))})
    sent = a.send_direct("carol", "hello through bob's pocket")
    for name, n in (("A", a), ("B", b), ("C", c)):
        n.set_ble_radio(air.radio(name, n))
    (_, got) = crec.wait_for("new", lambda m: m.id == sent.message_id, timeout=60)
    assert got.hops in (1, 2), got.hops  # at least one: checklist P4
    assert b.status().carried_for_others >= 1
    arec.wait_for("status", lambda cv, mid, st: mid == sent.message_id and st == MessageStatus.DELIVERED, timeout=60)
    assert all(frozenset(p) != frozenset(("A", "C")) for p in air.connects), air.connects


def test_ble_link_table_as_ios_uses_it(w):
    # The radio's table through the bindings, as PollenBle.swift drives it:
    # the link numbered at subscription, values refused while CoreBluetooth
    # has no room and given again at "ready", the close after the drain.
    links = BleLinks()
    up = links.up("AA-UUID", True, 182)
    assert (up.link_id, up.att_mtu) == (1, 185), up
    assert links.up("AA-UUID", True, 182) is None  # a second subscription
    assert links.find("AA-UUID", True) == 1 and links.find("AA-UUID", False) is None
    assert links.peer(1) == BleLinkPeer(handle="AA-UUID", central=True)
    assert links.queue(1, b"one") and links.queue(1, b"two")
    links.hang_up(1)
    assert not links.queue(1, b"late")
    assert links.next(1) == BleStep.SEND(b"one")
    assert links.sent(1)
    step = links.next(1)
    assert step.is_send() and step.value == b"two"
    links.refused(1)  # no room: "ready" comes later
    assert not links.sent(1)
    assert links.next(1) == BleStep.SEND(b"two")
    assert links.sent(1)
    assert links.next(1).is_hang_up()
    assert links.next(1).is_wait()
    assert links.gone(1) and not links.gone(1)
    # Android: the MTU noted before the subscription; the adapter going off.
    links.note_mtu("BB:MAC", False, 247)
    assert links.up("BB:MAC", False, None).att_mtu == 247
    assert links.gone_all(False) == [2] and links.ids(None) == []


def test_ble_stop_and_bad_callbacks(w):
    a, arec = w.node("alice")
    air = w.air()
    radio = air.radio("phone-a", a)
    # Callbacks before any radio is set are ignored.
    a.ble_received(5, b"\x00")
    a.ble_link_down(5)
    assert not a.ble_is_on()
    a.set_ble_radio(radio)
    assert a.ble_is_on()
    # An inbound link from a central that is not on the air.
    a.ble_link_up(7, "stranger", False, BLE_MTU)
    arec.wait_for("appeared", lambda n: n.id == "stranger" and n.kind == LinkKind.BLE)
    assert a.status().links == 1
    # Bad arguments: typed errors; unknown links: ignored; nothing crashes.
    e = expect_error(PollenError.InvalidLink, a.ble_received, 7, b"\x00" * 513)
    assert "513" in e.why
    expect_error(PollenError.InvalidLink, a.ble_link_up, 8, "x", True, 10)
    a.ble_received(424242, b"bogus")
    a.ble_ready(424242, 3)
    a.ble_link_down(424242)
    a.ble_received(7, b"\xff\xff\xff not a pollen value")
    assert a.card().startswith("pollen1")
    # Stopping closes the link and switches the radio off.
    del radio.calls[:]
    a.set_ble_radio(None)
    assert not a.ble_is_on()
    assert ("disconnect", 7) in radio.calls, radio.calls
    assert "stop_scan" in radio.calls and "stop_advertising" in radio.calls, radio.calls
    arec.wait_for("left", lambda n: n.id == "stranger")
    assert a.status().links == 0
    # Late callbacks after the stop are ignored too.
    a.ble_received(7, b"\x00")
    a.ble_link_down(7)
    # A radio that throws on every call is logged, not fatal.
    broken = FailingRadio()
    a.set_ble_radio(broken)
    a.ble_advertisement("x", b"\x01\x02", None)
    a.ble_set_power(BlePowerMode.SAVER)
    a.set_ble_radio(None)
    assert broken.calls >= 3, broken.calls
    assert a.identity().name == "alice"
    a.shutdown()
    expect_error(PollenError.ShutDown, a.ble_received, 7, b"\x00")
    expect_error(PollenError.ShutDown, a.set_ble_radio, None)


def measure(w):
    """Figures: one plain call, and one call answered by a listener callback."""
    a, _ = w.node("alice")
    c, _ = w.node("carol")
    befriend(a, "alice", c, "carol")
    for _ in range(20):
        a.card()
    calls = []
    for _ in range(500):
        t = time.perf_counter()
        a.card()
        calls.append(time.perf_counter() - t)
    got = threading.Event()

    class Ping(PollenListener):
        def on_new_message(self, m): pass
        def on_message_status_changed(self, c, m, s): pass
        def on_conversation_changed(self, conv): got.set()
        def on_neighbour_appeared(self, n): pass
        def on_neighbour_left(self, n): pass
        def on_key_changed(self, k): pass

    a.set_listener(Ping())
    trips = []
    for i in range(50):
        got.clear()
        t = time.perf_counter()
        a.send_direct("carol", f"ping {i}")
        assert got.wait(TIMEOUT)
        trips.append(time.perf_counter() - t)
    # link_up returns at once; the core thread starts a session, whose
    # preamble comes back through the transport: a call answered by a
    # callback, with no disk write on the way.
    first_write = threading.Event()

    class FirstWrite(PlatformTransport):
        def send(self, link_id, data):
            first_write.set()

        def disconnect(self, link_id):
            pass

        def connect(self, peer):
            raise CallbackError.Failed("no radio")

    c.set_transport(FirstWrite())
    asyncio.run(c.start(NO_LAN))
    links = []
    for i in range(50):
        first_write.clear()
        t = time.perf_counter()
        c.link_up(1000 + i, "probe", True, MAX_WRITE)
        assert first_write.wait(TIMEOUT)
        links.append(time.perf_counter() - t)
        c.link_down(1000 + i)
    asyncio.run(c.stop())
    us = lambda xs: statistics.median(xs) * 1e6
    print(f"  figure: plain call (card) median {us(calls):.0f} us over {len(calls)}")
    print(f"  figure: link_up -> transport.send callback round trip median {us(links):.0f} us over {len(links)}")
    print(f"  figure: send + listener callback round trip median {us(trips):.0f} us over {len(trips)} (includes a durable SQLite commit)")


TESTS = [
    test_identity_and_data_dir_errors,
    test_panic_wipe,
    test_contacts_safety_numbers_and_key_change,
    test_sending_errors_are_typed,
    test_message_carried_a_to_c_through_b,
    test_edits_reactions_and_paging,
    test_groups_and_channels,
    test_sneakernet_bundle,
    test_link_errors,
    test_bonjour_discovered_peer_gets_a_link_and_the_message,
    test_the_ios_screens_calls_in_order,
    test_shutdown_is_final,
    test_lan_between_two_nodes,
    test_ble_direct_message_and_proof,
    test_ble_carried_a_to_c_through_b,
    test_ble_link_table_as_ios_uses_it,
    test_ble_stop_and_bad_callbacks,
    measure,
]


def main():
    passed = failed = 0
    for t in TESTS:
        w = World()
        start = time.monotonic()
        try:
            t(w)
            passed += 1
            print(f"ok   {t.__name__} ({time.monotonic() - start:.2f}s)")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
        finally:
            w.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
