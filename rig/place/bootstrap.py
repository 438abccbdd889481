"""The rig's bootstrap server for a place whose device bootstraps first (`[lwm2m] bootstrap = true`).

It listens beside the place's LwM2M server: on port+100 on a bench (5783 next to
5683, coaps 5784, the ports Leshan's public bootstrap server uses), on a free
port for a process target (its command gets `{bootstrap_uri}`), or where a `rig
sim` board was told to look (`--sim-dir`: its board.json). What it writes is an
account on the place's own LwM2M server, with the place's PSK over coaps.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from rig.config import Place
from rig.lwm2m.bootstrap_account import DEFAULT_LIFETIME
from rig.lwm2m.bootstrap_server import BootstrapServer, rig_account
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair

BOOTSTRAP_PORT_OFFSET = 100


@contextlib.asynccontextmanager
async def place_bootstrap(server: Lwm2mServer, place: Place, modes: DeviceModes, port: int | None = None,
                          lifetime: int | None = None) -> AsyncIterator[BootstrapServer | None]:
    """A running bootstrap server for `server`'s place (None when the device does not bootstrap)."""
    if port is None and not modes.bootstrap:
        yield None
        return
    if port is None:
        port = free_udp_pair(server.host) if place.device_on_this_host else server.port + BOOTSTRAP_PORT_OFFSET
    accounts = rig_account(server.host, server.port, server.psk_store, lifetime or DEFAULT_LIFETIME)
    bootstrap = BootstrapServer(server.timeline, accounts, host=server.host, port=port, psk_store=server.psk_store,
                                binding=server.binding)
    await bootstrap.start()
    try:
        yield bootstrap
    finally:
        await bootstrap.stop()
