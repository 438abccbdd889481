"""Which place a command means: --place/--rig ($RIG_FILE, ./rig.toml), else --target, else the virtual board.

Every bench command and `rig run` resolves its place here, so the same options
name the same place everywhere. A `rig sim --dir DIR` board is attached here too
(`attach_sim`): its board.json turns into the place's backends.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from rig.config import BackendConfig, Place, load_place, place_from_target
from rig.errors import RigError
from rig.target_files import find_target, shipped

RIG_FILE_ENV = "RIG_FILE"
DEFAULT_RIG_FILE = Path("rig.toml")


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


def self_started_board(target_file: Path, work_dir: Path) -> Place:
    """The place of a virtual board the run starts itself (`rig run` with no place): opening it starts the board."""
    place = place_from_target(Path(target_file), Path(work_dir), lock_dir=Path(work_dir))
    if not place.starts_own_board:
        raise RigError(f"{target_file}: a {place.kind} target is not a virtual board the rig can start itself")
    return place


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
    if not place.virtual_board:
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
