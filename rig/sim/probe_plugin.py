"""pyocd's way to the virtual board: a debug-probe plugin (entry point group "pyocd.probe").

On the bench the rig flashes and reads boards with pyocd; with this plugin the
very same pyocd calls (`pyocd list/cmd/flash/rtt`, ConnectHelper sessions) reach
a virtual board's supervisor instead, so CI exercises every probe path of the
rig without hardware. Boards are found through rig.sim.probe_registry; the
probe answers DP/AP registers (rig.sim.debug_port) in front of a modelled
Cortex-M4 memory map (rig.sim.cortex_m_model) whose flash lives in the
supervisor. Loading the plugin also registers the "rig_virtual" target type
(pyocd 0.46 has no entry point for targets), and the probe names that target as
its board's, so `-t rig_virtual` is optional.
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any, Callable, Collection, Sequence

from pyocd.core import exceptions
from pyocd.probe.debug_probe import DebugProbe

from rig.sim import control
from rig.sim.cortex_m_model import CortexM4, DebugAccessError
from rig.sim.debug_port import BusMemoryInterface, DebugPort
from rig.sim.probe_registry import BoardEntry, check_board, list_boards
from rig.sim.pyocd_names import PROBE_TYPE, TARGET_TYPE


class EventFeed:
    """A thread reading the supervisor's `events` stream into the core model (power, MCU start, console)."""

    def __init__(self, host: str, port: int, sink: Callable[[dict[str, Any]], None]) -> None:
        self._sock = socket.create_connection((host, port), timeout=5.0)
        self._sock.sendall(control.encode_line({"op": "events"}))
        self._sock.settimeout(None)
        self._sink = sink
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"rigsim-events-{port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buffer = b""
        answered = False
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    message = control.decode_line(line)
                    if not answered:
                        answered = True  # the {"ok": true} answer to the events request
                        continue
                    self._sink(message)
        except (OSError, control.SupervisorError):
            pass
        if not self._stopping:
            self._sink({"event": "gone"})

    def stop(self) -> None:
        self._stopping = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=2.0)


