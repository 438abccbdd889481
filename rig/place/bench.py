"""A place's live backends for a command: power, console and probe built from the registries, closed safely.

Every bench command and every place session builds its backends here, so they
all come from the same registries with the same options, and `close` always
applies the power policy (rig.place.power_policy) first, whatever ended the command.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rig.config import Place
from rig.config_schema import byte_size
from rig.console.base import ConsoleBase
from rig.console.registry import console_class, create_console
from rig.errors import RigError
from rig.place.lab_hold import hold_lab_place
from rig.place.lock import PlaceLock
from rig.place.power_policy import power_for_probe, release
from rig.place.server_values import fill_server
from rig.power.base import PowerBase
from rig.power.registry import create_power
from rig.probe.base import ProbeBase
from rig.probe.registry import create_probe, probe_class
from rig.timeline import Timeline

LWM2M_PORT = 5683


@dataclass
class Bench:
    """The live backends of one place; `close` applies the power's safe state first."""

    place: Place
    power: PowerBase | None
    console: ConsoleBase | None
    probe: ProbeBase | None
    # True once the command leaves the power to the operator (`rig power on`, console, flash, dump):
    # a backend whose state outlives the command is then released as it is, even on an error.
    keep_power: bool = False

    def power_for_probe(self) -> None:
        """Power the board for the probe (rig.place.power_policy); the operator keeps it as it is then."""
        power_for_probe(self.power)
        self.keep_power = True

    def close(self) -> None:
        errors: list[BaseException] = []
        if self.power is not None:
            try:
                release(self.power, self.keep_power)
            except BaseException as exc:  # noqa: BLE001 - the console and probe must still be closed
                errors.append(exc)
        for part in (self.console, self.probe):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001 - a vanished port; nothing to save
                    pass
        if errors:
            raise errors[0]


def build_bench(place: Place, timeline: Timeline, work_dir: Path, *, console: bool = True,
                log_path: Path | None = None) -> Bench:
    """Power, console and probe of `place` from the registries; on a failure the built ones are closed again."""
    if place.starts_own_board:
        raise RigError("the virtual board lives in `rig sim`: start it with `rig sim --dir DIR --image BASE.bin "
                       "--server coap://127.0.0.1:5683`, then give this command --sim-dir DIR")
    place = fill_server(place, "127.0.0.1", LWM2M_PORT)  # no-op when open_place filled its server in
    bench = Bench(place, None, None, None)
    try:
        bench.power = create_power(place.power.backend, place.power.options, name=place.name,
                                   safe_state=place.safe_state, timeline=timeline)
        if place.probe is not None:
            extra = {"layout": place.layout} if probe_class(place.probe.backend).takes_layout else {}
            bench.probe = create_probe(place.probe.backend, place.probe.options, name=place.name,
                                       timeline=timeline, **extra)
        if console and place.console is not None:
            bench.console = _console(place, bench, timeline, log_path or Path(work_dir) / "console.log")
        return bench
    except BaseException:
        bench.close()
        raise


def _console(place: Place, bench: Bench, timeline: Timeline, log_path: Path) -> ConsoleBase:
    assert place.console is not None
    word, opts = place.console.backend, place.console_options()
    cls = console_class(word)
    extra: dict[str, object] = {}
    if cls.follows_power:
        extra["power"] = bench.power
    if cls.reads_through_probe and bench.probe is not None and bench.probe.unique_id == opts.get("unique_id"):
        extra["probe"] = bench.probe  # one debug session per probe: the console reads through the probe's
    console = create_console(word, opts, name=place.name, timeline=timeline, log_path=log_path, **extra)
    cap = place.target.get("console", {}).get("log_cap")
    if cap is not None:
        console.log_cap = byte_size(cap)
    return console


@contextlib.contextmanager
def open_bench(place: Place, timeline: Timeline, work_dir: Path, *, console: bool = True,
               log_path: Path | None = None) -> Iterator[Bench]:
    """The sync helper for commands without a server (power, console, flash, dump): lock + backends."""
    with hold_lab_place(place) as place, PlaceLock(place.name, place.lock_dir):  # a labgrid place: acquired here
        bench = build_bench(place, timeline, work_dir, console=console, log_path=log_path)
        try:
            yield bench
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                bench.close()
            raise
        bench.close()
