"""targets/*.toml + the rig file -> Place: everything one board on the bench needs, validated once.

Errors are one line naming the file, the key and the fix, e.g.
"hardware/rig.toml: places.k64f-1.power.pin: must be a BCM GPIO number 2..27, got 'x'",
because the person reading them is at a bench, not in a debugger.

A place can also come from a target file alone (`--target FILE`): a host-process
or virtual target needs no wiring, so its backends follow from its kind.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig import placeholders
from rig.backend_config import LABGRID, BackendConfig, check_backend
from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.lwm2m.profile import Profile
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.start_state import StartState
from rig.lwm2m.transmission import CoapTiming
from rig.package_spec import PackageSpec
from rig.placeholders import fill
from rig.target_files import targets_dir
from rig.target_security import Security, per_run_key, read_psk
from rig.target_tables import console_table, process_table
from rig.version_rule import VersionRule

KINDS = ("virtual", "board", "process")
PROFILE_CHOICES: dict[str, tuple[Any, ...]] = {
    "object5_version": ("1.0", "1.1", "1.2"),
    "failure_returns_to": ("idle", "downloaded"),
    "reset_in_downloading": ("honoured", "ignored"),
    "resumes_download": (True, False),
    "invalid_uri": ("direct", "via-downloading"),
    "keeps_real_time": (True, False),
}
DEFAULT_BACKENDS = {  # backends a place gets when the rig file does not say (or there is no rig file)
    "process": {"power": "process", "console": "process", "probe": "file"},
    "virtual": {"power": "sim", "console": "sim", "probe": "sim"},
}
DEFAULT_TARGETS_DIR = targets_dir()  # the checkout's targets/, or rig.targets in a wheel (rig.target_files)


@dataclass(frozen=True)
class Lwm2mIdentity:
    endpoint: str
    psk_identity: str | None = None
    psk_key: bytes | None = field(default=None, repr=False)  # never printed
    per_run: bool = False  # the key was made for this run (a target's [security] per_run_key)
    allow_nosec: bool = False  # a keyed endpoint the bench also lets register over plain CoAP


@dataclass(frozen=True)
class LabRef:
    """A place whose wiring comes from a labgrid coordinator (rig.lab): its name there (or "+TOKEN" of a
    reservation), the coordinator (None: $LG_COORDINATOR), and whether this process holds it already."""

    place: str
    coordinator: str | None = None
    token: str | None = None
    held: bool = False


@dataclass(frozen=True)
class Place:
    name: str
    target_name: str
    target_file: Path
    kind: str
    target: dict[str, Any]  # the parsed target file, for pieces that read their own tables
    layout: FlashLayout
    profile: dict[str, Any]  # the target's [lwm2m] answers where the spec leaves a choice
    boot_timeout: float
    power: BackendConfig
    console: BackendConfig | None
    probe: BackendConfig | None
    lwm2m: Lwm2mIdentity
    safe_state: str = "off"
    work_dir: Path | None = None
    lock_dir: Path = Path("/run/lock")
    source: str = ""
    lab: LabRef | None = None  # power/console/probe from labgrid, filled in when the place is acquired
    # Where the rig's servers listen, when a command (--host/--port) or a `rig sim` board (its board.json) says;
    # None: the place's default (server_host_default; 5683 on a bench, a free port for a host process).
    server_port: int | None = None  # the LwM2M port the board registers with, when not 5683
    server_host: str | None = None
    bootstrap_port: int | None = None  # the rig's bootstrap server, where a bootstrapping `rig sim` board looks for it
    bootstrap_lifetime: int | None = None  # the registration lifetime such a board was started with
    reset_command: tuple[str, ...] = ()  # a process target's [process] reset_command, static placeholders filled

    # What the kind of place means for opening it, decided here once (the place layer reads these, never the kind).
    @property
    def virtual_board(self) -> bool:
        """The place is the virtual board: one the rig starts itself, or one `rig sim` runs (attach_sim)."""
        return self.kind == "virtual"

    @property
    def starts_own_board(self) -> bool:
        """A virtual place no `rig sim` board is attached to: opening it starts a board of its own."""
        return self.virtual_board and "control_port" not in self.power.options

    @property
    def device_on_this_host(self) -> bool:
        """The device is a process the rig starts here (a process target): the server listens on 127.0.0.1, on any
        free port, since the device is told where; a board comes over the bench LAN to the well-known port."""
        return self.kind == "process"

    @property
    def server_host_default(self) -> str:
        return "127.0.0.1" if self.device_on_this_host else "0.0.0.0"

    @property
    def fills_server_into_command(self) -> bool:
        """The power starts the device from a command whose placeholders take the server's address and key."""
        return self.power.backend == "process"

    def console_options(self) -> dict[str, Any]:
        """The console's options; an RTT console takes the probe id and target type from the place's pyocd probe
        (and its target's debug table) when its own table does not name them. Read when the place is opened, after
        a labgrid place got its backends."""
        assert self.console is not None
        opts = dict(self.console.options)
        if self.console.backend != "rtt":
            return opts
        probe = self.probe.options if self.probe is not None and self.probe.backend == "pyocd" else {}
        opts.setdefault("unique_id", probe.get("unique_id"))
        opts.setdefault("target_type", probe.get("target_type") or self.target.get("debug", {}).get("pyocd_target"))
        if not opts["unique_id"] or not opts["target_type"]:
            raise RigError(f"{self.source}: places.{self.name}.console: rtt needs unique_id and target_type "
                           "(or a pyocd probe to take them from)")
        return opts


