"""Open a place for a command: which place (--place/--rig/--target), its lock, its backends, and the server.

Every bench command and `rig run --place` goes through here, so they all take
the place lock, build power/console/probe from the same registries, and leave
the board in its safe state however they end (error, Ctrl-C, SIGTERM).

The virtual board outlives a command only when `rig sim` runs it: `attach_sim`
turns a `rig sim --dir DIR` board (its board.json) into the place's backends.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from rig.campaign.session import PlaceSession
from rig.config_schema import byte_size
from rig import placeholders
from rig.config import BackendConfig, Place, load_place, place_from_target
from rig.errors import RigError
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.profile import Profile
from rig.lwm2m.start_state import StartState
from rig.lwm2m.transmission import CoapTiming
from rig.place_lock import PlaceLock
from rig.target_files import find_target, shipped
from rig.target_security import write_key_file
from rig.timeline import Timeline
from rig.version_rule import VersionRule

RIG_FILE_ENV = "RIG_FILE"
DEFAULT_RIG_FILE = Path("rig.toml")
LWM2M_PORT = 5683
DOWNLOAD_TIMEOUT = 120.0  # s a whole download may take on a board (at least the client's connection-lost wait)
# Power backends whose state outlives the rig process (a hub port, the virtual board's supervisor,
# a person): `rig power on` may leave them on. A GPIO pin or a child process dies with the command.
PERSISTENT_POWER = ("command", "sim", "manual")


def resolve_place(place: str | None, rig_file: Path | None, target: Path | None, work_dir: Path) -> Place:
    """--place NAME (rig file from --rig, $RIG_FILE or ./rig.toml), else --target FILE, else targets/virtual.toml.

    A --target place keeps its lock and its host-process "flash" in work_dir/<target file stem>,
    so two jobs on one working directory exclude each other and different ones do not.
    """
    if place is not None and target is not None:
        raise RigError(f"give --place {place} or --target {target}, not both (a place names its own target)")
    if place is not None:
        rig = rig_file or (Path(os.environ[RIG_FILE_ENV]) if os.environ.get(RIG_FILE_ENV) else None)
        if rig is None and DEFAULT_RIG_FILE.is_file():
            rig = DEFAULT_RIG_FILE
        if rig is None:
            raise RigError(f"--place {place}: no rig file; give --rig FILE, set ${RIG_FILE_ENV} or put rig.toml"
                           " in the current directory (see hardware/rig.example.toml)")
        return load_place(Path(rig), place)
    if rig_file is not None:
        raise RigError(f"--rig {rig_file} needs --place NAME (which place of the rig file)")
    target_file = find_target(Path(target)) if target is not None else shipped("virtual")
    if not target_file.is_file():
        raise RigError(f"--target {target_file}: no such target file (see targets/ for examples)")
    place_dir = Path(work_dir) / target_file.stem
    place_dir.mkdir(parents=True, exist_ok=True)
    return place_from_target(target_file, place_dir, lock_dir=place_dir)


def read_board_json(sim_dir: Path) -> dict[str, Any]:
    """What a `rig sim --dir DIR` board wrote about itself (ports, unique id, its server and endpoint)."""
    try:
        info = json.loads((Path(sim_dir) / "board.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RigError(f"--sim-dir {sim_dir}: no board.json; start the board first: rig sim --dir {sim_dir}") from None
    except (OSError, ValueError) as exc:
        raise RigError(f"--sim-dir {sim_dir}: board.json unreadable ({exc}); restart rig sim --dir {sim_dir}") from None
    if not isinstance(info, dict):
        raise RigError(f"--sim-dir {sim_dir}: board.json is not an object; restart rig sim --dir {sim_dir}")
    return info


def attach_sim(place: Place, sim_dir: Path) -> Place:
    """The place of a running `rig sim --dir DIR` board: sim power/probe on its control port, its console URL."""
    if place.kind != "virtual":
        raise RigError(f"--sim-dir {sim_dir}: only a virtual target runs under rig sim, {place.target_file} is {place.kind!r}")
    info = read_board_json(sim_dir)
    runs = info.get("target_file")
    if runs and Path(runs).resolve() != Path(place.target_file).resolve():
        raise RigError(f"--sim-dir {sim_dir}: that board runs {runs}, not {place.target_file} "
                       f"(leave out --target, or give --target {runs})")
    try:
        port, url, uid = int(info["control_port"]), str(info["console"]), str(info["unique_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RigError(f"--sim-dir {sim_dir}: board.json unreadable ({exc}); restart rig sim --dir {sim_dir}") from None
    return replace(
        place, name=f"sim-{uid}", power=BackendConfig("sim", {"control_port": port}),
        probe=BackendConfig("sim", {"control_port": port}), console=BackendConfig("serial", {"url": url}),
        lock_dir=Path(sim_dir), work_dir=Path(sim_dir) / "rig", target=_as_started(place.target, info),
    )


def _as_started(target: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """The target as the `rig sim` board was started: in queue mode (`--queue-mode`, its `--awake`) or not."""
    if not info.get("queue_mode"):
        return target
    lwm2m = {**target.get("lwm2m", {}), "queue_mode": True}
    if isinstance(info.get("awake"), (int, float)):
        lwm2m["awake_time"] = float(info["awake"])
    return {**target, "lwm2m": lwm2m}


def runtime_values(place: Place, host: str, port: int, scheme: str = "coap", bootstrap: Any = None) -> dict[str, str]:
    """What a process target's placeholders take once the server is up: {server_host}, {server_port},
    {server_coaps_port} (also {coaps_port}), {server_uri}, {bootstrap_uri} (the rig's bootstrap server, when the
    place has one), and the place's key: {psk_identity}, {psk_key_hex}, {psk_key_file} (written 0600 into the
    working directory). The URIs are coaps:// when the server holds the place's key: a keyed endpoint registers
    over coaps (rig.lwm2m.endpoint_binding), coap:// otherwise."""
    keyed = serves_key(place, scheme)
    values = {"server_host": host, "server_port": str(port), "server_coaps_port": str(port + 1),
              "coaps_port": str(port + 1),
              "server_uri": f"coaps://{host}:{port + 1}" if keyed else f"coap://{host}:{port}"}
    if bootstrap is not None:
        values["bootstrap_uri"] = f"coaps://{host}:{bootstrap.port + 1}" if keyed else f"coap://{host}:{bootstrap.port}"
    if place.lwm2m.psk_key is not None:
        values["psk_identity"] = place.lwm2m.psk_identity or place.lwm2m.endpoint
        values["psk_key_hex"] = place.lwm2m.psk_key.hex()
        if _uses(place, "psk_key_file"):
            values["psk_key_file"] = str(write_key_file(Path(place.work_dir or "."), place.lwm2m.psk_key))
    return values


