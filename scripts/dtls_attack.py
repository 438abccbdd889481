"""Hostile traffic against a live `rig serve` on this machine; prints what held (issue 17).

Start the server with one endpoint's key, then point this at it with the same key:

    rig serve --firmware fw --port 5683 --psk dev1:id1:$(printf secret-one | xxd -p) &
    .venv/bin/python scripts/dtls_attack.py --port 5683 --psk dev1:id1:$(printf secret-one | xxd -p)

It plays the board (registers dev1 over coaps with the key) and, around it, the
strangers: NoSec Register / Update / De-register of dev1, a flood of cookie-verified
half-open handshakes, ClientHellos stacked in one datagram, spoofed records in the
middle of a handshake, oversized hellos and identities, a huge record-number jump,
a wrong key. After each it checks that the board's own session still gets answers.
Loopback only (it refuses any other address), and bounded: at most --count packets
per scenario and --time-limit seconds in all. Exit 0 if everything held, 1 if not,
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
import time
from typing import Callable

import aiocoap
from aiocoap import Code

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.client_engine import ClientHooks, DtlsClientEngine
from rig.lwm2m.dtls.client_handshake import ClientConfig
from rig.lwm2m.dtls.psk import PskEntry, parse_psk_spec
from rig.lwm2m.dtls.records import CT_ALERT, CT_HANDSHAKE, DTLS_1_2, encode_record, parse_records
from rig.errors import RigError

MAX_COUNT = 2000
MAX_TIME = 300.0


class Board:
    """A blocking coaps client on its own socket, over the rig's own DTLS client engine."""

    def __init__(self, server: tuple[str, int], identity: bytes, key: bytes, deadline: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.server, self.deadline = server, deadline
        self.intercept: Callable[[bytes], bool] | None = None  # True: it sent the datagram its own way
        self.got: list[bytes] = []
        self.events: list[str] = []
        hooks = ClientHooks(self._send, self.got.append, lambda e: self.events.append(f"{e.kind}: {e.reason}"))
        config = ClientConfig(handshake_timeout=10.0)
        self.engine = DtlsClientEngine(server, identity, key, hooks, clock=time.monotonic, config=config)
        self._mid = int.from_bytes(os.urandom(2), "big")

    def _send(self, data: bytes) -> None:
        if self.intercept is None or not self.intercept(data):
            self.sock.sendto(data, self.server)

    def pump(self, until: Callable[[], bool], timeout: float) -> bool:
        end = min(time.monotonic() + timeout, self.deadline)
        while not until():
            now = time.monotonic()
            wake = min(end, self.engine.next_deadline() or end)
            if now >= end:
                return False
            self.sock.settimeout(max(0.001, wake - now))
            try:
                data, _ = self.sock.recvfrom(65536)
                self.engine.receive(data)
            except socket.timeout:
                self.engine.poll()
        return True

    def connect(self, timeout: float = 10.0) -> bool:
        self.engine.connect()
        return self.pump(lambda: self.engine.state != "handshaking", timeout) and self.engine.state == "established"

    def request(self, code: Code, path: tuple[str, ...], query: tuple[str, ...] = (), payload: bytes = b"",
                timeout: float = 5.0) -> aiocoap.Message | None:
        self._mid = (self._mid + 1) & 0xFFFF
        msg = aiocoap.Message(code=code, uri_path=path, uri_query=query, payload=payload)
        msg.mtype, msg.mid, msg.token = aiocoap.CON, self._mid, self._mid.to_bytes(2, "big")
        self.got.clear()
        self.engine.send(msg.encode())
        answered = lambda: any(aiocoap.Message.decode(g).mid == self._mid for g in self.got)  # noqa: E731
        if not self.pump(answered, timeout):
            return None
        return next(a for a in map(aiocoap.Message.decode, self.got) if a.mid == self._mid)

    def close(self) -> None:
        self.sock.close()


def plain_request(server: tuple[str, int], code: Code, path: tuple[str, ...], query: tuple[str, ...] = ()) -> Code | None:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=query, payload=b"</5>")
    msg.mtype, msg.mid, msg.token = aiocoap.CON, 7, b"\x07"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5.0)
        sock.sendto(msg.encode(), server)
        try:
            return aiocoap.Message.decode(sock.recvfrom(65536)[0]).code
        except socket.timeout:
            return None


