"""A debug probe through pyocd: chosen by its exact unique id, bound to a pyocd target type.

pyocd is blocking and slow to import, so it is imported here only, and callers
run these methods in a thread, never in the event loop. The session opens on
first use and stays open until close(), because re-attaching for every read of
a campaign costs seconds per cut.

A power cut resets the target's debug port: the session that connected before
it answers only transfer errors ("the target lost power since this session
connected"). Every operation therefore reconnects once by itself (a fresh
session, attaching without halting a target that runs) and retries; an RTT
console that shares the session asks `reconnect` for the new one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from rig.probe.base import ProbeBase, ProbeError, image_format
from rig.timeline import Timeline

READ_CHUNK = 0x10000
T = TypeVar("T")


class PyocdProbe(ProbeBase):
    backend = "pyocd"

    def __init__(
        self,
        unique_id: str,
        target_type: str,
        *,
        pack: str | Path | None = None,
        frequency: int | None = None,
        options: dict[str, Any] | None = None,
        name: str = "",
        timeline: Timeline | None = None,
    ) -> None:
        super().__init__(name=name, timeline=timeline)
        self.unique_id = unique_id
        self.target_type = target_type
        self.pack = Path(pack) if pack else None
        self.frequency = frequency
        self.extra_options = dict(options or {})
        self._session: Any = None
        self._lock = threading.RLock()  # the campaign's thread and an RTT reader may both reconnect
        self.reconnects = 0

    @property
    def pack_path(self) -> Path | None:
        """The CMSIS pack giving pyocd a target it does not have built in (None for built-in targets)."""
        return self.pack

    def session_options(self) -> dict[str, Any]:
        # Attach without halting: an RTT console may share this session and needs the core running; whoever
        # needs it stopped says so (known start halts before programming, the flash evidence before reading).
        options: dict[str, Any] = {"target_override": self.target_type, "connect_mode": "attach",
                                   **self.extra_options}
        if self.pack is not None:
            if not self.pack.exists():
                raise ProbeError(f"CMSIS pack {self.pack} for target {self.target_type} not found")
            options["pack"] = str(self.pack)
        if self.frequency:
            options["frequency"] = self.frequency
        return options

    def _find_probe(self) -> Any:
        from pyocd.core.helpers import ConnectHelper  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        try:
            # The id goes to pyocd's search: a `remote:HOST:PORT` probe (a `pyocd server`, e.g. on a labgrid
            # exporter) exists only when asked for by name; USB probes are listed and filtered by it.
            candidates = ConnectHelper.get_all_connected_probes(blocking=False, unique_id=self.unique_id,
                                                                print_wait_message=False)
        except Exception as exc:  # noqa: BLE001 - libusb missing, permissions, a remote id pyocd cannot parse
            raise ProbeError(f"cannot list debug probes: {exc} (udev rules installed? see hardware/99-rig.rules)") from exc
        exact = [p for p in candidates if p.unique_id == self.unique_id]
        if exact:
            return exact[0]
        if self.unique_id.startswith("remote:") and len(candidates) == 1:
            return candidates[0]  # "remote:HOST" names the server's default port: pyocd spells the id with it
        if not candidates:
            candidates = ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False)
        listed = ", ".join(f"{p.unique_id} ({p.product_name})" for p in candidates) or "none"
        raise ProbeError(f"no probe with id {self.unique_id} for place {self.name or '?'}; connected: {listed}")

    def session(self) -> Any:
        """The open pyocd Session (opened on first use)."""
        with self._lock:
            if self._session is None:
                self._session = self._open(self.session_options())
            return self._session

    def _open(self, options: dict[str, Any]) -> Any:
        from pyocd.core.session import Session  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        probe = self._find_probe()
        session = Session(probe, auto_open=False, options=options)
        try:
            session.open()
        except Exception as exc:  # noqa: BLE001 - pyocd raises many types; all mean "could not attach"
            try:
                session.close()
            except Exception:  # noqa: BLE001
                pass
            raise ProbeError(
                f"probe {self.unique_id}: cannot attach to a {self.target_type} target: {exc}"
                " (board powered? SWD wired? target type right?)"
            ) from exc
        return session

    def reconnect(self, stale: Any = None) -> Any:
        """A new session after the target lost power (the old one answers only transfer errors). `stale`: the
        session the caller saw fail; if another thread has replaced it already, that replacement is returned."""
        with self._lock:
            if stale is not None and self._session is not None and self._session is not stale:
                return self._session
            old, self._session = self._session, None
            if old is not None:
                try:
                    old.close()
                except Exception:  # noqa: BLE001 - it lost its target already
                    pass
            # It attaches (session_options): a target that came back and runs is not halted by the reconnect.
            self._session = self._open(self.session_options())
            self.reconnects += 1
            session = self._session
        self._event("reconnect", count=self.reconnects)
        return session

    def _on_session(self, what: str, op: Callable[[Any], T]) -> T:
        """Run op(session); after a debug-port error reconnect once and retry, so a power cut in between is
        not the caller's problem. What still fails is a ProbeError naming the operation and both errors."""
        from pyocd.core import exceptions  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        session = self.session()
        try:
            return op(session)
        except ProbeError:
            raise
        except exceptions.TransferFaultError as exc:  # a bus fault at that address: a real answer, not a lost link
            raise ProbeError(f"{what} through probe {self.unique_id} failed: {exc}") from exc
        except Exception as first:  # noqa: BLE001 - pyocd's transfer, probe and flash errors alike
            try:
                session = self.reconnect(session)
            except ProbeError as exc:
                raise ProbeError(f"{what} through probe {self.unique_id} failed: {first}; reconnecting: {exc}") from exc
            try:
                return op(session)
            except Exception as exc:  # noqa: BLE001
                raise ProbeError(f"{what} through probe {self.unique_id} failed (also after reconnecting): "
                                 f"{exc}") from exc

    def program(self, path: Path, address: int | None = None) -> None:
        from pyocd.flash.file_programmer import FileProgrammer  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        path = Path(path)
        if not path.exists():
            raise ProbeError(f"image {path} not found")
        fmt = image_format(path)
        if fmt == "bin" and address is None:
            raise ProbeError(f"{path}: a .bin image has no address; give one (e.g. the primary slot's)")
        self._on_session(f"programming {path}", lambda session: FileProgrammer(
            session, chip_erase="sector", smart_flash=False).program(str(path), file_format=fmt, base_address=address))
        self._event("program", file=str(path), address=address)

    def erase(self, address: int, length: int) -> None:
        from pyocd.flash.eraser import FlashEraser  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        self._on_session(f"erasing 0x{address:x}+0x{length:x}", lambda session: FlashEraser(
            session, FlashEraser.Mode.SECTOR).erase([f"0x{address:x}+0x{length:x}"]))
        self._event("erase", address=address, length=length)

    def read_bytes(self, address: int, length: int) -> bytes:
        def read(session: Any) -> bytes:
            target, data = session.board.target, bytearray()
            while len(data) < length:
                chunk = min(READ_CHUNK, length - len(data))
                data += bytes(target.read_memory_block8(address + len(data), chunk))
            return bytes(data)

        return self._on_session(f"reading 0x{address:x}+0x{length:x}", read)

    def read(self, address: int, length: int, path: Path) -> None:
        Path(path).write_bytes(self.read_bytes(address, length))
        self._event("read", address=address, length=length, file=str(path))

    def reset(self, halt: bool = False) -> None:
        self._on_session("reset", lambda session: session.board.target.reset_and_halt() if halt
                         else session.board.target.reset())
        self._event("reset", halt=halt)

    def halt(self) -> None:
        self._on_session("halt", lambda session: session.board.target.halt())
        self._event("halt")

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - the probe may already be unplugged
                pass
