"""The lab options of `rig run` in one block: --shard, --lg-tags, --lg-place, --lg-wait.

`--lg-tags target=frdm_k64f` reserves any free labgrid place with those tags
(waiting for one), `--lg-place NAME` names one (`+`: the reservation in
$LG_TOKEN, as labgrid-client's `-p +`). The place's tags name its target file
and endpoint; the place is acquired when the run opens it and released however
the run ends. A rig-file place with `labgrid = "NAME"` needs none of these.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
from pathlib import Path
from typing import Any, Iterator

from rig.campaign.shard import shard_arg
from rig.config import DEFAULT_TARGETS_DIR, Place
from rig.errors import RigError

DEFAULT_WAIT = 3600.0


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("lab", "labgrid places and shards (hardware/README.md: A lab of many Pis)")
    group.add_argument("--shard", type=shard_arg, metavar="I/N",
                       help="run the I-th of N shares of the cut plans (same --points/--seed everywhere); "
                            "join the shards' reports with `rig merge`")
    group.add_argument("--lg-tags", nargs="+", metavar="KEY=VALUE",
                       help="reserve any labgrid place with these tags (coordinator: $LG_COORDINATOR)")
    group.add_argument("--lg-place", metavar="NAME",
                       help="a labgrid place by name; '+' is the reservation in $LG_TOKEN")
    group.add_argument("--lg-wait", type=float, default=DEFAULT_WAIT, metavar="S",
                       help=f"seconds to wait for a reserved place to become free (default {DEFAULT_WAIT:g})")


def _tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise RigError(f"--lg-tags {pair}: must be KEY=VALUE, e.g. target=frdm_k64f")
        tags[key] = value
    return tags


@contextlib.contextmanager
def lab_place_of(args: argparse.Namespace, work_dir: Path) -> Iterator[Place | None]:
    """The labgrid place the options name (None without them), for the block."""
    tags, name = getattr(args, "lg_tags", None), getattr(args, "lg_place", None)
    if not tags and not name:
        yield None
        return
    if args.place or args.target or args.rig:
        raise RigError("--lg-tags/--lg-place choose the place; leave out --place, --rig and --target")
    if tags and name:
        raise RigError("give --lg-tags or --lg-place, not both")
    from rig.place.lab_hold import place_from_lab, reserved_place  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if tags:
        with reserved_place(_tags(tags), None, work_dir, DEFAULT_TARGETS_DIR, args.lg_wait) as place:
            yield place
        return
    token = None
    if name.startswith("+"):
        token = name[1:] or os.environ.get("LG_TOKEN")
        if not token:
            raise RigError("--lg-place +: no reservation token (set $LG_TOKEN, or give +TOKEN)")
    yield place_from_lab(name, None, work_dir, DEFAULT_TARGETS_DIR, token=token)


def lab_params(place: Place | None) -> dict[str, Any]:
    """What report.json says about where the run ran: `rig merge` shows it per case."""
    where = place.lab.place if place is not None and place.lab is not None else (place.name if place else "virtual")
    return {"ran_on": where, "host": socket.gethostname()}
