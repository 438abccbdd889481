"""The DTLS client engine against the rig's own server engine, in memory with a fake clock:
every suite, the cookie path, lost flights retransmitted with back-off, wrong keys with reasons,
session loss and the re-handshake it leads to."""

from __future__ import annotations

from collections import deque
from typing import Callable

import pytest

from rig.lwm2m.dtls import DtlsEvent, EngineHooks
from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.client_engine import ClientHooks, DtlsClientEngine
from rig.lwm2m.dtls.client_handshake import ClientConfig
from rig.lwm2m.dtls.handshake import HandshakeConfig
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.dtls.pyengine import PyDtlsServerEngine
from rig.lwm2m.dtls.records import CT_HANDSHAKE, DTLS_1_2, parse_records
from rig.lwm2m.dtls.suites import SUITES
from dtls_memnet import FakeClock

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
PEER = ("127.0.0.1", 40000)
SERVER = ("127.0.0.1", 5684)
Drop = Callable[[int, bytes], bool]


class Pair:
    """A client engine and a server engine joined by two in-memory queues, each with an optional drop rule."""

    def __init__(self, key: bytes = KEY, identity: bytes = b"dev1", suites: tuple[int, ...] | None = None,
                 server_suites: tuple[int, ...] | None = None) -> None:
        self.clock = FakeClock()
        self.to_server: deque[bytes] = deque()
        self.to_client: deque[bytes] = deque()
        self.sent_by_client: list[bytes] = []
        self.client_events: list[DtlsEvent] = []
        self.server_events: list[DtlsEvent] = []
        self.client_got: list[bytes] = []
        self.server_got: list[bytes] = []
        self.drop_to_server: Drop | None = None
        self.drop_to_client: Drop | None = None
        self._n_server = self._n_client = 0
        store = PskStore.parse(["dev1:dev1:" + KEY.hex()])
        server_config = HandshakeConfig(suites=server_suites) if server_suites else HandshakeConfig()
        self.server = self._new_server(store, server_config)
        config = ClientConfig(suites=suites) if suites else ClientConfig()
        hooks = ClientHooks(self._client_sends, self.client_got.append, self.client_events.append)
        self.client = DtlsClientEngine(SERVER, identity, key, hooks, clock=self.clock, config=config)

    def _new_server(self, store: PskStore, config: HandshakeConfig) -> PyDtlsServerEngine:
        hooks = EngineHooks(lambda _p, d: self.to_client.append(d), lambda _p, _i, d: self.server_got.append(d),
                            self.server_events.append)
        return PyDtlsServerEngine(store.key_for_identity, hooks, clock=self.clock, config=config)

    def restart_server(self) -> None:
        self.server = self._new_server(PskStore.parse(["dev1:dev1:" + KEY.hex()]), HandshakeConfig())

    def _client_sends(self, data: bytes) -> None:
        self.sent_by_client.append(data)
        self.to_server.append(data)

    def pump(self) -> None:
        """Deliver queued datagrams both ways until both queues are empty."""
        while self.to_server or self.to_client:
            while self.to_server:
                data, self._n_server = self.to_server.popleft(), self._n_server + 1
                if not (self.drop_to_server and self.drop_to_server(self._n_server - 1, data)):
                    self.server.receive(PEER, data)
            while self.to_client:
                data, self._n_client = self.to_client.popleft(), self._n_client + 1
                if not (self.drop_to_client and self.drop_to_client(self._n_client - 1, data)):
                    self.client.receive(data)

    def advance_to_deadline(self) -> None:
        """Move the fake clock to the earliest timer of either engine and run it."""
        deadlines = [d for d in (self.client.next_deadline(), self.server.next_deadline()) if d is not None]
        assert deadlines, "no timer armed"
        self.clock.t = max(self.clock.t, min(deadlines))
        self.client.poll()
        self.server.poll()
        self.pump()


def first_type(data: bytes) -> int | None:
    rec = parse_records(data)[0]
    return rec.body[0] if rec.content_type == CT_HANDSHAKE and rec.epoch == 0 else None


@pytest.mark.parametrize("suite", list(SUITES))
def test_dtls_client_handshake_and_data_both_ways_each_suite(suite: int) -> None:
    pair = Pair(server_suites=(suite,))
    pair.client.send(b"hello server")
    pair.pump()
    assert pair.client.state == "established" and pair.client.suite == SUITES[suite].name
    assert pair.server_got == [b"hello server"], "queued data goes out once the session is up"
    assert pair.server.send(PEER, b"hello board", b"dev1")
    pair.pump()
    assert pair.client_got == [b"hello board"]
    assert [e.kind for e in pair.client_events] == ["handshake-ok"]


def test_dtls_client_offers_ccm8_first_with_record_version_1_2_and_follows_the_cookie() -> None:
    pair = Pair()
    pair.client.connect()
    pair.pump()
    hellos = [d for d in pair.sent_by_client if first_type(d) == m.CLIENT_HELLO]
    assert len(hellos) == 2, "ClientHello, HelloVerifyRequest, ClientHello with the cookie"
    first, second = (parse_records(h)[0] for h in hellos)
    assert first.version == DTLS_1_2 and second.version == DTLS_1_2
    frag1, frag2 = m.parse_fragments(first.body)[0], m.parse_fragments(second.body)[0]
    assert (frag1.message_seq, frag2.message_seq) == (0, 1)
    hello1, hello2 = m.ClientHello.parse(frag1.body), m.ClientHello.parse(frag2.body)
    assert hello1.cookie == b"" and len(hello2.cookie) == 32 and hello1.random == hello2.random
    assert hello1.cipher_suites[0] == 0xC0A8
    assert pair.client.suite == "TLS_PSK_WITH_AES_128_CCM_8"


