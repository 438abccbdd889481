"""The DTLS server engine against traffic from peers that hold no key (issue 17), in memory with a fake clock.

Each test names the problem it pins: spoofed records during a handshake are
dropped, not fatal and not "wrong key"; the alert of a failed handshake is one
the client has not seen; one HelloVerifyRequest per datagram; bounded buffers,
events and log lines; rotating cookies; a huge sequence jump; half-open
handshakes that cannot push sessions out; sessions kept while registered.
"""

from __future__ import annotations

import logging
from typing import Callable

import pytest

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.cookies import CookieJar
from rig.lwm2m.dtls.handshake import HandshakeConfig
from rig.lwm2m.dtls.records import (
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_HANDSHAKE,
    DTLS_1_2,
    ReplayWindow,
    encode_record,
    parse_records,
)
from rig.lwm2m.limits import (
    COOKIE_LIFETIME,
    EVENTS_PER_SECOND,
    FLOOD_WARNING_INTERVAL,
    MAX_LOG_LINE,
    MAX_LOGGED_TEXT,
)
from dtls_memnet import KEY, MemLink, Net
from dtls_test_client import ClientError, DtlsTestClient

PEER = ("127.0.0.1", 40000)
GRACE = HandshakeConfig().failure_grace


class SplitLink(MemLink):
    """Sends the client's final flight record by record, calling `between` after its ClientKeyExchange."""

    def __init__(self, net: Net, peer: tuple, between: Callable[[], None]) -> None:
        super().__init__(net, peer)
        self.between = between

    def send(self, data: bytes) -> None:
        records = parse_records(data)
        if not any(r.epoch == 1 for r in records):
            super().send(data)
            return
        for record in records:
            super().send(encode_record(record.content_type, record.version, record.epoch, record.seq, record.body))
            if record.content_type == CT_HANDSHAKE and record.epoch == 0:
                self.between()


def spoof(net: Net, *records: bytes) -> Callable[[], None]:
    return lambda: net.engine.receive(PEER, b"".join(records))


def forged_epoch1(seq: int = 0) -> bytes:
    return encode_record(CT_HANDSHAKE, DTLS_1_2, 1, seq, bytes(8) + b"\x14" + bytes(40))


def cke(identity: bytes, seq: int = 2) -> bytes:
    return encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 99, m.whole_message(m.CLIENT_KEY_EXCHANGE, seq, m.psk_identity_vector(identity)))


SPOOFS = {
    "forged epoch-1 record": lambda net: spoof(net, forged_epoch1()),
    "plaintext fatal alert": lambda net: spoof(net, encode_record(CT_ALERT, DTLS_1_2, 0, 98, bytes([2, 40]))),
    "malformed fragment": lambda net: spoof(net, encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 97, b"\x10\x00\x00\x05\x00\x02\x00\x00\x00\x00\x00\x05ab")),
    "fragment that disagrees with the ClientKeyExchange": lambda net: spoof(net, encode_record(
        CT_HANDSHAKE, DTLS_1_2, 0, 96, b"\x10\x00\x01\x00\x00\x02\x00\x00\x00\x00\x00\x04abcd")),
    "unexpected message type": lambda net: spoof(net, encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 95, m.whole_message(5, 3, b"x"))),
    "ClientKeyExchange of an unknown identity": lambda net: spoof(net, cke(b"mallory")),
    "ClientKeyExchange of another endpoint's identity": lambda net: spoof(net, cke(b"dev2")),
}


@pytest.mark.parametrize("name", list(SPOOFS))
def test_dtls_spoofed_record_during_a_handshake_is_dropped_not_fatal_and_not_wrong_key(name: str, caplog) -> None:
    net = Net()
    client = DtlsTestClient(SplitLink(net, PEER, lambda: None), b"dev1", KEY)
    client.link.between = SPOOFS[name](net)
    with caplog.at_level(logging.WARNING, logger="rig.dtls"):
        client.start()
        SPOOFS[name](net)()  # once before the client's key exchange as well
        client.finish()
    assert net.kinds() == ["handshake-ok"], [e.reason for e in net.events]
    assert not [r for r in caplog.records if "wrong key" in r.getMessage()]
    client.send(b"after")
    assert net.delivered[-1] == (PEER, b"dev1", b"after")


