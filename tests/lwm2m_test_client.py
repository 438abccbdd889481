"""A small aiocoap LwM2M client for server tests: registers, answers Read/Write/Execute/Observe.

It encodes answers itself (text/plain for single resources, hand-written TLV for
/5/0), not with rig.lwm2m.codecs, so a codec bug on the server side cannot hide
behind the same bug here.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

import aiocoap
from aiocoap import Code
from aiocoap.resource import ObservableResource, Resource, Site

from rig.netutil import free_port


def tlv_resource(rid: int, value: bytes) -> bytes:
    """TLV 'resource with value' with an 8-bit id (OMA-TS-LightweightM2M-Core 7.4.3)."""
    length = len(value)
    if length < 8:
        return bytes([0b11000000 | length, rid]) + value
    if length < 256:
        return bytes([0b11001000, rid, length]) + value
    return bytes([0b11010000, rid]) + struct.pack(">H", length) + value


def tlv_int(value: int) -> bytes:
    for fmt, lo, hi in ((">b", -128, 127), (">h", -(2**15), 2**15 - 1), (">i", -(2**31), 2**31 - 1)):
        if lo <= value <= hi:
            return struct.pack(fmt, value)
    return struct.pack(">q", value)


@dataclass
class FakeObject5:
    state: int = 0
    result: int = 0
    uri: str = ""
    package: bytes = b""
    executed: int = 0
    writes: list[tuple[str, bytes]] = field(default_factory=list)


class ResourceNode(ObservableResource):
    def __init__(self, client: "Lwm2mTestClient", rid: int) -> None:
        super().__init__()
        self.client = client
        self.rid = rid

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        self.client.seen.append(("GET", f"/5/0/{self.rid}"))
        value = self.client.value(self.rid)
        if value is None:
            return aiocoap.Message(code=Code.METHOD_NOT_ALLOWED)
        return aiocoap.Message(payload=str(value).encode(), content_format=0)

    async def render_put(self, request: aiocoap.Message) -> aiocoap.Message:
        self.client.seen.append(("PUT", f"/5/0/{self.rid}"))
        return self.client.write(self.rid, bytes(request.payload))

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        self.client.seen.append(("POST", f"/5/0/{self.rid}"))
        return self.client.execute(self.rid)


class Object5Instance(Resource):
    """Answers GET /5/0 as TLV; PUT /5/0?pmin=.. as Write-Attributes."""

    def __init__(self, client: "Lwm2mTestClient") -> None:
        super().__init__()
        self.client = client

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        obj = self.client.obj
        body = (
            tlv_resource(1, obj.uri.encode())
            + tlv_resource(3, tlv_int(obj.state))
            + tlv_resource(5, tlv_int(obj.result))
            + tlv_resource(7, b"1.0.0")
        )
        return aiocoap.Message(payload=body, content_format=11542)

    async def render_put(self, request: aiocoap.Message) -> aiocoap.Message:
        self.client.attributes.append(tuple(request.opt.uri_query))
        return aiocoap.Message(code=Code.CHANGED)


class Lwm2mTestClient:
    """Registers as `endpoint` with `</1/0>,</3/0>,</5>;ver=1.1,</5/0>` and holds a FakeObject5."""

    def __init__(self, endpoint: str, server_port: int, host: str = "127.0.0.1") -> None:
        self.endpoint = endpoint
        self.server = f"coap://{host}:{server_port}"
        self.host = host
        self.obj = FakeObject5()
        self.attributes: list[tuple[str, ...]] = []
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request its resources rendered, in order
        self.nodes: dict[int, ResourceNode] = {}
        self.context: aiocoap.Context | None = None
        self.location: str | None = None
        self.package_done = asyncio.Event()

    def value(self, rid: int) -> object:
        return {1: self.obj.uri, 3: self.obj.state, 5: self.obj.result, 7: "1.0.0", 9: 2}.get(rid)

    def set_state(self, state: int, result: int | None = None) -> None:
        self.obj.state = state
        if result is not None:
            self.obj.result = result
        for rid in (3, 5):
            if rid in self.nodes:
                self.nodes[rid].updated_state()

    def write(self, rid: int, payload: bytes) -> aiocoap.Message:
        self.obj.writes.append((str(rid), payload))
        if rid == 0:
            self.obj.package = payload
            self.package_done.set()
            self.set_state(2)
            return aiocoap.Message(code=Code.CHANGED)
        if rid == 1:
            self.obj.uri = payload.decode()
            return aiocoap.Message(code=Code.CHANGED)
        return aiocoap.Message(code=Code.METHOD_NOT_ALLOWED)

    def execute(self, rid: int) -> aiocoap.Message:
        if rid != 2:
            return aiocoap.Message(code=Code.METHOD_NOT_ALLOWED)
        if self.obj.state != 2:
            return aiocoap.Message(code=Code.METHOD_NOT_ALLOWED)
        self.obj.executed += 1
        self.set_state(3)
        return aiocoap.Message(code=Code.CHANGED)

    async def start(self, links: bytes = b"</1/0>,</3/0>,</5>;ver=1.1,</5/0>", lifetime: int = 60,
                    queue_mode: bool = False) -> None:
        site = Site()
        for rid in (0, 1, 2, 3, 5, 7, 9):
            node = ResourceNode(self, rid)
            self.nodes[rid] = node
            site.add_resource(("5", "0", str(rid)), node)
        site.add_resource(("5", "0"), Object5Instance(self))
        self.context = await aiocoap.Context.create_server_context(site, bind=(self.host, free_port()), transports=["udp6"])
        await self.register(links, lifetime, queue_mode)

    async def register(self, links: bytes, lifetime: int = 60, queue_mode: bool = False) -> aiocoap.Message:
        assert self.context is not None
        req = aiocoap.Message(
            code=Code.POST,
            uri=f"{self.server}/rd?ep={self.endpoint}&lt={lifetime}&lwm2m=1.1&b=U" + ("&Q" if queue_mode else ""),
            payload=links,
            content_format=40,
        )
        response = await self.context.request(req).response
        if response.code == Code.CREATED:
            self.location = "/".join(response.opt.location_path)
        return response

    async def update(self) -> aiocoap.Message:
        assert self.context is not None and self.location
        req = aiocoap.Message(code=Code.POST, uri=f"{self.server}/{self.location}")
        return await self.context.request(req).response

    async def deregister(self) -> aiocoap.Message:
        assert self.context is not None and self.location
        req = aiocoap.Message(code=Code.DELETE, uri=f"{self.server}/{self.location}")
        return await self.context.request(req).response

    async def stop(self) -> None:
        if self.context is not None:
            await self.context.shutdown()
