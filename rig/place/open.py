"""Open a place: the one way, for `rig run`, the bench commands and the pytest plugin alike.

A place with a running LwM2M server, its lock held, its backends built, its
bootstrap server when the device bootstraps, and its power left in the safe state
however the session ends. A virtual place no `rig sim` board is attached to starts
its own board (rig.place.virtual), with the options only such a board has (the
image key its bootloader trusts, queue mode, bootstrap); a labgrid place is
acquired for the session. Which of these applies is read from the resolved place
(rig.config.Place), never from its kind or backend names.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from rig.config import Place
from rig.errors import RigError
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.dtls.psk import PskEntry, PskStore
from rig.lwm2m.profile import Profile
from rig.lwm2m.server import Lwm2mServer
from rig.lwm2m.start_state import StartState
from rig.lwm2m.transmission import CoapTiming
from rig.netutil import free_udp_pair
from rig.place.bench import LWM2M_PORT, build_bench
from rig.place.bootstrap import place_bootstrap
from rig.place.lab_hold import hold_lab_place
from rig.place.lock import PlaceLock
from rig.place.server_values import fill_server, require_key, serves_key
from rig.place.session import PlaceSession
from rig.place.virtual import BOARD_ARGS, virtual_place
from rig.timeline import Timeline
from rig.version_rule import VersionRule

DOWNLOAD_TIMEOUT = 120.0  # s a whole download may take on a board (at least the client's connection-lost wait)


@dataclass(frozen=True)
class OwnBoard:
    """What only a virtual board the rig starts itself takes: the key its bootloader trusts (it then refuses
    images signed otherwise, and downgrades), whether it sleeps between wake-ups, whether it bootstraps first."""

    image_key: Path | None = None
    queue_mode: bool = False
    bootstrap: bool = False
    board_args: tuple[str, ...] = BOARD_ARGS  # `rig sim` options of the board itself (tests tune its flash timing)


@contextlib.asynccontextmanager
async def open_place(
    place: Place, timeline: Timeline, work_dir: Path, firmware_dir: Path, *,
    base_image: Path | None = None, defects: tuple[str, ...] = (), scheme: str = "coap",
    own_board: OwnBoard = OwnBoard(), keep_power: bool = False,
) -> AsyncIterator[PlaceSession]:
    """A place with a running LwM2M server. A virtual place with no `rig sim` attached starts its own board
    (needs base_image; `own_board` tunes it); a process target gets a free port filled into its command unless
    the place names one (Place.server_port, --port). keep_power: on a normal exit leave a persistent power backend
    as it is (bench commands); errors and Ctrl-C always end in the safe state. A target with
    `lwm2m.bootstrap = true` (or a place with a bootstrap_port) also gets the rig's bootstrap server."""
    # A labgrid place is acquired for the session and released however it ends (its wiring comes from labgrid).
    # labgrid-client runs as a subprocess here, before the server starts: nothing else waits on this loop yet.
    with hold_lab_place(place) as held:
        if held.starts_own_board:
            if base_image is None:
                raise RigError("the virtual board needs a base image to start from, or attach a running one with "
                               "--sim-dir")
            async with virtual_place(held.target_file, Path(work_dir), Path(firmware_dir), Path(base_image), timeline,
                                     defects, own_board.board_args, scheme=scheme, image_key=own_board.image_key,
                                     queue_mode=own_board.queue_mode, bootstrap=own_board.bootstrap) as session:
                yield session
            return
        if own_board != OwnBoard():
            raise RigError(f"place {held.name}: an image key, queue mode, bootstrap and board options are chosen for a "
                           "virtual board the rig starts itself; this place's target file says what its device does")
        async with _serve(held, timeline, Path(work_dir), Path(firmware_dir), scheme, keep_power) as session:
            yield session


@contextlib.asynccontextmanager
async def _serve(place: Place, timeline: Timeline, work_dir: Path, firmware_dir: Path, scheme: str,
                 keep_power: bool) -> AsyncIterator[PlaceSession]:
    """The lock, the server (and bootstrap server), then the backends with the server filled into their command."""
    require_key(place, scheme)
    host = place.server_host or place.server_host_default  # boards come over the bench LAN, a host process locally
    port = place.server_port or (free_udp_pair(host) if place.device_on_this_host else LWM2M_PORT)
    timing = CoapTiming.from_target(place.target, str(place.target_file))
    modes = DeviceModes.from_target(place.target, str(place.target_file))
    with PlaceLock(place.name, place.lock_dir):
        server = Lwm2mServer(timeline, firmware_dir, host=host, port=port, psk_store=psk_store(place, scheme),
                             allow_nosec=(place.lwm2m.endpoint,) if place.lwm2m.allow_nosec else (),
                             awake_time=modes.awake(timing))
        await server.start()
        try:
            async with place_bootstrap(server, place, modes, place.bootstrap_port, place.bootstrap_lifetime) as bootstrap:
                bench = build_bench(fill_server(place, host, port, scheme, bootstrap), timeline, work_dir)
                assert bench.power is not None
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


def psk_store(place: Place, scheme: str) -> PskStore | None:
    """The server's key for the place (None: it holds none, see rig.place.server_values.serves_key)."""
    if not serves_key(place, scheme) or place.lwm2m.psk_key is None:
        return None
    identity = (place.lwm2m.psk_identity or place.lwm2m.endpoint).encode("utf-8")
    return PskStore([PskEntry(place.lwm2m.endpoint, identity, place.lwm2m.psk_key)])