def hello_record(suites: list[int], cookie: bytes = b"", seq: int = 0) -> bytes:
    body = m.ClientHello(DTLS_1_2, os.urandom(32), b"", cookie, suites, b"\x00").encode()
    return encode_record(CT_HANDSHAKE, DTLS_1_2, 0, seq, m.whole_message(m.CLIENT_HELLO, 0, body))


def half_open(server: tuple[str, int], count: int, deadline: float) -> int:
    """Cookie-verified ClientHellos from `count` sockets; returns how many got as far as a server flight."""
    socks = []
    started = 0
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(2.0)
            socks.append(sock)
            suites = [0xC0A8]
            random = os.urandom(32)
            first = m.ClientHello(DTLS_1_2, random, b"", b"", suites, b"\x00").encode()
            sock.sendto(encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 0, m.whole_message(m.CLIENT_HELLO, 0, first)), server)
            try:
                hvr = parse_records(sock.recvfrom(65536)[0])[0]
            except (socket.timeout, IndexError):
                continue
            cookie = m.parse_cookie(m.parse_fragments(hvr.body)[0].body)
            second = m.ClientHello(DTLS_1_2, random, b"", cookie, suites, b"\x00").encode()
            sock.sendto(encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 1, m.whole_message(m.CLIENT_HELLO, 1, second)), server)
            started += 1
    finally:
        for sock in socks:
            sock.close()
    return started


def answers_after_hellos_in_one_datagram(server: tuple[str, int], count: int) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(b"".join(hello_record([0xC0A8], seq=i) for i in range(count)), server)
        sock.settimeout(1.0)
        answers = 0
        try:
            while True:
                sock.recvfrom(65536)
                answers += 1
        except socket.timeout:
            return answers


