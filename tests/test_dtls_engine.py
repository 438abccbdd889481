"""The DTLS engine driven with bytes and a fake clock: handshakes, failures with reasons,
retransmission, reconnect from the same address, table bound and idle purge."""

from __future__ import annotations

import logging
from collections import deque

import pytest

from rig.lwm2m.dtls.handshake import HandshakeConfig
from rig.lwm2m.dtls.records import CT_ALERT, CT_HANDSHAKE, parse_records
from rig.lwm2m.dtls.suites import SUITES
from dtls_memnet import KEY, MemLink, Net
from dtls_test_client import ClientError

@pytest.mark.parametrize("suite", sorted(SUITES))
def test_dtls_engine_handshake_and_data_each_suite(suite: int) -> None:
    net = Net()
    client = net.client(suites=(suite,))
    client.handshake()
    assert client.suite_name == SUITES[suite].name
    client.send(b"ping")
    assert net.delivered == [(("127.0.0.1", 40000), b"dev1", b"ping")]
    assert net.engine.send(("127.0.0.1", 40000), b"pong")
    assert client.recv() == b"pong"
    assert not net.engine.send(("127.0.0.1", 40000), b"x", identity=b"dev2"), "must not send to another identity's session"
    ok = net.timeline.events("dtls")
    assert [e.data["event"] for e in ok] == ["handshake-ok"] and ok[0].data["identity"] == "dev1"


def test_dtls_engine_accepts_hello_record_versions_of_real_clients() -> None:
    for version in (0xFE00, 0xFEFF, 0xFEFD):
        net = Net()
        net.client(hello_record_version=version).handshake()
        assert net.kinds() == ["handshake-ok"]
    # and the stateless HelloVerifyRequest echoes the ClientHello's record sequence number
    net = Net()
    seen: list[bytes] = []
    client = net.client(drop_incoming=lambda _index, data: bool(seen.append(data)))
    client.write0.next_seq = 7
    client.start()
    hvr = parse_records(seen[0])
    assert hvr[0].content_type == CT_HANDSHAKE and hvr[0].body[0] == 3 and hvr[0].seq == 0


def test_dtls_engine_without_extended_master_secret_with_identity_hint_and_close_notify() -> None:
    net = Net(config=HandshakeConfig(identity_hint=b"rig"))
    client = net.client(extended_master_secret=False)
    client.handshake()
    assert net.kinds() == ["handshake-ok"]
    assert client.write1 is not None
    client.link.send(client.write1.seal(CT_ALERT, bytes([1, 0])))  # close_notify
    assert net.kinds() == ["handshake-ok", "closed"] and "alert 0" in net.events[-1].reason
    assert len(net.engine.table) == 0 and not net.engine.send(("127.0.0.1", 40000), b"x")


