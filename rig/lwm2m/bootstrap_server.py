"""The rig's LwM2M bootstrap server: gives a device the account of the rig's own LwM2M server.

Client-initiated bootstrap (OMA LwM2M 1.1 Core, "Bootstrap Interface"): the device
sends Bootstrap-Request `POST /bs?ep=NAME[&pct=CF]`, the server answers 2.04 and
then, as requests of its own to the device's address: Bootstrap-Delete of /0 and
/1 (the device keeps its bootstrap-server account), Bootstrap-Write of /0/1 and
/1/0 (`bootstrap_account.ServerAccount`, TLV or SenML CBOR) and Bootstrap-Finish
`POST /bs`. The device then registers with the account it was given.

It listens on its own port (coap; coaps on port+1 with the same PSKs as the LwM2M
server) like a separate bootstrap server would. An endpoint with a key bootstraps
only over coaps with its own identity, as it registers (`EndpointBinding`). Every
step is a timeline event ("bootstrap-request", "bootstrap-step", "bootstrap-finish",
"bootstrap-failed"), and `hooks` run before each step, so a fault plan can hold a
step until the power is off: a cut during bootstrap is exact, like a cut at block N.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import aiocoap
from aiocoap import Code
from aiocoap.resource import Resource, Site

from rig.errors import RigError
from rig.lwm2m.advertise import WILDCARDS, local_address_towards, peer_host
from rig.lwm2m.bootstrap_account import DEFAULT_LIFETIME, ServerAccount, preferred_format
from rig.lwm2m.endpoint_binding import EndpointBinding
from rig.lwm2m.registration import RefusalLog
from rig.lwm2m.registration_query import RegistrationQueryError, parse_query
from rig.timeline import Timeline
from rig.lwm2m.dtls.transport import attach_coaps

log = logging.getLogger("rig.lwm2m.bs")
STEPS = ("delete", "write", "finish")


@dataclass(frozen=True)
class BootstrapStep:
    """One request the bootstrap server is about to send: `step` is one of STEPS."""

    endpoint: str
    step: str
    path: str
    peer: str


# A hook returns True to stop the bootstrap before this step (the step is never sent).
BootstrapHook = Callable[[BootstrapStep], Awaitable[bool]]


class BootstrapServer:
    """`account_for(endpoint, over_coaps, peer) -> ServerAccount` says what each device gets."""

    def __init__(self, timeline: Timeline, account_for: Callable[[str, bool, str], ServerAccount],
                 host: str = "127.0.0.1", port: int = 5783, psk_store: Any = None,
                 binding: EndpointBinding | None = None, request_timeout: float = 10.0) -> None:
        self.timeline = timeline
        self.account_for = account_for
        self.host, self.port = host, port
        self.psk_store = psk_store
        self.binding = binding or EndpointBinding(psk_store)
        self.request_timeout = request_timeout
        self.refusals = RefusalLog(timeline)
        self.hooks: list[BootstrapHook] = []
        self.context: aiocoap.Context | None = None
        self._coaps: Any = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"coap://{host}:{self.port}"

    def add_hook(self, hook: BootstrapHook) -> Callable[[], None]:
        self.hooks.append(hook)
        return lambda: self.hooks.remove(hook) if hook in self.hooks else None

    async def start(self) -> None:
        site = Site()
        site.add_resource(("bs",), _BootstrapRequest(self))
        try:
            self.context = await aiocoap.Context.create_server_context(site, bind=(self.host, self.port),
                                                                       transports=["udp6"])
        except OSError as exc:
            raise RigError(f"bootstrap server: cannot listen on coap://{self.host}:{self.port}: "
                           f"{exc.strerror or exc}; choose another --bootstrap-port") from None
        if self.psk_store is not None:
            try:
                self._coaps = await attach_coaps(self.context, self.host, self.port + 1, self.psk_store, self.timeline)
            except OSError as exc:
                await self.context.shutdown()
                raise RigError(f"bootstrap server: cannot listen on coaps://{self.host}:{self.port + 1}: "
                               f"{exc.strerror or exc}") from None
        self.timeline.append("bootstrap-server-start", host=self.host, port=self.port, coaps=self._coaps is not None)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._coaps is not None:
            await self._coaps.close()
            self._coaps = None
        if self.context is not None:
            await self.context.shutdown()
            self.context = None

    async def __aenter__(self) -> "BootstrapServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- Bootstrap-Request and the sequence after it ------------------------------------

    def request(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        try:
            params = parse_query([q for q in request.opt.uri_query if not q.startswith("pct=")], register=True)
            pct = next((q[4:] for q in request.opt.uri_query if q.startswith("pct=")), None)
            content_format = preferred_format(pct)
        except (RegistrationQueryError, RigError) as exc:
            self.refusals.refuse("bootstrap-refused", peer=peer, reason=str(exc))
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=str(exc).encode()[:200])
        endpoint = params.endpoint or ""
        problem = self.binding.problem(request.remote, endpoint)
        if problem is not None:
            self.refusals.refuse("bootstrap-refused", peer=peer, endpoint=endpoint, reason=problem)
            return aiocoap.Message(code=Code.FORBIDDEN, payload=problem.encode()[:200])
        over_coaps = getattr(request.remote, "psk_identity", None) is not None
        try:
            account = self.account_for(endpoint, over_coaps, peer)
        except RigError as exc:
            self.refusals.refuse("bootstrap-refused", peer=peer, endpoint=endpoint, reason=str(exc))
            return aiocoap.Message(code=Code.FORBIDDEN, payload=str(exc).encode()[:200])
        self.timeline.append("bootstrap-request", endpoint=endpoint, peer=peer, format=content_format,
                             server=account.server_uri, security="psk" if account.key else "nosec")
        task = asyncio.get_running_loop().create_task(
            self._provision(endpoint, request.remote, peer, account, content_format))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return aiocoap.Message(code=Code.CHANGED)

    async def _provision(self, endpoint: str, remote: Any, peer: str, account: ServerAccount, cf: int) -> None:
        await asyncio.sleep(0)  # the 2.04 to the Bootstrap-Request goes out first
        steps: list[tuple[str, str, Code, bytes, int | None]] = [
            ("delete", "/0", Code.DELETE, b"", None), ("delete", "/1", Code.DELETE, b"", None)]
        steps += [("write", path, Code.PUT, payload, cf) for path, payload in account.writes(cf)]
        steps.append(("finish", "/bs", Code.POST, b"", None))
        for step, path, code, payload, content_format in steps:
            info = BootstrapStep(endpoint, step, path, peer)
            for hook in list(self.hooks):
                if await hook(info):
                    self.timeline.append("bootstrap-failed", endpoint=endpoint, step=step, path=path,
                                         reason="held back by the fault plan")
                    return
            answer, error = await self._send(remote, code, path, payload, content_format)
            ok = answer is not None and answer.code.is_successful()
            self.timeline.append("bootstrap-finish" if step == "finish" else "bootstrap-step", endpoint=endpoint,
                                 step=step, path=path, code=answer.code.dotted if answer is not None else None,
                                 error=error, **({"format": content_format} if content_format else {}))
            if not ok:
                reason = error or f"{step} {path} answered {answer.code.dotted}"
                log.warning("bootstrap of %s failed: %s", endpoint, reason)
                self.timeline.append("bootstrap-failed", endpoint=endpoint, step=step, path=path, reason=reason)
                return

    async def _send(self, remote: Any, code: Code, path: str, payload: bytes,
                    content_format: int | None) -> tuple[aiocoap.Message | None, str | None]:
        assert self.context is not None, "bootstrap server not started"
        msg = aiocoap.Message(code=code, uri_path=tuple(p for p in path.split("/") if p), payload=payload)
        if content_format is not None:
            msg.opt.content_format = content_format
        msg.remote = remote
        try:
            return await asyncio.wait_for(self.context.request(msg).response, self.request_timeout), None
        except (aiocoap.error.Error, asyncio.TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}".rstrip(": ")


class _BootstrapRequest(Resource):
    def __init__(self, server: BootstrapServer) -> None:
        super().__init__()
        self._server = server

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        return self._server.request(request)


def rig_account(server_host: str, server_port: int, psk_store: Any, lifetime: int = DEFAULT_LIFETIME,
                binding: str = "U") -> Callable[[str, bool, str], ServerAccount]:
    """Accounts on the rig's LwM2M server at (host, port): PSK over coaps (port+1) for an endpoint with a key that
    bootstrapped over coaps, NoSec otherwise. A wildcard host is replaced by our address towards the device."""

    def account_for(endpoint: str, over_coaps: bool, peer: str) -> ServerAccount:
        host = server_host
        if host in WILDCARDS:
            host = local_address_towards(peer_host(peer)) or "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        entry = psk_store.entry_for_endpoint(endpoint) if psk_store is not None else None
        if entry is not None and over_coaps:
            return ServerAccount(f"coaps://{shown}:{server_port + 1}", entry.identity, entry.key, lifetime, binding)
        return ServerAccount(f"coap://{shown}:{server_port}", lifetime=lifetime, binding=binding)

    return account_for