def run(args: argparse.Namespace, entry: PskEntry) -> int:
    deadline = time.monotonic() + args.time_limit
    coap, coaps = (args.host, args.port), (args.host, args.port + 1)
    results: list[tuple[bool, str]] = []

    def check(held: bool, what: str) -> None:
        results.append((held, what))
        print(f"{'held ' if held else 'BROKE'}  {what}", flush=True)

    code = plain_request(coap, Code.POST, ("rd",), (f"ep={entry.endpoint}", "lt=300"))
    check(code == Code.FORBIDDEN, f"NoSec Register as {entry.endpoint}: {code}")
    board = Board(coaps, entry.identity, entry.key, deadline)
    if not board.connect():
        print(f"error: the board could not handshake with coaps://{coaps[0]}:{coaps[1]} ({board.events}); "
              "is rig serve running with the same --psk?", file=sys.stderr)
        return 1
    created = board.request(Code.POST, ("rd",), (f"ep={entry.endpoint}", "lt=300"), b"</3/0>,</5/0>")
    if created is None or created.code != Code.CREATED:
        print(f"error: the board's Register got {created and created.code}", file=sys.stderr)
        return 1
    location = created.opt.location_path

    def board_served(after: str) -> None:
        answer = board.request(Code.POST, location, ("lt=300",))
        check(answer is not None and answer.code == Code.CHANGED, f"{after}: the board's Update over its session "
              f"answered {answer and answer.code}")

    for code, name in ((Code.POST, "Update"), (Code.DELETE, "De-register")):
        got = plain_request(coap, code, location)
        check(got == Code.FORBIDDEN, f"NoSec {name} of {entry.endpoint}'s location: {got}")
    started = half_open(coaps, args.count, deadline)
    board_served(f"{started} cookie-verified half-open handshakes")
    answers = answers_after_hellos_in_one_datagram(coaps, min(args.count, 10))
    check(answers == 1, f"{min(args.count, 10)} ClientHellos in one datagram: {answers} datagram(s) back")

    for name, junk in (
        ("forged epoch-1 record", encode_record(CT_HANDSHAKE, DTLS_1_2, 1, 0, os.urandom(48))),
        ("plaintext fatal alert", encode_record(CT_ALERT, DTLS_1_2, 0, 90, bytes([2, 40]))),
        ("malformed fragment", encode_record(CT_HANDSHAKE, DTLS_1_2, 0, 91, b"\x10\x00\x00\x09\x00\x02\x00\x00\x00\x00\x00\x09ab")),
    ):
        spoofed: list[bytes] = []
        rebooted = Board(coaps, entry.identity, entry.key, deadline)

        def inject(data: bytes, junk: bytes = junk, spoofed: list[bytes] = spoofed, client: Board = rebooted) -> bool:
            """The final flight in two datagrams with the junk between, from the client's own address: the
            server holds the client's ClientKeyExchange, not yet its Finished, when the junk comes."""
            records = parse_records(data)
            if spoofed or not any(r.epoch == 1 for r in records):
                return False
            spoofed.append(junk)
            raw = [(r.epoch, encode_record(r.content_type, r.version, r.epoch, r.seq, r.body)) for r in records]
            client.sock.sendto(b"".join(b for epoch, b in raw if epoch == 0), coaps)
            client.sock.sendto(junk, coaps)
            client.sock.sendto(b"".join(b for epoch, b in raw if epoch == 1), coaps)
            return True

        rebooted.intercept = inject
        ok = rebooted.connect()
        check(ok and bool(spoofed), f"{name} in the middle of a handshake: handshake {'completed' if ok else rebooted.events}")
        rebooted.close()

    for name, record in (
        ("an oversized ClientHello (1100 suites)", hello_record([0x1301] * 1100)),
        ("a ClientHello offering 900 suites, none PSK", hello_record([0x1301 + i for i in range(900)])),
    ):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.sendto(record, coaps)
        board_served(name)
    nasty = Board(coaps, b"\x1b[2J\x1b]0;owned\x07" + b"A" * 300, entry.key, deadline)
    check(not nasty.connect(timeout=5.0), "a 314-byte identity with terminal escapes: refused")
    nasty.close()
    wrong = Board(coaps, entry.identity, b"not-the-key", deadline)
    started_at = time.monotonic()
    wrong.connect(timeout=8.0)
    heard = [e for e in wrong.events if "fatal alert" in e]
    check(bool(heard) and time.monotonic() - started_at < 8.0,
          f"a wrong key is told within {time.monotonic() - started_at:.1f} s: {heard[:1]}")
    wrong.close()
    assert board.engine.session is not None
    board.engine.session.write.next_seq = (1 << 47) + 5
    started_at = time.monotonic()
    board_served("a record number jump to 2**47")
    check(time.monotonic() - started_at < 2.0, f"the jump cost {time.monotonic() - started_at:.2f} s")
    board.request(Code.DELETE, location)
    board.close()
    held = sum(ok for ok, _ in results)
    print(f"{held} of {len(results)} held", flush=True)
    return 0 if held == len(results) else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="the rig serve address; loopback only (default 127.0.0.1)")
    p.add_argument("--port", type=int, required=True, help="rig serve's coap port (coaps is port+1)")
    p.add_argument("--psk", required=True, metavar="ENDPOINT:IDENTITY:HEXKEY", help="the key rig serve has for one endpoint")
    p.add_argument("--count", type=int, default=300, help=f"packets per flood scenario (at most {MAX_COUNT})")
    p.add_argument("--time-limit", type=float, default=60.0, help=f"seconds in all (at most {MAX_TIME:g})")
    args = p.parse_args(argv)
    try:
        if not ipaddress.ip_address(args.host).is_loopback:
            raise RigError(f"--host {args.host}: refusing a non-loopback address; this script only attacks this machine")
        if not 1 <= args.count <= MAX_COUNT:
            raise RigError(f"--count {args.count}: must be 1..{MAX_COUNT}")
        if not 0 < args.time_limit <= MAX_TIME:
            raise RigError(f"--time-limit {args.time_limit:g}: must be more than 0 and at most {MAX_TIME:g} s")
        if not 0 < args.port < 65535:
            raise RigError(f"--port {args.port}: must be 1..65534 (coaps is port+1)")
        entry = parse_psk_spec(args.psk)
    except ValueError:
        print(f"dtls_attack: error: --host {args.host}: not an IP address (loopback only)", file=sys.stderr)
        return 2
    except RigError as exc:
        print(f"dtls_attack: error: {exc}", file=sys.stderr)
        return 2
    return run(args, entry)


if __name__ == "__main__":
    sys.exit(main())