@pytest.mark.parametrize("lost", ["hello-verify", "server-flight", "client-final-flight", "server-finished"])
def test_dtls_client_recovers_each_lost_flight_by_retransmission_with_backoff(lost: str) -> None:
    pair = Pair()
    dropped: list[int] = []

    def drop_once(kind: str) -> Drop:
        def rule(index: int, data: bytes) -> bool:
            if dropped:
                return False
            records = parse_records(data)
            hit = {
                "hello-verify": first_type(data) == m.HELLO_VERIFY_REQUEST,
                "server-flight": first_type(data) == m.SERVER_HELLO,
                "client-final-flight": first_type(data) == m.CLIENT_KEY_EXCHANGE,
                "server-finished": any(r.epoch == 1 for r in records),
            }[kind]
            if hit:
                dropped.append(index)
            return hit
        return rule

    if lost in ("client-final-flight",):
        pair.drop_to_server = drop_once(lost)
    else:
        pair.drop_to_client = drop_once(lost)
    start = pair.clock.t
    pair.client.send(b"x")
    pair.pump()
    assert dropped and pair.client.state == "handshaking"
    for _ in range(10):
        if pair.client.state == "established":
            break
        pair.advance_to_deadline()
    assert pair.client.state == "established", pair.client.failure
    assert pair.server_got == [b"x"]
    assert pair.client.handshakes == 1
    assert pair.clock.t - start == pytest.approx(1.0), "first retransmission after the initial 1 s timer"


def test_dtls_client_retransmission_backs_off_then_times_out_with_a_reason() -> None:
    pair = Pair()
    pair.drop_to_server = lambda _i, _d: True  # nobody home
    pair.client.send(b"x")
    pair.pump()
    times = []
    while pair.client.state == "handshaking":
        pair.advance_to_deadline()
        times.append(pair.clock.t)
    gaps = [round(b - a, 3) for a, b in zip([1000.0] + times, times)]
    assert gaps[:4] == [1.0, 2.0, 4.0, 8.0], gaps
    assert sum(first_type(d) == m.CLIENT_HELLO for d in pair.sent_by_client) == len(times)  # first + retransmissions
    event = pair.client_events[-1]
    assert event.kind == "handshake-failed" and "timeout: no HelloVerifyRequest or ServerHello within 20 s" in event.reason
    assert pair.client.state == "idle" and pair.client.failure == event.reason


def test_dtls_client_wrong_key_fails_with_a_clear_reason_on_both_sides() -> None:
    pair = Pair(key=bytes(16))
    pair.client.send(b"x")
    pair.pump()
    start = pair.clock.t
    while pair.client.state != "idle" and pair.clock.t - start < 10:
        pair.advance_to_deadline()
    assert pair.clock.t - start == pytest.approx(HandshakeConfig().failure_grace), \
        "the server waits its grace for an authentic Finished, then sends the alert"
    assert pair.client.state == "idle" and pair.server_got == []
    assert [e.kind for e in pair.client_events] == ["handshake-failed"]
    assert "bad_record_mac" in pair.client.failure and "wrong PSK" in pair.client.failure
    assert any(e.kind == "handshake-failed" and "wrong key" in e.reason for e in pair.server_events)


def test_dtls_client_unknown_identity_is_named() -> None:
    pair = Pair(identity=b"stranger")
    pair.client.send(b"x")
    pair.pump()
    while pair.client.state != "idle":
        pair.advance_to_deadline()
    assert "unknown_psk_identity" in pair.client.failure


def test_dtls_client_no_common_suite_is_named() -> None:
    pair = Pair(suites=(0xC0A8,), server_suites=(0x00A8,))
    pair.client.connect()
    pair.pump()
    assert "handshake_failure" in pair.client.failure and "no cipher suite in common" in pair.client.failure


def test_dtls_client_handshakes_again_after_the_session_is_lost() -> None:
    pair = Pair()
    pair.client.send(b"one")
    pair.pump()
    pair.restart_server()  # the new server knows nothing: it silently drops the old session's records
    pair.client.send(b"lost")
    pair.pump()
    assert pair.server_got == [b"one"]
    pair.client.drop("no answer to a retransmission")
    pair.client.send(b"two")
    pair.pump()
    assert pair.server_got == [b"one", b"two"] and pair.client.handshakes == 2
    assert [e.kind for e in pair.client_events] == ["handshake-ok", "closed", "handshake-ok"]
    assert pair.client_events[-1].replaced

    pair.server.close(PEER)  # close_notify from the server
    pair.pump()
    assert pair.client.state == "idle" and "close_notify" in pair.client_events[-1].reason
    pair.client.send(b"three")
    pair.pump()
    assert pair.server_got[-1] == b"three" and pair.client.handshakes == 3


def test_dtls_client_hello_request_and_undecryptable_records_end_the_session() -> None:
    pair = Pair()
    pair.client.send(b"one")
    pair.pump()
    state = pair.server.table.get(PEER)
    pair.client.receive(state.connection.write.seal(CT_HANDSHAKE, m.whole_message(m.HELLO_REQUEST, 0, b"")))
    assert pair.client.state == "idle" and pair.client_events[-1].reason == "server sent HelloRequest"
    pair.client.send(b"two")
    pair.pump()
    assert pair.client.state == "established"
    forged = bytearray(pair.server.table.get(PEER).connection.write.seal(23, b"data"))
    forged[-1] ^= 1
    for n in range(3):
        assert pair.client.state == "established", n
        pair.client.receive(bytes(forged[:5]) + (100 + n).to_bytes(6, "big") + bytes(forged[11:]))
    assert pair.client.state == "idle" and "undecryptable" in pair.client_events[-1].reason