def test_dtls_replayed_old_session_record_does_not_break_the_reboot_handshake() -> None:
    net = Net()
    old = net.client()
    old.handshake()
    captured: list[bytes] = []
    old.link = type("Capture", (), {"send": lambda self, data: captured.append(data)})()
    old.send(b"before the reboot")
    new = DtlsTestClient(SplitLink(net, PEER, lambda: net.engine.receive(PEER, captured[0])), b"dev1", KEY)
    new.start()
    net.engine.receive(PEER, captured[0])  # the old session's record, replayed while the new handshake runs
    new.finish()
    assert net.kinds() == ["handshake-ok", "handshake-ok"] and net.events[1].replaced
    new.send(b"new")
    assert net.delivered[-1] == (PEER, b"dev1", b"new")


def test_dtls_a_lone_spoof_fails_a_silent_handshake_only_after_the_grace() -> None:
    net = Net()
    client = net.client()
    client.start()
    net.queues[PEER].clear()
    net.engine.receive(PEER, cke(b"dev1") + forged_epoch1())  # as if the client's flight, but its Finished is forged
    assert net.kinds() == []
    net.clock.t += GRACE - 0.01
    net.engine.poll()
    assert net.kinds() == []
    net.clock.t += 0.02
    net.engine.poll()
    assert net.kinds() == ["handshake-failed"] and net.events[0].reason.startswith("wrong key")


def test_dtls_failure_alert_has_a_record_number_the_client_has_not_seen() -> None:
    net = Net()
    client = net.client(key=bytes(16))
    client.start()
    with pytest.raises(ClientError):
        client.finish()
    earlier = [r.seq for peer, d in net.sent if peer == PEER for r in parse_records(d) if r.epoch == 0]
    net.clock.t += GRACE
    net.engine.poll()
    [alert] = parse_records(net.sent[-1][1])
    assert alert.content_type == CT_ALERT and alert.body == bytes([2, m.ALERT_BAD_RECORD_MAC])
    assert alert.epoch == 0 and alert.seq > max(earlier), "OpenSSL and GnuTLS drop an alert whose record number they saw"


def test_dtls_one_hello_verify_request_per_datagram() -> None:
    net = Net()
    hello = m.ClientHello(DTLS_1_2, bytes(32), b"", b"", [0xC0A8], b"\x00").encode()
    datagram = b"".join(encode_record(CT_HANDSHAKE, DTLS_1_2, 0, seq, m.whole_message(m.CLIENT_HELLO, 0, hello))
                        for seq in range(10))
    net.engine.receive(PEER, datagram)
    assert len(net.queues[PEER]) == 1 and len(parse_records(net.queues[PEER][0])) == 1


def test_dtls_handshake_buffers_are_bounded() -> None:
    net = Net()
    client = net.client()
    client.start()
    hs = net.engine.handshakes.get(PEER)
    big = encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 90, b"\x10\x00\x40\x00\x00\x02\x00\x00\x00\x00\x00\x04abcd")  # 16 KiB
    far = encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 91, m.whole_message(m.FINISHED, 40, b"x" * 12))
    net.engine.receive(PEER, big + far)
    assert hs._reasm._partial == {}, "a message announced longer than a PSK handshake needs, or far ahead, is not buffered"
    hello = m.ClientHello(DTLS_1_2, bytes(32), b"", b"", [0xC0A8] * 1100, b"\x00").encode()  # 2.2 KB
    net.engine.receive(("127.0.0.1", 40001), encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 0, m.whole_message(m.CLIENT_HELLO, 0, hello)))
    assert not net.queues[("127.0.0.1", 40001)], "an oversized ClientHello is not answered"
    client.finish()
    assert net.kinds() == ["handshake-ok"]


def test_dtls_cookies_expire_after_two_lifetimes() -> None:
    clock = [0.0]
    jar = CookieJar(clock=lambda: clock[0])
    hello = m.ClientHello(DTLS_1_2, bytes(32), b"", b"", [0xC0A8], b"\x00")
    cookie = jar.make(PEER, hello)
    with_cookie = m.ClientHello(DTLS_1_2, bytes(32), b"", cookie, [0xC0A8], b"\x00")
    for t, ok in ((0.0, True), (COOKIE_LIFETIME * 0.99, True), (COOKIE_LIFETIME * 1.5, True), (COOKIE_LIFETIME * 2.01, False)):
        clock[0] = t
        assert jar.check(PEER, with_cookie) is ok, t
    assert not jar.check(("127.0.0.1", 40001), with_cookie) and jar.make(PEER, hello) != cookie