@pytest.mark.parametrize(
    "identity,key,reason",
    [(b"dev1", b"wrong-key-000000", "wrong key"), (b"nobody", KEY, "unknown PSK identity b'nobody'")],
)
def test_dtls_engine_failed_handshake_gets_nothing_and_says_why(identity: bytes, key: bytes, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    net = Net()
    client = net.client(identity=identity, key=key)
    client.start()
    with pytest.raises(ClientError, match="nothing from the server"):
        client.finish()  # the server waits a little for an authentic Finished: a forged one must not end a handshake
    assert net.kinds() == [] and net.engine.next_deadline() <= net.clock.t + HandshakeConfig().failure_grace
    net.clock.t += HandshakeConfig().failure_grace
    with caplog.at_level(logging.WARNING, logger="rig.dtls"):
        net.engine.poll()
    with pytest.raises(ClientError, match="alert"):
        client.await_finished()  # then says why, in a record the client has not seen yet
    assert net.kinds() == ["handshake-failed"] and reason in net.events[0].reason
    assert any(reason in r.getMessage() and "127.0.0.1:40000" in r.getMessage() for r in caplog.records)
    [event] = net.timeline.events("dtls")
    assert event.data["event"] == "handshake-failed" and reason in event.data["reason"]
    assert event.data["identity"] == identity.decode()
    assert net.engine.identity(("127.0.0.1", 40000)) is None and len(net.engine.table) == 0
    assert len(net.engine.handshakes) == 0 and net.delivered == []


def test_dtls_engine_no_common_suite_is_reported() -> None:
    net = Net()
    with pytest.raises(ClientError, match="alert 40"):
        net.client(suites=(0xC0AC,)).handshake()  # ECDHE-ECDSA-CCM: not PSK
    assert "no common cipher suite" in net.events[0].reason


def test_dtls_engine_retransmits_flight_on_timer_then_times_out() -> None:
    net = Net(config=HandshakeConfig(retransmit_initial=1.0, handshake_timeout=30.0))
    peer = ("127.0.0.1", 40000)
    client = net.client(drop_incoming=lambda index, _data: index == 1)  # lose ServerHello..ServerHelloDone once
    client.start()
    assert net.engine.next_deadline() == pytest.approx(net.clock.t + 1.0)
    net.clock.t += 0.5
    net.engine.poll()
    assert len(net.queues[peer]) == 1  # only the first send: not due yet
    net.clock.t += 0.6
    net.engine.poll()
    assert len(net.queues[peer]) == 2  # retransmitted
    first, again = (parse_records(d) for d in net.queues[peer])
    assert [r.seq for r in again] != [r.seq for r in first], "a retransmission must use new record sequence numbers"
    client.finish()
    assert net.kinds() == ["handshake-ok"]

    # a client that goes silent after its ClientHello: doubling retransmissions, then a logged timeout
    net = Net(config=HandshakeConfig(retransmit_initial=1.0, handshake_timeout=30.0))
    net.client().start()
    sent_at = []
    for _ in range(40):
        net.clock.t += 1.0
        before = len(net.queues[peer])
        net.engine.poll()
        if len(net.queues[peer]) > before:
            sent_at.append(net.clock.t)
    gaps = [round(b - a) for a, b in zip(sent_at, sent_at[1:])]
    assert gaps == [2, 4, 8, 16][: len(gaps)] and len(gaps) >= 3
    assert net.kinds() == ["handshake-failed"] and net.events[0].reason.startswith("timeout")
    assert len(net.engine.table) == 0 and net.engine.next_deadline() is None


def test_dtls_engine_repeated_hello_resends_flight_and_lost_finished_is_resent() -> None:
    net = Net()
    peer = ("127.0.0.1", 40000)
    client = net.client(drop_incoming=lambda index, _data: index in (1, 3))  # lose the flight, then the server Finished
    client.start()
    client.resend_hello()  # the client's own retransmission timer fired
    with pytest.raises(ClientError):
        client.finish()  # reads the re-sent flight, sends its final flight; the server Finished is dropped
    client.resend_final_flight()
    client.await_finished()
    assert net.kinds() == ["handshake-ok"]
    client.send(b"after")
    assert net.delivered[-1] == (peer, b"dev1", b"after")


def test_dtls_engine_reconnect_same_address_keeps_old_session_until_new_completes() -> None:
    net = Net()
    peer = ("127.0.0.1", 40000)
    old = net.client()
    old.handshake()
    new = net.client()  # same address and port: the board rebooted
    new.start()
    old.send(b"old still works")
    assert net.delivered[-1] == (peer, b"dev1", b"old still works")
    assert net.engine.send(peer, b"to old")
    to_old = net.queues[peer].pop()
    new.finish()
    old.link = MemLink(net, peer, deque([to_old]))
    assert old.recv() == b"to old"
    assert net.kinds() == ["handshake-ok", "handshake-ok"] and net.events[1].replaced
    new.send(b"new")
    assert net.delivered[-1] == (peer, b"dev1", b"new")
    count = len(net.delivered)
    old.send(b"stale")
    assert len(net.delivered) == count, "the replaced session's records must be dropped"
    assert len(net.engine.table) == 1


def test_dtls_engine_table_is_bounded_and_idle_sessions_are_purged() -> None:
    net = Net(max_sessions=2, idle_timeout=600.0)
    for port in (40001, 40002, 40003):
        net.client(port=port).handshake()
        net.clock.t += 1
    assert net.engine.peers() == [("127.0.0.1", 40002), ("127.0.0.1", 40003)]
    assert net.events[-1].kind == "closed" or net.events[-2].kind == "closed"
    assert any(e.kind == "closed" and "evicted" in e.reason and e.peer == ("127.0.0.1", 40001) for e in net.events)
    assert net.engine.next_deadline() == pytest.approx(1000.0 + 1 + 600.0)
    net.clock.t = 1000.0 + 1 + 600.0 + 0.5
    net.engine.poll()
    assert net.engine.peers() == [("127.0.0.1", 40003)]
    net.clock.t += 10
    net.engine.poll()
    assert net.engine.peers() == [] and net.engine.next_deadline() is None
    assert [e.reason for e in net.events if e.kind == "closed"][-1].startswith("idle")