def _uses(place: Place, name: str) -> bool:
    texts = [*place.power.options.get("argv", []), *(place.power.options.get("env") or {}).values(),
             *place.reset_command]
    return any(name in placeholders.fields_of(str(t)) for t in texts)


def missing_key_reason(place: Place) -> dict[str, str]:
    why = (f"place {place.name} has no PSK: give --psk IDENTITY:HEXKEY (for a `rig sim` board, the key it was started "
           f"with), a [security] table in {place.target_file} (psk_key_file, psk_key_env or per_run_key = true), or "
           "places.NAME.lwm2m in the rig file")
    return {name: why for name in placeholders.KEYS}


def fill_server(place: Place, host: str, port: int, scheme: str = "coap", bootstrap: Any = None) -> Place:
    """Fill what is known only now into a process target's argv, env and reset_command (runtime_values);
    a placeholder that still has no value (a key on a place without one) is a one-line RigError."""
    if place.power.backend != "process":
        return place
    values = runtime_values(place, host, port, scheme, bootstrap)
    why = {**missing_key_reason(place), "bootstrap_uri": f"{place.target_file} does not set lwm2m.bootstrap = true, so "
                                                          "the rig runs no bootstrap server for it"}
    opts = dict(place.power.options)
    where = f"{place.target_file}: process.command"
    try:
        opts["argv"] = [placeholders.fill_all(str(a), values, why) for a in opts.get("argv", [])]
        if opts.get("env"):
            opts["env"] = {k: placeholders.fill_all(v, values, why) for k, v in opts["env"].items()}
        reset = tuple(placeholders.fill(a, values) for a in place.reset_command)  # {base_package}: at a known start
    except RigError as exc:
        raise RigError(f"{where}: {exc}") from None
    return replace(place, power=BackendConfig("process", opts), reset_command=reset)


def require_key(place: Place, scheme: str) -> None:
    """A coaps run or update needs a key on both sides: say so before anything starts, naming how to give one."""
    makes_its_own = place.kind == "virtual" and "control_port" not in place.power.options  # not a `rig sim` board
    if scheme == "coaps" and not makes_its_own and place.lwm2m.psk_key is None:
        raise RigError(f"coaps: {missing_key_reason(place)['psk_key_hex']}; without one the device cannot reach "
                       "the rig's coaps server (and an Update Result 9 would be the rig's doing, not the device's)")


