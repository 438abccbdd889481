"""`rig update IMAGE`: one Object 5 firmware update of a place, watched from start to the new image running.

Serves the package (push: Block1 writes to /5/0/0; pull: a coap or coaps URI
written to /5/0/1), waits for the device to register, observes State and Update
Result and prints them (and every response code of the rig's requests) as they
change with a progress bar from the block events, executes Update and waits for
the re-registration. It stops waiting as soon as the outcome is known: a
terminal Update Result (8, or a failure back in Idle/Downloaded), or a
host-process target whose process exited. Exit 0 only if the device came back
running the image's version with Update Result 1.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.errors import RigError
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import RESULT_NAMES, STATE_NAMES
from rig.place.power_policy import power_for_server
from rig.timeline import Event, Timeline

BLOCK_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("update", help="update a place's firmware through LwM2M Object 5", description=__doc__)
    p.add_argument("image", type=Path, help="the package to install (a signed MCUboot image, or what the target's "
                                              "[package] format takes)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--push", action="store_true", help="write the package into /5/0/0 (Block1)")
    how.add_argument("--pull", choices=("coap", "coaps"), nargs="?", const="coap", default=None,
                     help="write a package URI to /5/0/1 and let the device fetch it (default, coap)")
    p.add_argument("--block-size", type=int, default=512, choices=BLOCK_SIZES, help="push block size (default 512)")
    p.add_argument("--wait", type=float, default=60.0, metavar="S",
                   help="how long to wait for the device to register (default 60 s)")
    p.add_argument("--cycle", action="store_true",
                   help="power-cycle the device once the server is up, so it registers now (a device registered"
                        " with an earlier server comes back only at its next registration update)")
    add_place_options(p, server=True)
    p.set_defaults(func=run)


class Watcher:
    """Prints State / Update Result when they change and a progress bar from block events (10 % steps)."""

    def __init__(self, endpoint: str, total: int) -> None:
        self.endpoint = endpoint
        self.total = max(total, 1)
        self.values: dict[str, Any] = {}
        self.shown_step = -1

    def __call__(self, event: Event) -> None:
        d = event.data
        if event.kind == "request" and d.get("endpoint") == self.endpoint and d.get("op") in ("write", "execute") \
                and str(d.get("path", "")).startswith("/5/0"):
            answer = d.get("code") or f"no answer ({d.get('error') or 'timeout'})"
            print(f"{d['op'].capitalize()} {d['path']}: {answer}", flush=True)
        elif event.kind == "request-held" and d.get("endpoint") == self.endpoint and d.get("asleep"):
            print(f"the device sleeps (queue mode): {d.get('op')} {d.get('path')} waits for its next wake-up",
                  flush=True)
        elif event.kind == "push-ended" and d.get("endpoint", self.endpoint) == self.endpoint:
            print(f"push ended at {d.get('offset', '?')} bytes: the device answered {d.get('code') or 'nothing'}",
                  flush=True)
        if event.kind in lwm2m.REPORTS and d.get("endpoint") == self.endpoint:
            for key, label, names in ((lwm2m.STATE, "State", STATE_NAMES), (lwm2m.RESULT, "Update Result", RESULT_NAMES)):
                value = lwm2m.values(event).get(key)
                if value is not None and self.values.get(key) != value:
                    self.values[key] = value
                    print(f"{label}: {value} ({names.get(value, '?')})", flush=True)
        elif event.kind in ("block1", "block2"):
            done = min(d["offset"] + d["size"], d.get("total") or self.total)
            step = int(10 * done / (d.get("total") or self.total))
            if step != self.shown_step:
                self.shown_step = step
                print(f"[{'#' * step:<10}] {done * 100 // (d.get('total') or self.total):3d}% "
                      f"{done}/{d.get('total') or self.total} bytes", flush=True)
        elif lwm2m.is_registration(event, self.endpoint):
            print(f"registered: {self.endpoint} from {d.get('peer')}", flush=True)


def run(args: argparse.Namespace) -> int:
    from rig.packages import package_format  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.place.server_values import require_key  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if not args.image.is_file():
        raise RigError(f"image {args.image}: no such file")
    if args.wait <= 0:
        raise RigError(f"--wait {args.wait}: must be > 0 seconds")
    place = place_from_args(args)
    require_key(place, args.pull or "coap")  # a coaps pull without a key is the rig's mistake: say so now
    checked = package_format(place.target, place.target_file, place.layout).accept(args.image, "image")
    if checked.note:
        print(f"note: {checked.note}", flush=True)
    return asyncio.run(_update(args, place, checked.version))


async def _update(args: argparse.Namespace, place: Any, version: str) -> int:
    from rig.campaign.driver import UpdateDriver  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.campaign.update_flow import full_update  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.campaign.version_sources import read_version  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.place.open import open_place  # noqa: PLC0415 -- start-up cost: aiocoap loads only for commands that serve

    mode = "push" if args.push else "pull"
    scheme = args.pull or "coap"
    timeline = Timeline()
    timeline.subscribe(Watcher(place.lwm2m.endpoint, args.image.stat().st_size))
    with tempfile.TemporaryDirectory() as firmware_dir:
        package = Path(firmware_dir) / args.image.name
        shutil.copyfile(args.image, package)
        async with open_place(place, timeline, work_dir_of(place, args), Path(firmware_dir), scheme=scheme,
                              keep_power=True) as session:
            if args.cycle:
                session.power.cycle(1.0)
            else:
                power_for_server(session.power)
            where = f"coap://{session.server.host}:{session.server.port}"
            if scheme == "coaps":
                where += f" or coaps://{session.server.host}:{session.server.port + 1}"
            if session.bootstrap is not None:
                where += f" (through the bootstrap server {session.bootstrap.uri})"
            print(f"waiting up to {args.wait:g} s for {session.endpoint} to register at {where}", flush=True)
            exited = _exit_of(session.power)
            try:
                await _unless_exited(session.server.wait_registration(session.endpoint, args.wait, after=0), exited)
            except RigError as exc:
                print(f"FAILED: {exc}; is the device set to coap://{session.server.host}:{session.server.port}"
                      f" and powered? (--cycle reboots it; last console line: {session.last_console_line()!r})",
                      flush=True)
                return 1
            driver = UpdateDriver(session)
            await driver.observe()
            await driver.read_state()
            how = f"push, {args.block_size}-byte blocks" if mode == "push" else f"pull over {scheme}"
            print(f"updating {session.endpoint} to {version} ({how})", flush=True)
            try:
                outcome = await _unless_exited(full_update(driver, package, mode, args.block_size, None), exited)
            except RigError as exc:
                print(f"FAILED: {exc}; last console line: {session.last_console_line()!r}", flush=True)
                return 1
            registered = session.server.registry.table.by_name(session.endpoint) is not None
            state, result = await driver.read_state() if registered else (None, None)
            if outcome != "registered":
                print(f"FAILED: the update ended {_ENDED.get(outcome, outcome)}: {_object5(state, result)}"
                      f"{_last_answer(timeline, session.endpoint)}; last console line: "
                      f"{session.last_console_line()!r}", flush=True)
                return 1
            await driver.observe()
            state, result = await driver.read_state()
            now = await read_version(session)  # where the target says (/3/0/3 unless its [version] table differs)
            same = session.versions.same
    ok = result == 1 and same(now, version)
    print(f"{'updated' if ok else 'FAILED'}: running {now!r} (wanted {version}), {_object5(state, result)}",
          file=sys.stdout, flush=True)
    return 0 if ok else 1


_ENDED = {
    "failed": "in failure", "stuck": "stuck in Downloading", "refused": "with Execute Update refused",
    "no-reregistration": "without the device registering again after Execute Update",
}


def _object5(state: int | None, result: int | None) -> str:
    if state is None and result is None:
        return "State and Update Result unread (the device is not registered)"
    return (f"State {state} ({STATE_NAMES.get(state, '?')}), Update Result {result} "
            f"({RESULT_NAMES.get(result, '?') if result is not None else 'unread'})")


def _last_answer(timeline: Timeline, endpoint: str) -> str:
    """The last answer to one of the rig's Object 5 requests that was not a success, if any."""
    for event in reversed(timeline.events()):
        d = event.data
        if event.kind == "request" and d.get("endpoint") == endpoint and d.get("op") in ("write", "execute") \
                and not lwm2m.answered_ok(d.get("code")):
            return f"; {d['op'].capitalize()} {d.get('path')} answered {d.get('code') or 'nothing'}"
        if event.kind == "push-ended" and d.get("code"):
            return f"; the push was answered {d['code']}"
    return ""


def _exit_of(power: Any) -> "asyncio.Future[int] | None":
    """For a host-process target: a future that ends with the process's exit status (None for other power)."""
    process = power.client_process()
    if process is None:
        return None
    return asyncio.ensure_future(asyncio.to_thread(process.wait))


async def _unless_exited(coro: Any, exited: "asyncio.Future[int] | None") -> Any:
    """`coro`'s result, unless the target's process exits first: then a RigError with its exit status."""
    if exited is None:
        return await coro
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    raise RigError(f"the target's process exited (status {exited.result()}) while the rig waited for it")