class RigSimProbe(DebugProbe):
    """One virtual board's debug port, reached over its supervisor's control channel."""

    @classmethod
    def get_all_connected_probes(cls, unique_id: str | None = None, is_explicit: bool = False) -> Sequence["RigSimProbe"]:
        return [cls(entry) for entry in list_boards()]

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> "RigSimProbe | None":
        for entry in list_boards():
            if entry.unique_id == unique_id:
                return cls(entry)
        return None

    def __init__(self, entry: BoardEntry) -> None:
        super().__init__()
        self.entry = entry
        self.client: control.SupervisorClient | None = None
        self.core: CortexM4 | None = None
        self.port: DebugPort | None = None
        self._feed: EventFeed | None = None
        self._memory: BusMemoryInterface | None = None
        self._connected = False
        self._nreset = False

    # --- identity ------------------------------------------------------------

    @property
    def vendor_name(self) -> str:
        return "rig"

    @property
    def product_name(self) -> str:
        return f"virtual board ({self.entry.target or 'virtual'})"

    @property
    def unique_id(self) -> str:
        return self.entry.unique_id

    @property
    def supported_wire_protocols(self) -> Collection[DebugProbe.Protocol]:
        return [DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD]

    @property
    def wire_protocol(self) -> DebugProbe.Protocol | None:
        return DebugProbe.Protocol.SWD if self._connected else None

    @property
    def is_open(self) -> bool:
        return self.client is not None

    @property
    def capabilities(self) -> set[DebugProbe.Capability]:
        return {DebugProbe.Capability.MANAGED_AP_SELECTION, DebugProbe.Capability.MANAGED_DPBANKSEL}

    @property
    def associated_board_info(self) -> Any:
        from pyocd.board.board_ids import BoardInfo  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        return BoardInfo(name="virtual board", target=TARGET_TYPE, vendor="rig")

    def create_associated_board(self) -> Any:
        from pyocd.board.board import Board  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

        assert self.session is not None
        return Board(self.session, board_info=self.associated_board_info)

    # --- open/connect ------------------------------------------------------------

    def open(self) -> None:
        live = check_board(self.entry)
        if live is None:
            raise exceptions.ProbeError(
                f"virtual board {self.unique_id}: its supervisor at {self.entry.host}:{self.entry.control_port}"
                " does not answer (board stopped?)")
        self.entry = live
        client = control.SupervisorClient(live.control_port, live.host)
        try:
            info = client.info()
            core = CortexM4(client, info.flash_base, info.flash_size)
            self._feed = EventFeed(live.host, live.control_port, core.on_event)
            status = client.status()  # taken after the feed started, so no change falls between the two
            core.attach(status["power"], status["run_state"])
        except (control.SupervisorError, OSError) as exc:
            client.close()
            if self._feed is not None:
                self._feed.stop()
                self._feed = None
            raise exceptions.ProbeError(f"virtual board {self.unique_id}: {exc}") from None
        self.client, self.core = client, core
        self.port = DebugPort(core, self.unique_id)
        self._memory = BusMemoryInterface(self.port)

    def close(self) -> None:
        if self._feed is not None:
            self._feed.stop()
            self._feed = None
        if self.client is not None:
            self.client.close()
            self.client = None
        self._connected = False

    def connect(self, protocol: DebugProbe.Protocol | None = None) -> None:
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    def set_clock(self, frequency: float) -> None:
        pass  # no wire: any clock works

    # --- reset -------------------------------------------------------------------

    def _run_control(self, action: Callable[[], None]) -> None:
        assert self.port is not None
        try:
            action()
        except DebugAccessError as exc:
            raise self.port.error(exc) from None

    def reset(self) -> None:
        assert self.core is not None
        self._run_control(lambda: self.core.system_reset())

    def assert_reset(self, asserted: bool) -> None:
        assert self.core is not None
        self._run_control(lambda: self.core.system_reset(hold=True) if asserted else self.core.release_reset())
        self._nreset = asserted

    def is_reset_asserted(self) -> bool:
        return self._nreset

    # --- DAP -----------------------------------------------------------------------

    def _port(self) -> DebugPort:
        if self.port is None:
            raise exceptions.ProbeError(f"virtual board {self.unique_id}: probe is not open")
        return self.port

    def read_dp(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        value = self._port().read_dp(addr)
        return value if now else (lambda: value)

    def write_dp(self, addr: int, data: int) -> None:
        self._port().write_dp(addr, data)

    def read_ap(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        value = self._port().read_ap(addr)
        return value if now else (lambda: value)

    def write_ap(self, addr: int, data: int) -> None:
        self._port().write_ap(addr, data)

    def read_ap_multiple(self, addr: int, count: int = 1, now: bool = True) -> Any:
        values = [self._port().read_ap(addr) for _ in range(count)]
        return values if now else (lambda: values)

    def write_ap_multiple(self, addr: int, values: Sequence[int]) -> None:
        for value in values:
            self._port().write_ap(addr, value)

    def get_memory_interface_for_ap(self, ap_address: Any) -> BusMemoryInterface | None:
        return self._memory if getattr(ap_address, "apsel", None) == 0 else None


def register_target_type() -> None:
    """Make "rig_virtual" known to pyocd (idempotent)."""
    from pyocd.target import TARGET  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

    from rig.sim.pyocd_target import RigVirtual  # noqa: PLC0415 -- import order: its pyocd target classes load once pyocd is complete (see rig.sim.pyocd_entry)

    TARGET.setdefault(TARGET_TYPE, RigVirtual)


def install() -> None:
    """Register the probe and target types with pyocd in this process, without the entry point.

    For a process whose package metadata lacks the entry point (a source checkout
    run with its directory on sys.path finds a stale rig.egg-info first).
    """
    from pyocd.probe.aggregator import PROBE_CLASSES  # noqa: PLC0415 -- optional at run time: pyocd loads only for a pyocd probe (seconds on a Pi)

    PROBE_CLASSES.setdefault(PROBE_TYPE, RigSimProbe)
    register_target_type()


# The entry point object lives in rig.sim.pyocd_entry (loadable while pyocd is importing).
if "pyocd.target" in sys.modules or "pyocd.probe.aggregator" in sys.modules:
    register_target_type()  # when this module started pyocd's import, the plugin could not do it yet
