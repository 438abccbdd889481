"""The virtual board's LwM2M objects 1, 3 and 5 as resource tables over the live device state.

Each resource says its operations and type; reads call a getter, writes a setter,
executes an action. Object 0 (Security) exists for the client only and is never
exposed to the server, as on real devices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from rig.sim.app import firmware as fw
from rig.sim.app import vendor_package
from rig.sim.app.wire import Value


@dataclass
class Res:
    ops: str  # subset of "RWE"
    kind: str  # int | str | opaque | bool | time | none
    get: Callable[[], Any] | None = None
    set: Callable[[Any], None] | None = None
    run: Callable[[bytes], None] | None = None
    multiple: bool = False


@dataclass
class DeviceState:
    """What objects 0, 1 and 3 hold; the client reads and writes it."""

    server_uri: str | None
    endpoint: str
    serial: str
    lifetime: int
    pmin: int = 0
    pmax: int = 60
    binding: str = "U"


def server_object(dev: DeviceState, on_lifetime: Callable[[], None], on_update: Callable[[], None]) -> dict[int, Res]:
    def set_lifetime(v: Any) -> None:
        dev.lifetime = int(v)
        on_lifetime()

    def set_attr(name: str) -> Callable[[Any], None]:
        return lambda v: setattr(dev, name, int(v))

    return {
        0: Res("R", "int", get=lambda: 1),
        1: Res("RW", "int", get=lambda: dev.lifetime, set=set_lifetime),
        2: Res("RW", "int", get=lambda: dev.pmin, set=set_attr("pmin")),
        3: Res("RW", "int", get=lambda: dev.pmax, set=set_attr("pmax")),
        6: Res("RW", "bool", get=lambda: False, set=lambda v: None),
        7: Res("RW", "str", get=lambda: dev.binding, set=lambda v: setattr(dev, "binding", str(v))),
        8: Res("E", "none", run=lambda args: on_update()),
    }


def running_versions(firmware: fw.FirmwareUpdate) -> tuple[Callable[[], str], Callable[[], str]]:
    """Getters of /3/0/3 and /5/0/7. MCUboot mode: the image's version, and the stored package's. Vendor mode, like
    the third-party clients it stands for: the client library's version, and the running package's ("1.0")."""
    if firmware.package_mode == "vendor":
        return (lambda: vendor_package.LIBRARY_VERSION), (lambda: vendor_package.vendor_version(firmware.firmware_version()))
    return firmware.firmware_version, (lambda: firmware.v["pending_version"] or "")


def device_object(dev: DeviceState, firmware: fw.FirmwareUpdate, reboot: Callable[[], None]) -> dict[int, Res]:
    return {
        0: Res("R", "str", get=lambda: "rig"),
        1: Res("R", "str", get=lambda: "virtual-board"),
        2: Res("R", "str", get=lambda: dev.serial),
        3: Res("R", "str", get=running_versions(firmware)[0]),
        4: Res("E", "none", run=lambda args: reboot()),
        11: Res("R", "int", get=lambda: {0: 0}, multiple=True),
        13: Res("R", "time", get=lambda: int(time.time())),
        16: Res("R", "str", get=lambda: "U"),
        18: Res("R", "str", get=lambda: "sim-1"),
    }


def firmware_object(f: fw.FirmwareUpdate) -> dict[int, Res]:
    return {
        0: Res("W", "opaque"),  # written block-wise by the tree itself (Block1)
        1: Res("RW", "str", get=lambda: f.v["uri"], set=lambda v: f.write_uri(str(v))),
        2: Res("E", "none", run=lambda args: f.execute()),
        3: Res("R", "int", get=lambda: f.state),
        5: Res("R", "int", get=lambda: f.result),
        6: Res("R", "str", get=lambda: "firmware"),
        7: Res("R", "str", get=running_versions(f)[1]),
        8: Res("R", "int", get=f.protocol_support, multiple=True),
        9: Res("R", "int", get=lambda: 2),
        10: Res("E", "none", run=lambda args: f.cancel()),
        11: Res("RW", "int", get=lambda: f.v["severity"], set=lambda v: f.set_severity(int(v))),
        12: Res("R", "time", get=lambda: int(f.v["lsct"])),
        13: Res("RW", "int", get=lambda: f.v["defer"], set=lambda v: f.set_max_defer_period(int(v))),
    }


def readable(table: dict[int, Res]) -> dict[int, Value | dict[int, Value]]:
    return {rid: r.get() for rid, r in sorted(table.items()) if "R" in r.ops and r.get is not None}