@dataclass
class Bench:
    """The live backends of one place; `close` applies the power's safe state first."""

    place: Place
    power: Any
    console: Any
    probe: Any
    # True once the command leaves the power to the operator (`rig power on`, console, flash, dump):
    # a backend whose state outlives the command is then released as it is, even on an error.
    keep_power: bool = False

    def power_for_probe(self) -> None:
        """A relay-powered board is off whenever the rig does not drive it: switch it on for the probe.
        Persistent backends stay as the operator left them; a process target's flash is a file."""
        if self.power is not None and self.power.backend not in PERSISTENT_POWER and self.power.backend != "process":
            self.power.on()
        self.keep_power = True

    def close(self) -> None:
        errors: list[BaseException] = []
        if self.power is not None:
            try:
                if self.keep_power and self.power.backend in PERSISTENT_POWER:
                    self.power.detach()
                else:
                    self.power.close()
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
    from rig.power.registry import create_power
    from rig.probe.registry import create_probe

    if place.kind == "virtual" and "control_port" not in place.power.options:
        raise RigError("the virtual board lives in `rig sim`: start it with `rig sim --dir DIR --image BASE.bin "
                       "--server coap://127.0.0.1:5683`, then give this command --sim-dir DIR")
    place = fill_server(place, "127.0.0.1", LWM2M_PORT)  # no-op when open_place_session filled its server in
    bench = Bench(place, None, None, None)
    try:
        bench.power = create_power(place.power.backend, place.power.options, name=place.name,
                                   safe_state=place.safe_state, timeline=timeline)
        if place.probe is not None:
            extra = {"layout": place.layout} if place.probe.backend == "file" else {}
            bench.probe = create_probe(place.probe.backend, place.probe.options, name=place.name,
                                       timeline=timeline, **extra)
        if console and place.console is not None:
            bench.console = _console(place, bench, timeline, log_path or Path(work_dir) / "console.log")
        return bench
    except BaseException:
        bench.close()
        raise


def _console(place: Place, bench: Bench, timeline: Timeline, log_path: Path) -> Any:
    from rig.console.registry import create_console

    word, opts = place.console.backend, dict(place.console.options)
    extra: dict[str, Any] = {}
    cap = place.target.get("console", {}).get("log_cap")
    if word == "process":
        extra["power"] = bench.power
    if word == "rtt":
        probe_opts = place.probe.options if place.probe is not None and place.probe.backend == "pyocd" else {}
        opts.setdefault("unique_id", probe_opts.get("unique_id"))
        opts.setdefault("target_type", probe_opts.get("target_type") or place.target.get("debug", {}).get("pyocd_target"))
        if bench.probe is not None and getattr(bench.probe, "unique_id", None) == opts["unique_id"]:
            extra["probe"] = bench.probe  # one pyocd session per probe: RTT reads through the probe's
        if not opts["unique_id"] or not opts["target_type"]:
            raise RigError(f"{place.source}: places.{place.name}.console: rtt needs unique_id and target_type "
                           "(or a pyocd probe to take them from)")
    console = create_console(word, opts, name=place.name, timeline=timeline, log_path=log_path, **extra)
    if cap is not None:
        console.log_cap = byte_size(cap)
    return console


@contextlib.contextmanager
def open_bench(place: Place, timeline: Timeline, work_dir: Path, *, console: bool = True,
               log_path: Path | None = None) -> Iterator[Bench]:
    """The sync helper for commands without a server (power, console, flash, dump): lock + backends."""
    from rig.lab.hold import hold_lab_place

    with hold_lab_place(place) as place, PlaceLock(place.name, place.lock_dir):  # a labgrid place: acquired here
        bench = build_bench(place, timeline, work_dir, console=console, log_path=log_path)
        try:
            yield bench
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                bench.close()
            raise
        bench.close()


def serves_key(place: Place, scheme: str) -> bool:
    """Whether the rig's server holds the place's key (and so binds its endpoint to coaps). A key made per run
    serves coaps runs only: on a coap run its client registers without DTLS, as the virtual board does."""
    return place.lwm2m.psk_key is not None and not (place.lwm2m.per_run and scheme != "coaps")


