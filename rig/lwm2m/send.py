"""The LwM2M 1.1 Send operation (`POST /dp`): data a client reports on its own.

Clients push SenML (JSON or CBOR) or TLV here; a malformed payload gets 4.00 and
a log line naming the problem, and the server keeps serving. Decoded values
become "send" events on the timeline like notifications do.
"""

from __future__ import annotations

import logging

import aiocoap
from aiocoap import Code

from rig.lwm2m.bounded_body import BoundedBodyResource
from rig.lwm2m.codecs import CodecError, decode
from rig.lwm2m.endpoints import EndpointTable
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.send")
ACCEPTED_FORMATS = (110, 112, 11542, 11543)


class SendResource(BoundedBodyResource):
    """`POST /dp`; a block-wise body is assembled within the same bounds as a registration's."""

    def __init__(self, table: EndpointTable, timeline: Timeline) -> None:
        super().__init__()
        self._table = table
        self._timeline = timeline

    def _endpoint_of(self, remote: object) -> str | None:
        for reg in self._table.all():
            if reg.remote == remote:
                return reg.endpoint
        return None

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self._with_body(request, self._send)

    async def _send(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        endpoint = self._endpoint_of(request.remote)
        if endpoint is None:
            self._timeline.append("send-refused", peer=peer, reason="not registered")
            return aiocoap.Message(code=Code.FORBIDDEN)
        fmt = request.opt.content_format
        if fmt not in ACCEPTED_FORMATS:
            reason = f"Send with content format {fmt}; expected one of {ACCEPTED_FORMATS}"
            log.warning("%s from %s: %s", endpoint, peer, reason)
            self._timeline.append("send-refused", peer=peer, endpoint=endpoint, reason=reason)
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode())
        try:
            values = decode(fmt, bytes(request.payload), ())
        except CodecError as exc:
            reason = f"malformed Send payload (format {fmt}): {exc}"
            log.warning("%s from %s: %s", endpoint, peer, reason)
            self._timeline.append("send-refused", peer=peer, endpoint=endpoint, reason=reason)
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode()[:200])
        self._timeline.append(
            "send", endpoint=endpoint, values={"/".join(map(str, k)): (v.hex() if isinstance(v, bytes) else v) for k, v in values.items()}
        )
        return aiocoap.Message(code=Code.CHANGED)