@dataclass(frozen=True)
class Target:
    name: str
    path: Path
    kind: str
    data: dict[str, Any]
    layout: FlashLayout
    profile: dict[str, Any]
    boot_timeout: float

    @property
    def starts_own_board(self) -> bool:
        """A virtual target: with no place and no `rig sim` board named, the rig starts the board itself."""
        return self.kind == "virtual"


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RigError(f"{what} {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RigError(f"{path}: not valid TOML: {exc}") from None


def load_target(path: Path) -> Target:
    """Read and check one targets/*.toml file."""
    src = str(path)
    data = _read_toml(Path(path), "target file")
    meta = data.get("target")
    if not isinstance(meta, dict):
        raise RigError(f"{src}: missing [target] table (name, kind, verified_on_hardware)")
    kind = meta.get("kind")
    if kind not in KINDS:
        raise RigError(f"{src}: target.kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    layout = FlashLayout.from_target(data, src)
    profile = dict(data.get("lwm2m", {}))
    for key, choices in PROFILE_CHOICES.items():
        if key not in profile:
            raise RigError(f"{src}: lwm2m.{key}: missing; say what this device does ({' or '.join(map(repr, choices))})")
        if profile[key] not in choices:
            raise RigError(f"{src}: lwm2m.{key}: must be one of {', '.join(map(repr, choices))}, got {profile[key]!r}")
    Profile.from_target(data, src)  # the whole [lwm2m] table: [lwm2m.deferral], max_package_size, unknown keys
    timeout = data.get("boot", {}).get("timeout", 30.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise RigError(f"{src}: boot.timeout: must be seconds > 0, got {timeout!r}")
    CoapTiming.from_target(data, src)  # tables read again where they are used: check them now
    StartState.from_target(data, src)
    PackageSpec.from_target(data, src)
    VersionRule.from_target(data, src)
    Security.from_target(data, src, Path(path).parent, read_key=False)
    console_table(data.get("console", {}), src)
    DeviceModes.from_target(data, src)
    if kind == "process":
        process_table(data.get("process"), src)
    return Target(str(meta.get("name") or Path(path).stem), Path(path), kind, data, layout, profile, float(timeout))


def resolve_target(ref: str, base_dir: Path, targets_dir: Path) -> Path:
    """A target given as a path (absolute or relative to the rig file) or as a name in targets/."""
    if ref.endswith(".toml") or "/" in ref:
        path = Path(ref)
        return path if path.is_absolute() else base_dir / path
    return targets_dir / f"{ref}.toml"


def _place(name: str, raw: Any, src: str, base_dir: Path, targets_dir: Path, rig: dict[str, Any]) -> Place:
    where = f"places.{name}"
    if not isinstance(raw, dict):
        raise RigError(f"{src}: {where}: must be a table")
    known = {"target", "safe_state", "test", "power", "console", "probe", "lwm2m", "work_dir", "labgrid"}
    for key in raw:
        if key not in known:
            raise RigError(f"{src}: {where}.{key}: unknown key; known: {', '.join(sorted(known))}")
    ref = raw.get("target")
    if not isinstance(ref, str):
        raise RigError(f"{src}: {where}.target: missing; name a file in targets/ (e.g. \"frdm_k64f\") or a path")
    path = resolve_target(ref, base_dir, targets_dir)
    if not path.exists():
        raise RigError(f"{src}: {where}.target: no target file {path}")
    target = load_target(path)
    test = raw.get("test", False)
    if not isinstance(test, bool):
        raise RigError(f"{src}: {where}.test: must be true or false, got {test!r}")
    safe = raw.get("safe_state", "off")
    if safe not in ("off", "on"):
        raise RigError(f"{src}: {where}.safe_state: must be \"off\" or \"on\", got {safe!r}")
    work_dir = Path(raw.get("work_dir") or Path(rig.get("work_dir", base_dir / "work")) / name)
    work_dir = work_dir if work_dir.is_absolute() else base_dir / work_dir
    lab = _lab_ref(raw.get("labgrid"), rig.get("labgrid_coordinator"), f"{where}.labgrid", src)
    return build_place(name, target, src, raw, base_dir, work_dir, Path(rig.get("lock_dir", "/run/lock")), safe, test,
                       lab=lab)


def _lab_ref(name: Any, coordinator: Any, where: str, src: str) -> LabRef | None:
    """`labgrid = "PLACE"`: the wiring comes from that labgrid place ([rig] labgrid_coordinator or $LG_COORDINATOR)."""
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise RigError(f"{src}: {where}: must be the name of a labgrid place, got {name!r}")
    if coordinator is not None and (not isinstance(coordinator, str) or not coordinator):
        raise RigError(f"{src}: rig.labgrid_coordinator: must be HOST:PORT, got {coordinator!r}")
    return LabRef(name, coordinator)


def build_place(
    name: str, target: Target, src: str, raw: dict[str, Any], base_dir: Path,
    work_dir: Path, lock_dir: Path, safe_state: str = "off", test: bool = False, lab: LabRef | None = None,
) -> Place:
    """Join a target and a place table (possibly empty) into a Place. A labgrid place gets what its table
    does not name from the coordinator when it is acquired (a "labgrid" power until then)."""
    where = f"places.{name}"
    defaults = DEFAULT_BACKENDS.get(target.kind, {})
    if target.kind == "board" and "power" not in raw and lab is None:
        raise RigError(f"{src}: {where}.power: missing; a board needs a power backend (gpio, command or manual)")
    power = check_backend("power", raw.get("power"), f"{where}.power", src, defaults.get("power"))
    if power is None and lab is not None:
        power = BackendConfig(LABGRID, {"place": lab.place})
    console = check_backend("console", raw.get("console"), f"{where}.console", src, defaults.get("console"))
    probe = check_backend("probe", raw.get("probe"), f"{where}.probe", src, defaults.get("probe"))
    lw = raw.get("lwm2m", {})
    if not isinstance(lw, dict):
        raise RigError(f"{src}: {where}.lwm2m: must be a table (endpoint, psk_identity, psk_key_file, allow_nosec)")
    endpoint = lw.get("endpoint", f"rig-{name}")
    if not isinstance(endpoint, str) or not endpoint:
        raise RigError(f"{src}: {where}.lwm2m.endpoint: must be a non-empty string, got {endpoint!r}")
    lwm2m = _identity(lw, endpoint, target, where, src, test, base_dir)
    variables = {"workdir": str(work_dir), "endpoint": endpoint, "place": name, "python": sys.executable,
                 "target_file": str(Path(target.path).resolve()), "target_dir": str(Path(target.path).resolve().parent)}
    reset: tuple[str, ...] = ()
    if target.kind == "process":
        process = target.data.get("process", {})
        variables["flash_file"] = process.get("flash_file", "flash.bin")
        if power is not None and power.backend == "process":
            argv = power.options.get("argv", process["command"])
            argv = argv.split() if isinstance(argv, str) else argv
            env = {**process.get("env", {}), **power.options.get("env", {})}
            placeholders.check([*argv, *env.values()], placeholders.PROCESS, f"{where}.power", src)
            power = BackendConfig("process", {
                "argv": [fill(a, variables) for a in argv], "cwd": work_dir,
                "env": {k: fill(v, variables) for k, v in env.items()} or None,
                "stdin": power.options.get("stdin", process.get("stdin", "null")),
            })
        reset = tuple(fill(a, variables) for a in process.get("reset_command", ()))
        if probe is not None and probe.backend == "file":
            flash_file = probe.options.get("flash_file", variables["flash_file"])
            probe = BackendConfig("file", {"flash_file": work_dir / flash_file})
    if probe is not None and probe.backend == "pyocd":
        debug = target.data.get("debug", {})
        opts = dict(probe.options)
        opts.setdefault("target_type", debug.get("pyocd_target"))
        if not opts["target_type"]:
            raise RigError(f"{src}: {where}.probe.target_type: missing, and {target.path} has no debug.pyocd_target")
        if debug.get("pack") and "pack" not in opts:
            opts["pack"] = debug["pack"]
        probe = BackendConfig("pyocd", opts)
    if console is not None and console.backend == "serial" and "baudrate" not in console.options:
        baud = target.data.get("console", {}).get("baudrate")
        if baud:
            console = BackendConfig("serial", {**console.options, "baudrate": baud})
    return Place(
        name=name, target_name=target.name, target_file=target.path, kind=target.kind, target=target.data,
        layout=target.layout, profile=target.profile, boot_timeout=target.boot_timeout, power=power,
        console=console, probe=probe, lwm2m=lwm2m, safe_state=safe_state, work_dir=work_dir,
        lock_dir=lock_dir, source=src, lab=lab, reset_command=reset,
    )


def _identity(lw: dict[str, Any], endpoint: str, target: Target, where: str, src: str, test: bool,
              base_dir: Path) -> Lwm2mIdentity:
    """Endpoint and PSK: the place's own (rig file), else the target's [security] table, else one made per run
    when the target says its client takes any key (security.per_run_key)."""
    psk = read_psk(lw, f"{where}.lwm2m", src, test, base_dir)
    identity = lw.get("psk_identity")
    allow_nosec = lw.get("allow_nosec", False)
    if not isinstance(allow_nosec, bool):
        raise RigError(f"{src}: {where}.lwm2m.allow_nosec: must be true or false, got {allow_nosec!r}")
    if psk is not None:
        return Lwm2mIdentity(endpoint, identity or endpoint, psk, allow_nosec=allow_nosec)
    security = Security.from_target(target.data, str(target.path), Path(target.path).parent)
    identity = identity or security.psk_identity or endpoint
    if security.psk_key is not None:
        return Lwm2mIdentity(endpoint, identity, security.psk_key, allow_nosec=allow_nosec)
    if allow_nosec:
        raise RigError(f"{src}: {where}.lwm2m.allow_nosec: the place has no PSK, so plain CoAP is already all it uses")
    if security.per_run_key:
        return Lwm2mIdentity(endpoint, identity, per_run_key(), per_run=True)
    return Lwm2mIdentity(endpoint, lw.get("psk_identity"))


def load_rig(path: Path, targets_dir: Path | None = None) -> dict[str, Place]:
    """All places of a rig file, checked."""
    path = Path(path)
    data = _read_toml(path, "rig file")
    src = str(path)
    rig = data.get("rig", {})
    if not isinstance(rig, dict):
        raise RigError(f"{src}: [rig] must be a table")
    base = path.parent
    tdir = targets_dir or (Path(rig["targets_dir"]) if "targets_dir" in rig else DEFAULT_TARGETS_DIR)
    tdir = tdir if tdir.is_absolute() else base / tdir
    places = data.get("places")
    if not isinstance(places, dict) or not places:
        raise RigError(f"{src}: no [places.NAME] tables; see hardware/rig.example.toml")
    return {name: _place(name, raw, src, base, tdir, rig) for name, raw in places.items()}


def load_place(rig_file: Path, name: str, targets_dir: Path | None = None) -> Place:
    """One place of the rig file (`--place NAME`)."""
    places = load_rig(rig_file, targets_dir)
    if name not in places:
        raise RigError(f"{rig_file}: no place {name!r}; places: {', '.join(sorted(places))}")
    return places[name]


def place_from_target(target_file: Path, work_dir: Path, lock_dir: Path = Path("/run/lock"), name: str | None = None) -> Place:
    """A place from a target file alone (`--target FILE`): host-process and virtual targets need no rig file."""
    target = load_target(Path(target_file))
    if target.kind == "board":
        raise RigError(
            f"{target_file} is a board: it needs a place in a rig file (power, probe, serial); use --place NAME"
        )
    place_name = name or target.name
    return build_place(place_name, target, str(target_file), {}, Path(target_file).parent, Path(work_dir), Path(lock_dir))
