"""A console read with pyserial: a device path, `socket://host:port`, `rfc2217://host:port` or `loop://`.

A reader thread (blocking I/O stays out of the event loop) feeds lines to the
base class. When the port goes away (USB adapter unplugged, the virtual board's
supervisor gone, the RFC 2217 server closed) pyserial raises, the console records
why, and every waiting `expect` fails at once instead of running into its timeout.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import serial

from rig.console.base import ConsoleBase, ConsoleError
from rig.timeline import Timeline


def port_holders(device: str) -> list[str]:
    """'pid NAME' of processes that have `device` open (Linux /proc), for a "port busy" message."""
    try:
        target = os.path.realpath(device)
    except OSError:
        return []
    holders = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if any(os.path.realpath(fd) == target for fd in (entry / "fd").iterdir()):
                holders.append(f"{entry.name} {(entry / 'comm').read_text().strip()}")
        except OSError:
            continue
    return holders


class SerialConsole(ConsoleBase):
    backend = "serial"

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        name: str = "",
        timeline: Timeline | None = None,
        log_path: Path | None = None,
        encoding: str = "utf-8",
    ) -> None:
        super().__init__(describe=url, name=name, timeline=timeline, log_path=log_path, encoding=encoding)
        self.url = url
        is_device = "://" not in url
        try:
            # exclusive: a second reader on a tty would steal half the bytes
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.1, exclusive=True if is_device else None)
        except (serial.SerialException, OSError, ValueError) as exc:
            hint = ""
            if is_device and not os.path.exists(url):
                hint = " (no such device: is the adapter plugged in? check the udev rules in hardware/99-rig.rules)"
            elif is_device:
                holders = port_holders(url)
                if holders:
                    hint = f" (port busy, held by pid {', '.join(holders)})"
            super().close()
            raise ConsoleError(f"cannot open console {url} for place {name or '?'}: {exc}{hint}") from exc
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reader, name=f"console-{name or url}", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except Exception as exc:  # noqa: BLE001 - pyserial raises SerialException, OSError, TypeError on a dead fd
                if not self._stop.is_set():
                    self._flush_partial()
                    self._fail(str(exc) or type(exc).__name__)
                return
            if data:
                self._feed(data)

    def write(self, data: bytes | str) -> None:
        if self.error is not None:
            raise ConsoleError(f"{self._who()} is gone ({self.error}); cannot write")
        raw = data.encode(self.encoding) if isinstance(data, str) else data
        try:
            self._port.write(raw)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise ConsoleError(f"{self._who()}: write failed: {exc}") from exc

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        try:
            self._port.close()
        except Exception:  # noqa: BLE001 - closing a port that already vanished
            pass
        super().close()
