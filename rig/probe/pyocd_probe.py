"""A debug probe through pyocd: chosen by its exact unique id, bound to a pyocd target type.

pyocd is blocking and slow to import, so it is imported here only, and callers
run these methods in a thread, never in the event loop. The session opens on
first use and stays open until close(), because re-attaching for every read of
a campaign costs seconds per cut.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

from rig.probe.base import ProbeBase, ProbeError, image_format
from rig.timeline import Timeline

READ_CHUNK = 0x10000
T = TypeVar("T")


def _reconnecting(method: Callable[..., T]) -> Callable[..., T]:
    """Once more on a fresh session when the old one died: a target that lost power since the session attached
    (every power cut of a campaign) answers the old session with transfer errors until it attaches again."""

    @functools.wraps(method)
    def wrapper(self: "PyocdProbe", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except ProbeError as exc:
            from pyocd.core import exceptions

            lost = isinstance(exc.__cause__, (exceptions.TransferError, exceptions.ProbeDisconnected)) \
                and not isinstance(exc.__cause__, exceptions.TransferFaultError)
            if not lost or self._session is None:
                raise
            self.close()
            return method(self, *args, **kwargs)

    return wrapper


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

    @property
    def pack_path(self) -> Path | None:
        """The CMSIS pack giving pyocd a target it does not have built in (None for built-in targets)."""
        return self.pack

    def session_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"target_override": self.target_type, **self.extra_options}
        if self.pack is not None:
            if not self.pack.exists():
                raise ProbeError(f"CMSIS pack {self.pack} for target {self.target_type} not found")
            options["pack"] = str(self.pack)
        if self.frequency:
            options["frequency"] = self.frequency
        return options

    def _find_probe(self) -> Any:
        from pyocd.core.helpers import ConnectHelper

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
        if self._session is None:
            from pyocd.core.session import Session

            probe = self._find_probe()
            session = Session(probe, auto_open=False, options=self.session_options())
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
            self._session = session
        return self._session

    def _target(self) -> Any:
        return self.session().board.target

    @_reconnecting
    def program(self, path: Path, address: int | None = None) -> None:
        from pyocd.flash.file_programmer import FileProgrammer

        path = Path(path)
        if not path.exists():
            raise ProbeError(f"image {path} not found")
        fmt = image_format(path)
        if fmt == "bin" and address is None:
            raise ProbeError(f"{path}: a .bin image has no address; give one (e.g. the primary slot's)")
        try:
            FileProgrammer(self.session(), chip_erase="sector", smart_flash=False).program(
                str(path), file_format=fmt, base_address=address
            )
        except ProbeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProbeError(f"programming {path} through probe {self.unique_id} failed: {exc}") from exc
        self._event("program", file=str(path), address=address)

    @_reconnecting
    def erase(self, address: int, length: int) -> None:
        from pyocd.flash.eraser import FlashEraser

        try:
            FlashEraser(self.session(), FlashEraser.Mode.SECTOR).erase([f"0x{address:x}+0x{length:x}"])
        except ProbeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProbeError(f"erasing 0x{address:x}+0x{length:x} through probe {self.unique_id} failed: {exc}") from exc
        self._event("erase", address=address, length=length)

    @_reconnecting
    def read(self, address: int, length: int, path: Path) -> None:
        target = self._target()
        data = bytearray()
        try:
            while len(data) < length:
                chunk = min(READ_CHUNK, length - len(data))
                data += bytes(target.read_memory_block8(address + len(data), chunk))
        except Exception as exc:  # noqa: BLE001
            raise ProbeError(f"reading 0x{address + len(data):x} through probe {self.unique_id} failed: {exc}") from exc
        Path(path).write_bytes(bytes(data))
        self._event("read", address=address, length=length, file=str(path))

    @_reconnecting
    def reset(self, halt: bool = False) -> None:
        target = self._target()
        try:
            target.reset_and_halt() if halt else target.reset()
        except Exception as exc:  # noqa: BLE001
            raise ProbeError(f"reset through probe {self.unique_id} failed: {exc}") from exc
        self._event("reset", halt=halt)

    @_reconnecting
    def halt(self) -> None:
        try:
            self._target().halt()
        except Exception as exc:  # noqa: BLE001
            raise ProbeError(f"halt through probe {self.unique_id} failed: {exc}") from exc
        self._event("halt")

    def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                session.close()
            except Exception:  # noqa: BLE001 - the probe may already be unplugged
                pass
