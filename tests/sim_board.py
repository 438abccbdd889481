"""Test support for the virtual board: start a real supervisor subprocess, make images, sink registrations."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import aiocoap
from aiocoap import Code, Message
from aiocoap.resource import Resource, Site

from rig.flash_layout import FlashLayout, load_layout
from rig.mcuboot import read_image
from rig.netutil import free_port
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.sim.control import SupervisorClient

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "targets" / "virtual.toml"


def layout() -> FlashLayout:
    return load_layout(TARGET)


def make_image(directory: Path, version: str, size: int = 32 * 1024, seed: int = 1, marker: bytes = b"") -> Path:
    """A signed (hash-only) MCUboot image of `size` payload bytes, optionally carrying an image-behaviour marker."""
    payload = make_payload(size - len(marker), seed) + marker
    return sign_image(directory / f"fw-{version}-{seed}.bin", layout(), version, payload, slot="primary")


@dataclass
class Board:
    proc: subprocess.Popen
    console_port: int
    control_port: int
    unique_id: str
    directory: Path
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)

    @property
    def client(self) -> SupervisorClient:
        return SupervisorClient(self.control_port)

    def slot_image(self, slot: str):
        """The decoded image of a slot, read over the control channel (the debug port)."""
        with self.client as c:
            data = c.read_partition(slot)
        return read_image(data, layout())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_board(directory: Path, *args: str, image: Path | None = None, use_cli: bool = False,
                timeout: float = 15.0) -> Board:
    """`python -m rig.sim.supervisor` (or `rig sim`) as a real subprocess; returns once it printed its ports."""
    cmd = [sys.executable, "-m", "rig.cli", "sim"] if use_cli else [sys.executable, "-m", "rig.sim.supervisor"]
    cmd += ["--dir", str(directory), "--target", str(TARGET), *args]
    if image is not None:
        cmd += ["--image", str(image)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put("<eof>")

    threading.Thread(target=pump, daemon=True).start()
    found: dict[str, str] = {}
    while "control" not in found:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"board did not print its ports within {timeout} s") from None
        if line == "<eof>":
            raise AssertionError(f"board exited with {proc.wait()} before it was ready")
        key, _, value = line.partition(": ")
        found[key] = value
    return Board(proc, int(found["console"].rsplit(":", 1)[1]), int(found["control"].rsplit(":", 1)[1]),
                 found["debug-port"].split()[0], directory, lines)


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
