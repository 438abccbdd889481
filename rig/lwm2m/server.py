"""The rig's LwM2M server and firmware server in one aiocoap context.

One socket (coap on `port`, coaps on `port + 1` when keys are given) serves
registration and firmware downloads and sends device-management requests, so a
device sees exactly one peer, as it would with a production server. An endpoint
with a key registers only over coaps with its own identity, unless it is named
in `allow_nosec` (see `endpoint_binding`). Requests to an endpoint that registered
in queue mode are held until it is awake (`presence`, `held_requests`); `awake_time`
is how long such a device listens after each message it sends (a number, or a
function of the endpoint; 93 s, CoAP's MAX_TRANSMIT_WAIT, by default).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable

import aiocoap

from rig.errors import RigError
from rig.lwm2m.advertise import WILDCARDS, local_address_towards, peer_host
from rig.lwm2m.blocks import BlockHook, BlockHooks
from rig.lwm2m.device_management import DeviceManagement, Observation
from rig.lwm2m.dm_response import DmResponse
from rig.lwm2m.endpoint_binding import EndpointBinding
from rig.lwm2m.endpoints import Registration
from rig.lwm2m.events import is_registration
from rig.lwm2m.fast_block2 import FastBlock2
from rig.lwm2m.limits import MAX_ENDPOINTS
from rig.lwm2m.firmware_files import FirmwareStore
from rig.lwm2m.firmware_server import FirmwareResource, FirmwareSite
from rig.lwm2m.held_requests import HeldRequests
from rig.lwm2m.presence import Presence
from rig.lwm2m.push import PushResult, push_package
from rig.lwm2m.registration import RegisterResource, RegistrationLocations, RegistrationRegistry
from rig.lwm2m.send import SendResource
from rig.lwm2m.transmission import CoapTiming
from rig.timeline import Timeline
from rig.lwm2m.dtls.transport import attach_coaps

log = logging.getLogger("rig.lwm2m.server")


class Lwm2mServer:
    def __init__(
        self,
        timeline: Timeline,
        firmware_dir: Path,
        host: str = "127.0.0.1",
        port: int = 5683,
        psk_store: Any = None,
        max_endpoints: int = MAX_ENDPOINTS,
        request_timeout: float = 30.0,
        allow_nosec: Iterable[str] = (),
        awake_time: float | Callable[[str], float] | None = None,
    ) -> None:
        self.timeline = timeline
        self.host = host
        self.port = port
        self.psk_store = psk_store
        self.binding = EndpointBinding(psk_store, allow_nosec)  # a RigError for an allow_nosec endpoint without a key
        self.store = FirmwareStore(firmware_dir)
        self.hooks = BlockHooks()
        self._max_endpoints = max_endpoints
        self._request_timeout = request_timeout
        self.context: aiocoap.Context | None = None
        self._coaps: Any = None
        self.fast_block2: FastBlock2 | None = None  # firmware blocks answered at the message layer (both sockets)
        self.registry: RegistrationRegistry | None = None
        self.dm: DeviceManagement | None = None
        awake = CoapTiming().max_transmit_wait if awake_time is None else awake_time
        self.awake_time: Callable[[str], float] = awake if callable(awake) else (lambda _endpoint: float(awake))
        self.presence: Presence | None = None
        self.held: HeldRequests | None = None

    async def start(self) -> None:
        self.registry = RegistrationRegistry(self.timeline, self.binding, self._max_endpoints, self._keep_session)
        site = FirmwareSite()  # routes without aiocoap's per-request deep copy
        site.add_resource(("rd",), RegisterResource(self.registry))
        site.add_resource(("rd",), RegistrationLocations(self.registry))
        firmware = FirmwareResource(self.store, self.hooks, self.timeline)
        site.add_resource(("fw",), firmware)
        self.fast_block2 = FastBlock2(firmware, "fw")
        site.add_resource(("dp",), SendResource(self.registry))
        try:
            self.context = await aiocoap.Context.create_server_context(site, bind=(self.host, self.port), transports=["udp6"])
        except OSError as exc:
            raise RigError(f"cannot listen on coap://{self.host}:{self.port}: {exc.strerror or exc}; "
                           "is another server running there? choose --port") from None
        if self.psk_store is not None:
            try:
                self._coaps = await attach_coaps(self.context, self.host, self.port + 1, self.psk_store, self.timeline)
            except OSError as exc:
                await self.context.shutdown()
                raise RigError(f"cannot listen on coaps://{self.host}:{self.port + 1}: {exc.strerror or exc}") from None
        self.fast_block2.install_on(self.context)
        self.presence = Presence(self.timeline, self.awake_time, self.registry.table.by_name, self._queue_mode_peer)
        self.presence.start()
        self.held = HeldRequests(self.timeline, self.presence, self.registry.table.by_name)
        self.dm = DeviceManagement(self.context, self.timeline, self._request_timeout, self.held)
        self.timeline.append("server-start", host=self.host, port=self.port, coaps=self.psk_store is not None)

    def _queue_mode_peer(self, peer: str) -> str | None:
        """The queue-mode endpoint registered from `peer` ("host:port"), if any: its firmware fetches keep it awake."""
        if self.registry is None:
            return None
        return next((r.endpoint for r in self.registry.table.all() if r.queue_mode and r.peer == peer), None)

    async def stop(self) -> None:
        if self.dm is not None:
            self.dm.cancel_all()
        if self.presence is not None:
            self.presence.close()
        if self.registry is not None:
            self.registry.close()
        if self._coaps is not None:
            await self._coaps.close()
            self._coaps = None
        if self.context is not None:
            await self.context.shutdown()
            self.context = None
        self.timeline.append("server-stop")

    def _keep_session(self, remote: Any, seconds: float | None) -> None:
        """A registration holds its DTLS session for its lifetime (the coaps transport of the moment)."""
        if self._coaps is not None:
            self._coaps.keep(remote, seconds)

    def drop_dtls_sessions(self, peer: Any = None) -> int:
        """Forget the DTLS session of `peer` (all when None), as a server that lost its state would: the
        device must handshake again. Returns how many were dropped (0 without coaps)."""
        return self._coaps.drop_sessions(peer) if self._coaps is not None else 0

    async def restart(self) -> None:
        """Close the sockets and listen again on the same ports, keeping the registrations (a fault plan's
        "restart-server"): what a device sees when the server process restarts mid-download. In-flight
        requests, observations and DTLS sessions are lost; coap registrations' remotes resolve to the new socket.
        """
        if self.context is None or self.registry is None:
            raise RigError("server not started: nothing to restart")
        site = self.context.serversite
        if self.dm is not None:
            self.dm.cancel_all()
        if self._coaps is not None:
            await self._coaps.close()
            self._coaps = None
        await self.context.shutdown()
        self.context = None
        self.timeline.append("server-stop", restart=True)
        self.context = await aiocoap.Context.create_server_context(site, bind=(self.host, self.port), transports=["udp6"])
        if self.psk_store is not None:
            self._coaps = await attach_coaps(self.context, self.host, self.port + 1, self.psk_store, self.timeline)
        if self.fast_block2 is not None:
            self.fast_block2.install_on(self.context)
        self.dm = DeviceManagement(self.context, self.timeline, self._request_timeout, self.held)
        self.timeline.append("server-start", host=self.host, port=self.port, coaps=self.psk_store is not None, restart=True)

    async def __aenter__(self) -> "Lwm2mServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- registrations -------------------------------------------------

    def registration(self, endpoint: str) -> Registration:
        assert self.registry is not None, "server not started"
        reg = self.registry.table.by_name(endpoint)
        if reg is None:
            raise RigError(f"endpoint {endpoint!r} is not registered")
        return reg

    async def wait_registration(self, endpoint: str, timeout: float, after: int | None = None) -> Registration:
        """Wait for a Register of `endpoint` appended to the timeline at index >= `after` (default: now)."""
        start = len(self.timeline) if after is None else after
        event = await self.timeline.wait_for_async(
            lambda e: is_registration(e, endpoint), timeout, start
        )
        if event is None:
            raise RigError(f"endpoint {endpoint!r} did not register within {timeout:g} s")
        return self.registration(endpoint)

    # --- device management ---------------------------------------------

    def _dm(self) -> DeviceManagement:
        assert self.dm is not None, "server not started"
        return self.dm

    async def read(self, endpoint: str, path: str, accept: int | None = None) -> DmResponse:
        return await self._dm().read(self.registration(endpoint), path, accept)

    async def discover(self, endpoint: str, path: str) -> DmResponse:
        return await self._dm().discover(self.registration(endpoint), path)

    async def write(self, endpoint: str, path: str, value: Any, partial: bool = False, content_format: int | None = None) -> DmResponse:
        return await self._dm().write(self.registration(endpoint), path, value, partial=partial, content_format=content_format)

    async def write_text(self, endpoint: str, path: str, text: str) -> DmResponse:
        return await self._dm().write_text(self.registration(endpoint), path, text)

    async def execute(self, endpoint: str, path: str, args: str = "") -> DmResponse:
        return await self._dm().execute(self.registration(endpoint), path, args)

    async def write_attributes(self, endpoint: str, path: str, **attributes: float | int | None) -> DmResponse:
        return await self._dm().write_attributes(self.registration(endpoint), path, **attributes)

    async def observe(self, endpoint: str, path: str, accept: int | None = None) -> tuple[DmResponse, Observation]:
        return await self._dm().observe(self.registration(endpoint), path, accept)

    # --- firmware ------------------------------------------------------

    def add_block_hook(self, hook: BlockHook):
        return self.hooks.add(hook)

    def firmware_uri(self, name: str, scheme: str = "coap", endpoint: str | None = None) -> str:
        """The Package URI for `name`; bound to every interface, it names our address on `endpoint`'s network."""
        if scheme not in ("coap", "coaps"):
            raise RigError(f"firmware URI scheme {scheme!r}: the rig serves coap and coaps")
        port = self.port + 1 if scheme == "coaps" else self.port
        host = self.host
        reg = self.registry.table.by_name(endpoint) if (endpoint and self.registry) else None
        if host in WILDCARDS and reg is not None:
            host = local_address_towards(peer_host(reg.peer)) or host
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{port}/fw/{name}"

    async def push_firmware(self, endpoint: str, path: Path, block_size: int = 1024, request_timeout: float = 60.0) -> PushResult:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise RigError(f"cannot read firmware {str(path)!r}: {exc.strerror}") from None
        assert self.context is not None, "server not started"
        return await push_package(
            self.context, self.registration(endpoint), data,
            block_size=block_size, hooks=self.hooks, timeline=self.timeline, request_timeout=request_timeout,
            held=self.held,
        )
