"""A console over SEGGER RTT through pyocd: up channel 0 of the target's RAM, read by a polling thread.

RTT has no interrupt: the debugger polls the ring buffer in RAM, so this console
runs one reader thread that reads the up channel, feeds lines to the base class
(timestamps, timeline, log file) and sleeps briefly when the ring is empty.
A power cut or reset wipes the control block; reads then fail or the block is
gone, and the reader reconnects (a debug port that lost power needs a new
connection) and searches again until the firmware re-creates it; the ring still
holds what the firmware logged meanwhile. Only a probe that disappears ends the
console (as an unplugged USB adapter does).

The console opens its own pyocd session unless handed the place's PyocdProbe
(`probe=`), because one debug probe serves one session at a time; then a debug
port that lost power is reconnected through the probe (`probe.reconnect`), so
the probe's own operations and the console go on with the same new session.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rig.console.base import ConsoleBase, ConsoleError
from rig.timeline import Timeline


class RttConsole(ConsoleBase):
    backend = "rtt"
    reads_through_probe = True

    def __init__(
        self,
        unique_id: str,
        target_type: str,
        *,
        channel: int = 0,
        address: int | None = None,
        search_size: int | None = None,
        pack: str | None = None,
        poll_interval: float = 0.02,
        probe: Any = None,
        name: str = "",
        timeline: Timeline | None = None,
        log_path: Path | None = None,
        encoding: str = "utf-8",
    ) -> None:
        super().__init__(describe=f"rtt://{unique_id}/{channel}", name=name, timeline=timeline, log_path=log_path,
                         encoding=encoding)
        self.unique_id = unique_id
        self.target_type = target_type
        self.channel = channel
        self.address = address
        self.search_size = search_size
        self.poll_interval = poll_interval
        self._own_session = probe is None
        self._probe = probe
        self._pack = pack
        self._attached = threading.Condition()
        self.attaches = 0  # control blocks found so far (1 at start, +1 after each reconnect and re-init)
        try:
            self._session = self._probe_session() if probe is not None else self._open_session(pack)
        except Exception:
            super().close()
            raise
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reader, name=f"console-rtt-{name or unique_id}", daemon=True)
        self._thread.start()

    def _probe_session(self) -> Any:
        """The probe's session; None while the target cannot be attached (a relay still off): the reader
        attaches once it can. A probe that is not there at all is an error now."""
        try:
            return self._probe.session()
        except Exception as exc:  # noqa: BLE001 - the probe's ProbeError
            if "no probe with id" in str(exc):
                raise ConsoleError(f"RTT console of place {self.name or '?'}: {exc}") from exc
            return None

    def _open_session(self, pack: str | None) -> Any:
        from pyocd.core.helpers import ConnectHelper  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        options: dict[str, Any] = {"target_override": self.target_type, "connect_mode": "attach"}
        if pack:
            options["pack"] = pack
        try:
            session = ConnectHelper.session_with_chosen_probe(unique_id=self.unique_id, blocking=False,
                                                              options=options)
        except Exception as exc:  # noqa: BLE001 - libusb missing, permissions
            raise ConsoleError(f"cannot list debug probes for RTT console of place {self.name or '?'}: {exc}") from exc
        if session is None:
            raise ConsoleError(f"RTT console of place {self.name or '?'}: no probe with id {self.unique_id}")
        try:
            session.open()
        except Exception as exc:  # noqa: BLE001 - pyocd raises many types; all mean "could not attach"
            raise ConsoleError(f"RTT console: cannot attach to {self.target_type} through probe {self.unique_id}: {exc}"
                               " (board powered? target type right?)") from exc
        return session

    def _find_channel(self) -> Any:
        from pyocd.debug.rtt import RTTControlBlock  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        block = RTTControlBlock.from_target(self._session.board.target, address=self.address, size=self.search_size)
        block.start()
        if self.channel >= len(block.up_channels):
            raise ConsoleError(f"{self._who()}: the target has {len(block.up_channels)} RTT up channel(s)")
        return block.up_channels[self.channel]

    def _reader(self) -> None:
        from pyocd.core.exceptions import ProbeDisconnected, TransferError  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        up = None
        failures = 0
        lost_link = False
        while not self._stop.is_set():
            try:
                if up is None:
                    if not self._own_session:
                        self._session = self._probe.session()  # the probe may have reconnected (or attached) meanwhile
                    up = self._find_channel()
                    with self._attached:
                        self.attaches += 1
                        self._attached.notify_all()
                data = up.read()
            except ProbeDisconnected as exc:
                self._flush_partial()
                self._fail(f"probe {self.unique_id} disconnected: {exc}")
                return
            except ConsoleError as exc:
                self._fail(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - target off, reset, block not (yet) there: search again
                up = None
                failures += 1
                lost_link = lost_link or isinstance(exc, TransferError) or "cannot attach" in str(exc)
                self._stop.wait(self.poll_interval * 10)
                if failures >= 2 and not self._stop.is_set() and (self._own_session or lost_link):
                    try:
                        self._reconnect()  # a debug port that lost power needs a new connection
                        lost_link = False
                    except ConsoleError as exc:
                        if "no probe with id" in str(exc):
                            self._fail(str(exc))
                            return
                continue
            failures = 0
            if data:
                self._feed(bytes(data))
            else:
                self._stop.wait(self.poll_interval)

    def wait_attached(self, count: int, timeout: float) -> bool:
        """Wait until the control block was found `count` times (e.g. 2: again after a power cut)."""
        with self._attached:
            return self._attached.wait_for(lambda: self.attaches >= count, timeout)

    def _reconnect(self) -> None:
        if not self._own_session:  # the probe's session: the probe reconnects it for both of us
            try:
                self._session = self._probe.reconnect(self._session)
            except Exception as exc:  # noqa: BLE001 - the probe's ProbeError; keep the old one and try again later
                raise ConsoleError(f"{self._who()}: reconnecting through the probe: {exc}") from exc
            return
        old, self._session = self._session, None
        try:
            old.close()
        except Exception:  # noqa: BLE001 - it lost its target already
            pass
        try:
            self._session = self._open_session(self._pack)
        except ConsoleError:
            self._session = old  # keep something to close; the next failure tries again
            raise

    def close(self) -> None:
        self._stop.set()
        if getattr(self, "_thread", None) is not None:
            self._thread.join(timeout=2.0)
        if self._own_session and getattr(self, "_session", None) is not None:
            try:
                self._session.close()
            except Exception:  # noqa: BLE001 - the probe may already be gone
                pass
        super().close()
