"""A place in use: its live power, probe and console, the server, and the timeline they all write to.

Every way of opening a place (rig.place.open) hands the campaign, the conformance
cases and the bench commands this one object. Its backends are typed by their
protocols, so what a case may ask of them (a flash-op cut, a probe that resets
the target) is read from their attributes, never guessed from their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rig.console.base import Console
from rig.flash_layout import FlashLayout
from rig.errors import RigError
from rig.lwm2m.bootstrap_server import BootstrapServer
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.profile import Profile
from rig.lwm2m.server import Lwm2mServer
from rig.lwm2m.start_state import StartState
from rig.lwm2m.transmission import CoapTiming
from rig.mcuboot import ImageInfo, read_image
from rig.power.base import Power
from rig.probe.base import Probe
from rig.timeline import Timeline
from rig.version_rule import VersionRule

if TYPE_CHECKING:  # the virtual board's handle: typing only, a bench session never loads the launcher
    from rig.sim.launcher import VirtualBoard


@dataclass
class PlaceSession:
    name: str
    endpoint: str
    layout: FlashLayout
    profile: Profile
    boot_timeout: float
    power: Power
    probe: Probe | None
    console: Console | None
    server: Lwm2mServer
    timeline: Timeline
    download_timeout: float = 120.0
    update_timeout: float = 60.0
    pull_scheme: str = "coap"
    board: VirtualBoard | None = None  # the virtual board's process handle (rig.sim.launcher.VirtualBoard), None on hardware
    timing: CoapTiming = field(default_factory=CoapTiming)  # the target's CoAP transmission parameters ([coap])
    start: StartState = field(default_factory=StartState)  # what Object 5 reads at a known start ([known_start])
    case_dir: Path | None = None  # where the running case keeps its files (set per case by the runner)
    versions: VersionRule = field(default_factory=VersionRule)  # where the running version is read, how compared
    mcuboot_flash: bool = True  # the flash holds MCUboot images (the target has [mcuboot]): slots can be decoded
    reset_command: tuple[str, ...] = ()  # a process target's reset of state kept outside its flash (known start)
    work_dir: Path | None = None  # the place's working directory (a process target's cwd)
    modes: DeviceModes = field(default_factory=DeviceModes)  # queue mode, bootstrap ([lwm2m] of the target)
    bootstrap: BootstrapServer | None = None  # the rig's bootstrap server for this place (rig.lwm2m.bootstrap_server), if it bootstraps

    def sleep_allowance(self) -> float:
        """Extra seconds a wait on the device may take because it sleeps: the lifetime it registered with when that
        was in queue mode (it must send an Update, and so wake, within it), else 0."""
        reg = self.server.registry.table.by_name(self.endpoint) if self.server.registry is not None else None
        return float(reg.lifetime) if reg is not None and reg.queue_mode else 0.0

    def read_partition(self, name: str) -> bytes:
        if self.probe is None:
            raise RigError(f"place {self.name} has no probe: its {name} partition cannot be read")
        part = self.layout.partition(name)
        return self.probe.read_bytes(self.layout.base + part.offset, part.size)

    def slot_image(self, name: str) -> ImageInfo:
        return read_image(self.read_partition(name), self.layout)

    @property
    def probe_id(self) -> str | None:
        """The probe's unique id (the virtual board's debug-port id), for the history of nights; None without one."""
        return self.probe.unique_id if self.probe is not None else None

    @property
    def console_dropped(self) -> int:
        """Console lines past the log cap in the current log (0 without a console)."""
        return self.console.dropped if self.console is not None else 0

    def last_console_line(self) -> str | None:
        if self.console is None:
            return None
        lines = self.console.lines()
        return lines[-1].text if lines else None