def test_dtls_failure_events_and_log_lines_are_bounded_and_escaped(caplog) -> None:
    net = Net(config=HandshakeConfig(failure_grace=0.0))
    nasty = b"\x1b[2J\x1b]0;owned\x07" + b"A" * 100  # clears the terminal, retitles it
    with caplog.at_level(logging.WARNING, logger="rig.dtls"):
        for port in range(41000, 41200):
            client = net.client(port=port, identity=nasty if port % 2 else b"B" * 400)
            client.start()
            with pytest.raises(ClientError):
                client.finish()
            net.engine.poll()
        suites = [0x1301 + i for i in range(900)]  # 900 offered suites, none PSK
        with pytest.raises(ClientError):
            net.client(port=42000, suites=tuple(suites)).handshake()
    failed = [e for e in net.events if e.kind == "handshake-failed"]
    assert len(failed) >= 200, "the engine's hooks still see every failure"
    recorded = net.timeline.events("dtls")
    assert len(recorded) <= EVENTS_PER_SECOND + 1 and len(caplog.records) <= EVENTS_PER_SECOND + 1
    for record in caplog.records:
        text = record.getMessage()
        assert len(text) <= MAX_LOG_LINE and "\x1b" not in text and "\x07" not in text, text
    for event in recorded:
        assert len(event.data["identity"] or "") <= MAX_LOGGED_TEXT * 4 + 30 and "\x1b" not in (event.data["identity"] or "")
    net.clock.t += 5
    client = net.client(port=43000, identity=b"nobody")
    client.start()
    with pytest.raises(ClientError):
        client.finish()
    net.engine.poll()
    last = net.timeline.events("dtls")[-1]
    assert last.data["suppressed"] >= 180, "the next failure recorded says how many were left out"


def test_dtls_no_common_suite_reason_names_a_few_suites_and_the_count() -> None:
    net = Net()
    with pytest.raises(ClientError):
        net.client(suites=tuple(0x1301 + i for i in range(900))).handshake()
    reason = net.events[-1].reason
    assert "(900 in all)" in reason and len(reason) < 200


def test_dtls_replay_window_takes_a_huge_jump_in_constant_work() -> None:
    window = ReplayWindow()
    window.accept(5)
    window.accept((1 << 47) + 3)  # shifting an int by the gap would allocate 16 TiB
    assert window.is_replay((1 << 47) + 3) and window.is_replay(5) and not window.is_replay((1 << 47) + 2)
    assert window._bits.bit_length() <= ReplayWindow.SIZE
    net = Net()
    client = net.client()
    client.handshake()
    client.write1.next_seq = (1 << 47) + 10
    client.send(b"far ahead")
    client.send(b"and on")
    client.write1.next_seq = 3
    client.send(b"stale")
    assert [d for _p, _i, d in net.delivered] == [b"far ahead", b"and on"]


def test_dtls_half_open_flood_never_pushes_out_a_session_and_is_reported_with_counts(caplog) -> None:
    net = Net(max_handshakes=16)
    board = net.client(port=40000)
    board.handshake()
    with caplog.at_level(logging.WARNING, logger="rig.dtls"):
        for port in range(50000, 50300):  # 300 cookie-verified half-open handshakes
            net.client(port=port).start()
        assert len(net.engine.handshakes) == 16 and net.engine.peers() == [PEER]
        floods = [e for e in net.events if e.kind == "handshake-flood"]
        assert len(floods) == 1 and "1 half-open" in floods[0].reason
        net.clock.t += FLOOD_WARNING_INTERVAL
        net.engine.poll()
    floods = [e for e in net.events if e.kind == "handshake-flood"]
    assert len(floods) == 2 and f"{300 - 16 - 1} half-open handshakes pushed out" in floods[1].reason
    assert sum("half-open" in r.getMessage() for r in caplog.records) == 2
    assert "closed" not in net.kinds()
    board.send(b"still here")
    assert net.delivered[-1] == (PEER, b"dev1", b"still here")
    assert net.engine.send(PEER, b"answer")


def test_dtls_sessions_held_by_a_registration_outlive_the_idle_purge_and_are_not_evicted() -> None:
    net = Net(max_sessions=2, idle_timeout=60.0)
    a, b = net.client(port=40000), net.client(port=40001)
    a.handshake()
    b.handshake()
    assert net.engine.keep(PEER, b"dev1", 3600.0)
    assert not net.engine.keep(PEER, b"dev2", 3600.0), "only for the session's own identity"
    net.clock.t += 120
    net.engine.poll()
    assert net.engine.peers() == [PEER], "the idle, unregistered session is purged; the registered one stays"
    net.client(port=40002).handshake()
    net.client(port=40003).handshake()
    assert PEER in net.engine.peers(), "a new session pushes out an unheld one, never the registered one"
    net.engine.keep(PEER, b"dev1", None)
    net.clock.t += 61
    net.engine.poll()
    assert PEER not in net.engine.peers()


