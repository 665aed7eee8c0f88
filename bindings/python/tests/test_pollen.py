"""Tests of the generated Python bindings against the real core.

Run after scripts/bindings.sh:
    PYTHONPATH=target/bindings/python python3 bindings/python/tests/test_pollen.py

Three nodes in one process are linked by a loopback PlatformTransport (the
same foreign trait BLE code implements); messages go A -> B -> C. Events are
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
    CallbackError,
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

    def node(self, name, listener=True):
        n = PollenNode.create(os.path.join(self.tmp.name, name), name)
        rec = None
        if listener:
            rec = Recorder()
            n.set_listener(rec)
        self.nodes.append(n)
        self.hub.add(name, n)
        return n, rec

    def close(self):
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
    assert got.hops == 2, f"hops {got.hops}"
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
    test_contacts_safety_numbers_and_key_change,
    test_sending_errors_are_typed,
    test_message_carried_a_to_c_through_b,
    test_edits_reactions_and_paging,
    test_groups_and_channels,
    test_sneakernet_bundle,
    test_link_errors,
    test_shutdown_is_final,
    test_lan_between_two_nodes,
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
