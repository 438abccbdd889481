"""A small aiocoap site behind plain coap and coaps, for the DTLS transport tests.

/fw serves 1 MiB (aiocoap slices it block-wise), /hello says who asked, and
/rd takes registration-like POSTs and answers 4.03 when the DTLS identity
does not belong to the `ep` being registered — the check the lead's RD does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import aiocoap
import aiocoap.resource as resource
from aiocoap import Code

from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.dtls.transport import CoapsEndpoint, attach_coaps
from rig.netutil import free_udp_pair

PAYLOAD = random.Random(5).randbytes(1 << 20)
KEYS = {b"dev1": b"secret-one", b"dev2": b"secret-two"}
STORE = PskStore.parse([f"{i.decode()}:{i.decode()}:{k.hex()}" for i, k in KEYS.items()])


class Firmware(resource.Resource):
    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        return aiocoap.Message(payload=PAYLOAD)


class Hello(resource.Resource):
    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        return aiocoap.Message(payload=b"hello " + getattr(request.remote, "psk_identity", b"plain"))


@dataclass
class Registrations(resource.Resource):
    store: PskStore
    remotes: dict[str, Any] = field(default_factory=dict)
    count: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        super().__init__()

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        ep = dict(q.split("=", 1) for q in request.opt.uri_query if "=" in q).get("ep")
        identity = getattr(request.remote, "psk_identity", None)
        if identity is None or self.store.endpoint_for_identity(identity) != ep:
            return aiocoap.Message(code=Code.FORBIDDEN)
        self.remotes[ep] = request.remote
        self.count += 1
        self.arrived.set()
        return aiocoap.Message(code=Code.CREATED, location_path=["rd", ep])


@dataclass
class RigServer:
    context: aiocoap.Context
    coaps: CoapsEndpoint
    registrations: Registrations
    coap_port: int

    @property
    def coaps_port(self) -> int:
        return self.coap_port + 1


@contextlib.asynccontextmanager
async def rig_server(timeline: Any = None, **engine_options: Any) -> AsyncIterator[RigServer]:
    """coap on P and coaps on P+1 for one site, the way the lead's server sets them up."""
    port = free_udp_pair()
    site = resource.Site()
    registrations = Registrations(STORE)
    site.add_resource(["fw"], Firmware())
    site.add_resource(["hello"], Hello())
    site.add_resource(["rd"], registrations)
    context = await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", port))
    coaps = await attach_coaps(context, "127.0.0.1", port + 1, STORE, timeline=timeline, **engine_options)
    try:
        yield RigServer(context, coaps, registrations, port)
    finally:
        await coaps.close()
        await context.shutdown()
