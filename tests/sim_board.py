"""Test support for the virtual board: start a real supervisor subprocess, make images, sink registrations."""

from __future__ import annotations

import asyncio
from dataclasses import fields
from pathlib import Path

import aiocoap
from aiocoap import Code, Message
from aiocoap.resource import Resource, Site

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot import read_image
from rig.netutil import free_port
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.sim.control import SupervisorClient
from rig.sim.launcher import VirtualBoard, start_virtual_board

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "targets" / "virtual.toml"


def layout() -> FlashLayout:
    return load_layout(TARGET)


def make_image(directory: Path, version: str, size: int = 32 * 1024, seed: int = 1, marker: bytes = b"") -> Path:
    """A signed (hash-only) MCUboot image of `size` payload bytes, optionally carrying an image-behaviour marker."""
    payload = make_payload(size - len(marker), seed) + marker
    return sign_image(directory / f"fw-{version}-{seed}.bin", layout(), version, payload, slot="primary")


def flash_holding(layout: FlashLayout, primary: bytes, secondary: bytes | None = None):
    """An in-memory flash (rig.sim.flash.Flash) with these bytes at the start of the slots, the rest erased."""
    from rig.sim.flash import Flash

    flash = Flash(layout)
    buf = bytearray(flash.snapshot())
    for name, data in (("primary", primary), ("secondary", secondary)):
        if data is not None:
            off = layout.partition(name).offset
            buf[off:off + len(data)] = data
    flash.restore(bytes(buf))
    return flash


class Board(VirtualBoard):
    """The launcher's board plus what tests read through its debug port."""

    @property
    def client(self) -> SupervisorClient:
        return SupervisorClient(self.control_port)

    def slot_image(self, slot: str):
        """The decoded image of a slot, read over the control channel (the debug port)."""
        with self.client as c:
            data = c.read_partition(slot)
        return read_image(data, layout())


def start_board(directory: Path, *args: str, image: Path | None = None, use_cli: bool = False,
                timeout: float = 15.0) -> Board:
    """`python -m rig.sim.board_cli` (or `rig sim`) as a real subprocess; returns once it printed its ports."""
    board = start_virtual_board(directory, TARGET, image=image, extra=args, timeout=timeout, via_cli=use_cli)
    return Board(**{f.name: getattr(board, f.name) for f in fields(VirtualBoard)})


class RegistrationSink(Resource):
    """A minimal LwM2M registration endpoint: records who registered, from where, with what links."""

    def __init__(self) -> None:
        super().__init__()
        self.registrations: asyncio.Queue[dict] = asyncio.Queue()
        self.count = 0

    async def render_post(self, request: Message) -> Message:
        query = dict(q.partition("=")[::2] for q in request.opt.uri_query)
        self.count += 1
        await self.registrations.put({"query": query, "links": request.payload.decode(), "remote": request.remote.uri_base})
        return Message(code=Code.CREATED, location_path=["rd", str(self.count)])


class UpdateSink(Resource):
    async def render_post(self, request: Message) -> Message:
        return Message(code=Code.CHANGED)


async def sink_server(port: int = 0) -> tuple[aiocoap.Context, RegistrationSink, int]:
    site = Site()
    sink = RegistrationSink()
    site.add_resource(["rd"], sink)
    for n in range(1, 50):
        site.add_resource(["rd", str(n)], UpdateSink())
    port = port or free_port()
    ctx = await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", port), transports=["udp6"])
    return ctx, sink, port
