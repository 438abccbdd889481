"""A DTLS 1.2 PSK client association with one server: handshake on demand, data both ways, loss detection.

Why a client at all: the virtual board must reach the rig over coaps the way a
device does (one socket, its own handshake, power cuts that lose the session),
and the pure-Python suites and records of the server engine make that possible
without a native library (see the package docstring).

Like the server engine it is free of asyncio: bytes and a clock in, datagrams,
plaintext and `DtlsEvent`s out through `ClientHooks`, so tests drive it against
the server engine with byte strings and a fake clock. Data sent without a
session is queued (bounded) and starts a handshake; the queue is flushed once
the session is up, or dropped with a "handshake-failed" event that says why.
A session is considered lost (the next `send` handshakes again) on a fatal
alert or close_notify, on the server's HelloRequest, on several undecryptable
records in a row, or when the owner calls `drop` (e.g. its retransmissions go
unanswered: a restarted server silently ignores records of a session it forgot).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from rig.lwm2m.dtls import DtlsEvent, DtlsReporter, Peer
from rig.lwm2m.dtls import messages as m
from rig.lwm2m.dtls.client_handshake import ClientConfig, ClientHandshake, ClientSession, alert_text
from rig.lwm2m.dtls.handshake import HandshakeFailed
from rig.lwm2m.dtls.records import (
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_HANDSHAKE,
    LATER_EPOCH_VERSIONS,
    EPOCH0_VERSIONS,
    Record,
    WriteState,
    parse_records,
)
from rig.lwm2m.dtls.suites import BadRecordMac

UNDECRYPTABLE_LIMIT = 3


@dataclass
class ClientHooks:
    """How the client engine talks back: datagrams to the server, plaintext received, session events."""

    send_datagram: Callable[[bytes], None]
    deliver: Callable[[bytes], None]
    event: Callable[[DtlsEvent], None] = field(default=lambda _event: None)


class DtlsClientEngine:
    def __init__(
        self,
        peer: Peer,
        identity: bytes,
        psk: bytes,
        hooks: ClientHooks,
        clock: Callable[[], float] = time.monotonic,
        config: ClientConfig | None = None,
        max_queue: int = 32,
        timeline: Any = None,
    ) -> None:
        self.peer = peer
        self.identity = identity
        self._psk = psk
        self._hooks = hooks
        self._clock = clock
        self.config = config or ClientConfig()
        self._queue: deque[bytes] = deque(maxlen=max_queue)
        self._report = DtlsReporter(timeline, clock)
        self.session: ClientSession | None = None
        self.handshake: ClientHandshake | None = None
        self.last_receive = float("-inf")  # clock time of the last authentic record from the server
        self.failure: str | None = None  # why the last handshake failed
        self.handshakes = 0
        self._undecryptable = 0
        self._had_session = False

    @property
    def state(self) -> str:
        if self.session is not None:
            return "established"
        return "handshaking" if self.handshake is not None else "idle"

    @property
    def suite(self) -> str:
        return self.session.suite.name if self.session is not None else ""

    # -- API -----------------------------------------------------------------------------------

    def connect(self) -> None:
        """Start a handshake unless one runs or a session exists."""
        if self.session is None and self.handshake is None:
            self.handshakes += 1
            self.handshake = ClientHandshake(self.identity, self._psk, self.config, self._clock())
            self._send_all(self.handshake.flight_datagrams())

    def send(self, plaintext: bytes) -> None:
        """Send application data now, or queue it and handshake first."""
        if self.session is not None:
            self._hooks.send_datagram(self.session.write.seal(CT_APPLICATION_DATA, plaintext))
            return
        self._queue.append(plaintext)
        self.connect()

    def receive(self, datagram: bytes) -> None:
        now = self._clock()
        for record in parse_records(datagram):
            if record.version not in (EPOCH0_VERSIONS if record.epoch == 0 else LATER_EPOCH_VERSIONS):
                continue
            if self.handshake is not None:
                self._to_handshake(record, now)
            elif self.session is not None:
                self._to_session(record, now)

    def poll(self) -> None:
        hs = self.handshake
        now = self._clock()
        if hs is not None and now >= hs.next_deadline():
            try:
                self._send_all(hs.poll(now))
            except HandshakeFailed as exc:
                self._fail(exc)

    def next_deadline(self) -> float | None:
        return self.handshake.next_deadline() if self.handshake is not None else None

    def drop(self, reason: str) -> None:
        """Forget the session without telling the server (it is gone or deaf); the next send handshakes."""
        if self.session is not None:
            self.session = None
            self._emit(DtlsEvent("closed", self.peer, self.identity, reason))

    def close(self) -> None:
        """close_notify to the server, forget the session and any handshake and queue."""
        if self.session is not None:
            self._hooks.send_datagram(self.session.write.seal(CT_ALERT, m.alert(m.LEVEL_WARNING, m.ALERT_CLOSE_NOTIFY)))
        self.handshake = None
        self._queue.clear()
        self.drop("closed by the client")

    # -- routing -------------------------------------------------------------------------------

    def _to_handshake(self, record: Record, now: float) -> None:
        hs = self.handshake
        assert hs is not None
        try:
            out = hs.handle(record, now)
        except HandshakeFailed as exc:
            self._fail(exc)
            return
        self._send_all(out)
        if hs.result is not None:
            self.handshake, self.session = None, hs.result
            self.last_receive, self._undecryptable = now, 0
            self._emit(DtlsEvent("handshake-ok", self.peer, self.identity, suite=hs.result.suite.name,
                                 replaced=self._had_session))
            self._had_session = True
            while self._queue and self.session is not None:
                self.send(self._queue.popleft())

    def _to_session(self, record: Record, now: float) -> None:
        session = self.session
        assert session is not None
        if record.epoch == 0:
            if record.content_type == CT_ALERT and len(record.body) >= 2 and record.body[0] == m.LEVEL_FATAL:
                self.drop(f"server sent fatal alert {alert_text(record.body[1])}")
            return  # late copies of handshake flights
        if record.epoch != 1:
            return
        try:
            plaintext = session.read.open(record)
        except BadRecordMac:
            self._undecryptable += 1
            if self._undecryptable >= UNDECRYPTABLE_LIMIT:
                self.drop(f"{self._undecryptable} undecryptable records in a row: the server has another session")
            return
        if plaintext is None:
            return
        self._undecryptable = 0
        self.last_receive = now
        if record.content_type == CT_APPLICATION_DATA:
            self._hooks.deliver(plaintext)
        elif record.content_type == CT_ALERT and len(plaintext) >= 2:
            if plaintext[1] == m.ALERT_CLOSE_NOTIFY or plaintext[0] == m.LEVEL_FATAL:
                self.drop(f"server sent alert {alert_text(plaintext[1])}")
        elif record.content_type == CT_HANDSHAKE and plaintext[:1] == bytes([m.HELLO_REQUEST]):
            self.drop("server sent HelloRequest")

    # -- helpers -------------------------------------------------------------------------------

    def _fail(self, exc: HandshakeFailed) -> None:
        self.handshake = None
        self._queue.clear()
        self.failure = exc.reason
        if exc.alert is not None:
            self._hooks.send_datagram(WriteState().seal(CT_ALERT, m.alert(m.LEVEL_FATAL, exc.alert)))
        self._emit(DtlsEvent("handshake-failed", self.peer, self.identity, exc.reason))

    def _send_all(self, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            self._hooks.send_datagram(datagram)

    def _emit(self, event: DtlsEvent) -> None:
        self._report(event)
        self._hooks.event(event)