def _psk_store(place: Place, scheme: str) -> Any:
    """The server's key for the place (None: it holds none, see serves_key)."""
    if not serves_key(place, scheme):
        return None
    from rig.lwm2m.dtls.psk import PskEntry, PskStore

    identity = (place.lwm2m.psk_identity or place.lwm2m.endpoint).encode("utf-8")
    return PskStore([PskEntry(place.lwm2m.endpoint, identity, place.lwm2m.psk_key)])


@contextlib.asynccontextmanager
async def open_place_session(
    place: Place, timeline: Timeline, work_dir: Path, firmware_dir: Path, *,
    base_image: Path | None = None, defects: tuple[str, ...] = (), scheme: str = "coap",
    server_host: str | None = None, server_port: int | None = None, keep_power: bool = False,
    bootstrap_port: int | None = None, bootstrap_lifetime: int | None = None,
) -> AsyncIterator[PlaceSession]:
    """A place with a running LwM2M server. A virtual place with no `rig sim` attached starts its own board
    (needs base_image); a process target gets a free port filled into its command unless server_port is given.
    keep_power: on a normal exit leave a persistent power backend as it is (bench commands); errors and
    Ctrl-C always end in the safe state. A target with `lwm2m.bootstrap = true` (or a `bootstrap_port`) also gets
    the rig's bootstrap server (rig.place_bootstrap)."""
    if place.lab is not None and not place.lab.held:
        # A labgrid place is acquired for the session and released however it ends (its wiring comes from labgrid).
        # labgrid-client runs as a subprocess here, before the server starts: nothing else waits on this loop yet.
        from rig.lab.hold import hold_lab_place

        with hold_lab_place(place) as held:
            async with open_place_session(held, timeline, work_dir, firmware_dir, base_image=base_image,
                                          defects=defects, scheme=scheme, server_host=server_host,
                                          server_port=server_port, keep_power=keep_power,
                                          bootstrap_port=bootstrap_port,
                                          bootstrap_lifetime=bootstrap_lifetime) as session:
                yield session
        return
    if place.kind == "virtual" and "control_port" not in place.power.options:
        if base_image is None:
            raise RigError("the virtual board needs a base image to start from, or attach a running one with --sim-dir")
        from rig.campaign.virtual_place import virtual_place

        async with virtual_place(place.target_file, Path(work_dir), Path(firmware_dir), Path(base_image), timeline,
                                 defects, scheme=scheme) as session:
            yield session
        return
    from rig.lwm2m.server import Lwm2mServer
    from rig.netutil import free_udp_pair
    from rig.place_bootstrap import place_bootstrap

    require_key(place, scheme)

    host = server_host or ("127.0.0.1" if place.kind == "process" else "0.0.0.0")  # boards come over the bench LAN
    port = server_port or place.server_port or (free_udp_pair(host) if place.kind == "process" else LWM2M_PORT)
    timing = CoapTiming.from_target(place.target, str(place.target_file))
    modes = DeviceModes.from_target(place.target, str(place.target_file))
    with PlaceLock(place.name, place.lock_dir):
        server = Lwm2mServer(timeline, Path(firmware_dir), host=host, port=port, psk_store=_psk_store(place, scheme),
                             allow_nosec=(place.lwm2m.endpoint,) if place.lwm2m.allow_nosec else (),
                             awake_time=modes.awake(timing))
        await server.start()
        try:
            async with place_bootstrap(server, place, modes, bootstrap_port, bootstrap_lifetime) as bootstrap:
                bench = build_bench(fill_server(place, host, port, scheme, bootstrap), timeline, work_dir)
                try:
                    yield PlaceSession(
                        name=place.name, endpoint=place.lwm2m.endpoint, layout=place.layout,
                        profile=Profile.from_target(place.target, str(place.target_file)),
                        boot_timeout=place.boot_timeout, power=bench.power, probe=bench.probe, console=bench.console,
                        server=server, timeline=timeline, pull_scheme=scheme,
                        timing=timing, start=StartState.from_target(place.target, str(place.target_file)),
                        versions=VersionRule.from_target(place.target, str(place.target_file)),
                        mcuboot_flash="mcuboot" in place.target, reset_command=bench.place.reset_command,
                        work_dir=Path(bench.place.work_dir or work_dir),
                        # a download a correct client is still retrying is not stuck before its EXCHANGE_LIFETIME is over
                        download_timeout=max(DOWNLOAD_TIMEOUT, timing.connection_lost_wait),
                        modes=modes, bootstrap=bootstrap,
                    )
                except BaseException:
                    with contextlib.suppress(Exception):  # report the error that ended the session, not a closing one
                        bench.close()
                    raise
                bench.keep_power = keep_power
                bench.close()
        finally:
            await server.stop()
