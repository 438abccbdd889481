"""The server engine on in-memory links with a fake clock, for the engine tests: no sockets, no waiting."""

from __future__ import annotations

from collections import defaultdict, deque

from rig.lwm2m.dtls import DtlsEvent, EngineHooks
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.dtls.pyengine import PyDtlsServerEngine
from rig.timeline import Timeline
from dtls_test_client import ClientError, DtlsTestClient

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Net:
    """The engine and in-memory links: what the engine sends to a peer queues up for that peer's client."""

    def __init__(self, **options: object) -> None:
        self.clock = FakeClock()
        self.timeline = Timeline()
        self.queues: dict[tuple, deque[bytes]] = defaultdict(deque)
        self.events: list[DtlsEvent] = []
        self.delivered: list[tuple[tuple, bytes, bytes]] = []
        self.sent: list[tuple[tuple, bytes]] = []  # every datagram the engine sent, in order
        store = PskStore.parse(["dev1:dev1:" + KEY.hex(), "dev2:dev2:" + KEY[::-1].hex()])
        hooks = EngineHooks(self._send, lambda p, i, d: self.delivered.append((p, i, d)), self.events.append)
        self.engine = PyDtlsServerEngine(store.key_for_identity, hooks, clock=self.clock, timeline=self.timeline, **options)

    def _send(self, peer: tuple, data: bytes) -> None:
        self.sent.append((peer, data))
        self.queues[peer].append(data)

    def client(self, port: int = 40000, identity: bytes = b"dev1", key: bytes = KEY, **kw: object) -> DtlsTestClient:
        return DtlsTestClient(MemLink(self, ("127.0.0.1", port)), identity, key, **kw)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class MemLink:
    def __init__(self, net: Net, peer: tuple, queue: deque[bytes] | None = None) -> None:
        self.net, self.peer = net, peer
        self.queue = net.queues[peer] if queue is None else queue

    def send(self, data: bytes) -> None:
        self.net.engine.receive(self.peer, data)

    def recv(self) -> bytes:
        if not self.queue:
            raise ClientError("nothing from the server")
        return self.queue.popleft()

    def close(self) -> None:
        pass
