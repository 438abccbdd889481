"""The virtual board's control channel: power and debug-port operations as JSON lines over TCP.

One request per line, one answer per line: `{"op": "power", "action": "cut"}` ->
`{"ok": true, "power": "off", ...}` or `{"ok": false, "error": "target unpowered"}`.
It stands in for the Pi's relay and the SWD probe, so its operations are the ones a
probe plugin needs (read/erase/program over the target's memory map, halt/resume/
reset, a unique id) and the ones a relay has (on/off/cut/status). `{"op": "events"}`
turns a connection into a stream of event lines (power, mcu start/exit, console,
flash-cut). `{"op": "arm-cut", "flash_op": N, "torn": bool, "seed": S}` makes the next
MCU start (power-on or reboot) lose power at its flash operation N, counted from
its reset; `{"op": "disarm-cut"}` takes that back. The board then stays off until
powered on, and `status` tells the cut in "last_cut".
"""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass
from typing import Any, Iterator

from rig.errors import RigError

OPS = ("info", "power", "halt", "resume", "reset", "read", "erase", "program", "arm-cut", "disarm-cut", "events")
POWER_ACTIONS = ("on", "off", "cut", "status")


class SupervisorError(RigError):
    """The supervisor refused an operation (e.g. "target unpowered") or could not be reached."""


def encode_line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def decode_line(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise SupervisorError(f"control line is not JSON: {line[:80]!r} ({exc})") from None
    if not isinstance(message, dict):
        raise SupervisorError(f"control line is not a JSON object: {line[:80]!r}")
    return message


def pack_data(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unpack_data(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SupervisorError("data must be base64") from None


@dataclass(frozen=True)
class BoardInfo:
    """What `info` tells: enough for a probe plugin to build a memory map."""

    unique_id: str
    target: str
    flash_base: int
    flash_size: int
    sector_size: int
    write_size: int
    erased_value: int
    partitions: dict[str, tuple[int, int]]
    console_port: int
    power: str
    run_state: str


class SupervisorClient:
    """Blocking client of one supervisor's control port (the rig calls it from threads)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            except OSError as exc:
                raise SupervisorError(f"no virtual board supervisor at {self.host}:{self.port}: {exc}") from None
        return self._sock

    def _read_line(self, sock: socket.socket) -> bytes:
        while b"\n" not in self._buffer:
            chunk = sock.recv(65536)
            if not chunk:
                self.close()
                raise SupervisorError(f"supervisor at {self.host}:{self.port} closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one operation and return the answer; a refusal raises SupervisorError with its reason."""
        sock = self._connect()
        try:
            sock.sendall(encode_line({"op": op, **args}))
            answer = decode_line(self._read_line(sock))
        except OSError as exc:
            self.close()
            raise SupervisorError(f"control channel {self.host}:{self.port}: {exc}") from None
        if not answer.get("ok"):
            raise SupervisorError(str(answer.get("error", "operation failed")))
        return answer

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""

    def __enter__(self) -> "SupervisorClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # relay
    def power_on(self, halted: bool = False) -> dict[str, Any]:
        """Power the target; `halted` holds it in reset (connect-under-reset) until resume/reset."""
        return self.request("power", action="on", halted=halted)

    def power_off(self) -> dict[str, Any]:
        return self.request("power", action="off")

    def cut(self) -> dict[str, Any]:
        return self.request("power", action="cut")

    def status(self) -> dict[str, Any]:
        return self.request("power", action="status")

    def is_on(self) -> bool:
        return self.status()["power"] == "on"

    def arm_cut(self, flash_op: int, torn: bool = False, seed: int = 0) -> dict[str, Any]:
        """Cut power at flash op `flash_op` of the next MCU start (torn: that op half done, chosen by `seed`)."""
        return self.request("arm-cut", flash_op=flash_op, torn=torn, seed=seed)

    def disarm_cut(self) -> dict[str, Any]:
        return self.request("disarm-cut")

    # probe
    def info(self) -> BoardInfo:
        a = self.request("info")
        return BoardInfo(
            unique_id=a["unique_id"], target=a["target"], flash_base=a["flash"]["base"],
            flash_size=a["flash"]["size"], sector_size=a["flash"]["sector_size"],
            write_size=a["flash"]["write_size"], erased_value=a["flash"]["erased_value"],
            partitions={k: (v[0], v[1]) for k, v in a["flash"]["partitions"].items()},
            console_port=a["console_port"], power=a["power"], run_state=a["run_state"],
        )

    def halt(self) -> dict[str, Any]:
        return self.request("halt")

    def resume(self) -> dict[str, Any]:
        return self.request("resume")

    def reset(self, halt: bool = False) -> dict[str, Any]:
        return self.request("reset", halt=halt)

    def read(self, addr: int, length: int) -> bytes:
        return unpack_data(self.request("read", addr=addr, length=length)["data"])

    def erase(self, addr: int, length: int | None = None) -> None:
        """Erase the sector at `addr` (or every sector in [addr, addr+length))."""
        self.request("erase", addr=addr, **({} if length is None else {"length": length}))

    def program(self, addr: int, data: bytes) -> None:
        self.request("program", addr=addr, data=pack_data(data))

    def read_partition(self, name: str) -> bytes:
        """A whole partition (e.g. "primary") by name, read over the memory map."""
        info = self.info()
        if name not in info.partitions:
            raise SupervisorError(f"target {info.target} has no partition {name!r} (has {', '.join(info.partitions)})")
        offset, size = info.partitions[name]
        return self.read(info.flash_base + offset, size)

    def events(self) -> Iterator[dict[str, Any]]:
        """Event dicts from a separate connection, subscribed before this returns (no event is missed after)."""
        stream = SupervisorClient(self.port, self.host, timeout=None)  # type: ignore[arg-type]
        stream.request("events")
        sock = stream._connect()

        def lines() -> Iterator[dict[str, Any]]:
            try:
                while True:
                    yield decode_line(stream._read_line(sock))
            finally:
                stream.close()

        return lines()