def test_dtls_session_table_full_of_held_sessions_refuses_the_new_one() -> None:
    net = Net(max_sessions=1)
    net.client(port=40000).handshake()
    net.engine.keep(PEER, b"dev1", 3600.0)
    late = net.client(port=40001)
    with pytest.raises(ClientError, match="alert 80"):
        late.handshake()
    assert net.engine.peers() == [PEER] and "session table full" in net.events[-1].reason


def test_dtls_cbc_check_does_the_same_work_whatever_the_padding_says() -> None:
    from rig.lwm2m.dtls.suites import SUITES, TLS_PSK_WITH_AES_128_CBC_SHA256, BadRecordMac, CbcHmacProtection
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    write, _ = SUITES[TLS_PSK_WITH_AES_128_CBC_SHA256].key_block(bytes(48), b"c" * 32, b"s" * 32)
    read, _ = SUITES[TLS_PSK_WITH_AES_128_CBC_SHA256].key_block(bytes(48), b"c" * 32, b"s" * 32)
    assert isinstance(read, CbcHmacProtection)
    seq = bytes(8)

    def record(plain: bytes) -> bytes:  # encrypt 96 raw bytes (plaintext, MAC, padding as given)
        enc = Cipher(algorithms.AES(write._key), modes.CBC(bytes(16))).encryptor()
        return bytes(16) + enc.update(plain) + enc.finalize()

    good = write.seal(seq, CT_APPLICATION_DATA, DTLS_1_2, b"x" * 56)  # 56 + 32 MAC + 8 padding: 96 bytes, as below
    assert read.open(seq, CT_APPLICATION_DATA, DTLS_1_2, good) == b"x" * 56
    work = {"good": read.hashed_bytes}
    outcomes = {}
    for name, plain in {"bad padding": b"y" * 95 + b"\x07", "bad MAC, long padding": b"y" * 64 + bytes([31]) * 32,
                        "bad MAC, one padding byte": b"y" * 94 + b"\x01\x01", "bad MAC, no padding": b"y" * 95 + b"\x00"}.items():
        with pytest.raises(BadRecordMac) as err:
            read.open(seq, CT_APPLICATION_DATA, DTLS_1_2, record(plain))
        work[name], outcomes[name] = read.hashed_bytes, str(err.value)
    assert len(set(work.values())) == 1, f"SHA-256 work depends on the padding: {work}"
    assert len(set(outcomes.values())) == 1, f"the error tells padding from MAC failures: {outcomes}"


def test_readme_security_section_lists_every_bound_with_its_value() -> None:
    from pathlib import Path

    import rig.lwm2m.limits as limits

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Security"):readme.index("## Other commands")]
    shown = {
        "MAX_PSK_IDENTITY": "| 128 bytes |", "MAX_HANDSHAKE_MESSAGE": "| 512 bytes |", "MAX_CLIENT_HELLO": "| 2048 bytes |",
        "MAX_BUFFERED_MESSAGES": "| 4 |", "MAX_RECORDS_PER_DATAGRAM": "| 16 |", "MAX_HALF_OPEN_HANDSHAKES": "| 64 |",
        "HANDSHAKE_TIMEOUT": "| 30 s |", "HANDSHAKE_FAILURE_GRACE": "| 2 s |", "COOKIE_LIFETIME": "| 60 s |",
        "MAX_SESSIONS": "| 256 |", "SESSION_IDLE_TIMEOUT": "| 3600 s |", "EVENTS_PER_SECOND": "| 20 a second",
        "FLOOD_WARNING_INTERVAL": "one per 10 s", "MAX_LOG_LINE": "| 300 characters |", "MAX_LOGGED_TEXT": "| 64 characters |",
        "MAX_LISTED_SUITES": "| 8 |", "LOCATION_BYTES": "location | 8 |", "MAX_ENDPOINTS": "| 1024 |",
    }
    constants = {name for name in vars(limits) if name.isupper()}
    assert constants == set(shown), "a bound was added or removed: list it in README's security section"
    for name, text in shown.items():
        value = getattr(limits, name)
        assert f"{value:g}" in text and text in section, (name, value, text)
