"""The LwM2M 1.1 Send operation (`POST /dp`): data a client reports on its own.

Clients push SenML (JSON or CBOR) or TLV here; a malformed payload gets 4.00 and
a log line naming the problem, and the server keeps serving. Decoded values
become "send" events on the timeline like notifications do. The sender is the
registration whose remote sent it, and it is held to the same binding as an
Update (an endpoint with a key only over coaps with its own identity); refusals
are rate-limited like the registration interface's.
"""

from __future__ import annotations

import logging

import aiocoap
from aiocoap import Code

from rig.lwm2m.bounded_body import BoundedBodyResource
from rig.lwm2m.codecs import CodecError, decode
from rig.lwm2m.endpoints import same_remote
from rig.lwm2m.registration import RegistrationRegistry

log = logging.getLogger("rig.lwm2m.send")
ACCEPTED_FORMATS = (110, 112, 11542, 11543)


class SendResource(BoundedBodyResource):
    """`POST /dp`; a block-wise body is assembled within the same bounds as a registration's."""

    def __init__(self, registry: RegistrationRegistry) -> None:
        super().__init__()
        self._registry = registry
        self._timeline = registry.timeline

    def _endpoint_of(self, remote: object) -> str | None:
        for reg in self._registry.table.all():
            if same_remote(reg.remote, remote):
                return reg.endpoint
        return None

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self._with_body(request, self._send)

    async def _send(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        endpoint = self._endpoint_of(request.remote)
        refusals = self._registry.refusals
        if endpoint is None:
            refusals.refuse("send-refused", log, peer=peer, reason="not registered")
            return aiocoap.Message(code=Code.FORBIDDEN)
        problem = self._registry.binding.problem(request.remote, endpoint)
        if problem is not None:
            refusals.refuse("send-refused", log, peer=peer, endpoint=endpoint, reason=problem)
            return aiocoap.Message(code=Code.FORBIDDEN, payload=problem.encode()[:200])
        fmt = request.opt.content_format
        if fmt not in ACCEPTED_FORMATS:
            reason = f"Send with content format {fmt}; expected one of {ACCEPTED_FORMATS}"
            refusals.refuse("send-refused", log, peer=peer, endpoint=endpoint, reason=reason)
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode())
        try:
            values = decode(fmt, bytes(request.payload), ())
        except CodecError as exc:
            reason = f"malformed Send payload (format {fmt}): {exc}"
            refusals.refuse("send-refused", log, peer=peer, endpoint=endpoint, reason=reason)
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode()[:200])
        self._timeline.append(
            "send", endpoint=endpoint, values={"/".join(map(str, k)): (v.hex() if isinstance(v, bytes) else v) for k, v in values.items()}
        )
        return aiocoap.Message(code=Code.CHANGED)
