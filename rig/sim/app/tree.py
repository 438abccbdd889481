"""The device's CoAP server side: one aiocoap resource that routes /1, /3 and /5 requests.

It answers the rig's Read/Write/Execute/Write-Attributes/Observe on the client's own
socket, handles Block1 package writes itself (each block goes to flash as it
arrives, as on a device with little RAM), and sends notifications under pmin/pmax;
in queue mode a notification due while the radio sleeps goes out when it wakes
(observations survive the sleep).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

import aiocoap
from aiocoap import Code, Message
from aiocoap.numbers.contentformat import ContentFormat
from aiocoap.interfaces import ObservableResource
from aiocoap.resource import PathCapable, Resource

from rig.sim.app import firmware as fw
from rig.sim.app import wire
from rig.sim.app.objects import Res, readable
from rig.sim.app.radio import Radio

Tables = dict[int, dict[int, Res]]


class Fail(Exception):
    def __init__(self, code: Code, reason: str = "") -> None:
        super().__init__(reason)
        self.code = code


def _code(text: str) -> Code:
    cls, detail = text.split(".")
    return Code((int(cls) << 5) | int(detail))


@dataclass
class Attributes:
    pmin: float | None = None
    pmax: float | None = None


@dataclass
class Watch:
    path: tuple[int, ...]
    request: Message
    servobs: Any
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class DeviceTree(Resource, ObservableResource, PathCapable):
    def __init__(self, tables: Tables, firmware: fw.FirmwareUpdate, defaults: Callable[[], tuple[int, int]],
                 log: Callable[[str], None], radio: Radio | None = None) -> None:
        super().__init__()
        self.radio = radio
        self.tables = tables
        self.firmware = firmware
        self.defaults = defaults  # (pmin, pmax) of the Server object
        self.log = log
        self.attributes: dict[tuple[int, ...], Attributes] = {}
        self.watches: list[Watch] = []

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    # --- routing -------------------------------------------------------------

    def _path(self, request: Message) -> tuple[int, ...]:
        try:
            path = tuple(int(p) for p in request.opt.uri_path)
        except ValueError:
            raise Fail(Code.NOT_FOUND, "path is not numeric") from None
        if not path or len(path) > 3:
            raise Fail(Code.NOT_FOUND)
        if path[0] == 0:
            raise Fail(Code.UNAUTHORIZED, "security object")
        if path[0] not in self.tables or (len(path) > 1 and path[1] != 0):
            raise Fail(Code.NOT_FOUND)
        if len(path) == 3 and path[2] not in self.tables[path[0]]:
            raise Fail(Code.NOT_FOUND)
        return path

    async def render(self, request: Message) -> Message:
        try:
            path = self._path(request)
            if request.code == Code.GET:
                return self._read(path, request)
            if request.code in (Code.PUT, Code.POST) and path[:3] == (5, 0, 0):
                return self._package(request)
            if request.code == Code.PUT and request.opt.uri_query and not request.payload:
                return self._write_attributes(path, request)
            if request.code == Code.POST and len(path) == 3 and not request.payload:
                res = self.tables[path[0]][path[2]]
                if "E" in res.ops and res.run is not None:
                    res.run(b"")
                    return Message(code=Code.CHANGED)
            if request.code in (Code.PUT, Code.POST):
                self._write(path, request)
                return Message(code=Code.CHANGED)
            raise Fail(Code.METHOD_NOT_ALLOWED)
        except Fail as exc:
            if str(exc):
                self.log(f"[coap] {request.code} /{'/'.join(request.opt.uri_path)}: {exc.code} {exc}")
            return Message(code=exc.code)
        except fw.Refused as exc:
            self.log(f"[coap] {request.code} /{'/'.join(request.opt.uri_path)}: {exc.code} {exc}")
            return Message(code=_code(exc.code))
        except (wire.WireError, ValueError) as exc:
            self.log(f"[coap] bad payload: {exc}")
            return Message(code=Code.BAD_REQUEST)

    # --- read ------------------------------------------------------------------

    def value_of(self, path: tuple[int, ...], accept: int | None) -> tuple[bytes, int]:
        obj = self.tables[path[0]]
        if len(path) == 3:
            res = obj[path[2]]
            if "R" not in res.ops or res.get is None:
                raise Fail(Code.METHOD_NOT_ALLOWED)
            value = res.get()
            if accept in (None, wire.TEXT) and not res.multiple and res.kind != "opaque":
                return wire.text_value(value), wire.TEXT
            if accept in (None, wire.OPAQUE) and res.kind == "opaque":
                return bytes(value), wire.OPAQUE
            if accept in (None, wire.TLV):
                return wire.tlv_encode([wire.resource_tlv(path[2], value)]), wire.TLV
            if accept == wire.SENML_JSON:
                return wire.senml_json(f"/{path[0]}/0/", _flat({path[2]: value})), wire.SENML_JSON
            raise Fail(Code.NOT_ACCEPTABLE)
        values = readable(obj)
        entries = [wire.resource_tlv(rid, v) for rid, v in values.items()]
        if accept in (None, wire.TLV):
            if len(path) == 1:
                entries = [wire.TlvEntry(wire.OBJECT_INSTANCE, 0, entries)]
            return wire.tlv_encode(entries), wire.TLV
        if accept == wire.SENML_JSON:
            return wire.senml_json(f"/{path[0]}/0/", _flat(values)), wire.SENML_JSON
        raise Fail(Code.NOT_ACCEPTABLE)

    def _read(self, path: tuple[int, ...], request: Message) -> Message:
        accept = request.opt.accept
        accept_int = int(accept) if accept is not None else None
        if accept_int == wire.LINK_FORMAT:
            links = [(f"/{path[0]}/0/{rid}", {}) for rid in sorted(self.tables[path[0]])]
            return Message(code=Code.CONTENT, payload=wire.link_format(links), content_format=wire.LINK_FORMAT)
        payload, cf = self.value_of(path, accept_int)
        return Message(code=Code.CONTENT, payload=payload, content_format=ContentFormat(cf))

    # --- write -----------------------------------------------------------------

    def _decode(self, path: tuple[int, ...], request: Message) -> dict[int, Any]:
        cf = int(request.opt.content_format) if request.opt.content_format is not None else wire.TEXT
        obj = self.tables[path[0]]
        if cf == wire.TEXT or cf == wire.OPAQUE:
            if len(path) != 3:
                raise Fail(Code.BAD_REQUEST, "text write to an instance")
            res = obj[path[2]]
            raw: Any = request.payload if cf == wire.OPAQUE else request.payload.decode("utf-8")
            return {path[2]: _typed(res, raw)}
        if cf == wire.TLV:
            out: dict[int, Any] = {}
            entries = wire.tlv_decode(request.payload)
            if len(entries) == 1 and entries[0].kind == wire.OBJECT_INSTANCE:
                entries = entries[0].value  # type: ignore[assignment]
            for entry in entries:
                if entry.ident not in obj:
                    raise Fail(Code.NOT_FOUND, f"resource {entry.ident}")
                if isinstance(entry.value, list):
                    raise Fail(Code.BAD_REQUEST, "multiple-instance write")
                out[entry.ident] = _from_tlv(obj[entry.ident], entry.value)
            return out
        if cf == wire.SENML_JSON:
            out = {}
            for name, value in wire.senml_decode(request.payload).items():
                parts = [p for p in name.split("/") if p]
                if len(parts) != 3 or int(parts[2]) not in obj:
                    raise Fail(Code.NOT_FOUND, f"SenML name {name}")
                out[int(parts[2])] = value
            return out
        raise Fail(Code.UNSUPPORTED_CONTENT_FORMAT, f"content format {cf}")

    def _write(self, path: tuple[int, ...], request: Message) -> None:
        values = self._decode(path, request)
        obj = self.tables[path[0]]
        for rid in values:
            if "W" not in obj[rid].ops or obj[rid].set is None:
                raise Fail(Code.METHOD_NOT_ALLOWED, f"resource {rid} not writable")
        for rid, value in values.items():
            obj[rid].set(value)  # type: ignore[misc]

    def _package(self, request: Message) -> Message:
        block1 = request.opt.block1
        payload = request.payload
        cf = request.opt.content_format
        if cf is not None and int(cf) == wire.TLV:
            entries = wire.tlv_decode(payload)
            payload = bytes(entries[0].value) if entries and not isinstance(entries[0].value, list) else b""
        if block1 is None:
            code = self.firmware.push_block(0, max(len(payload), 16), False, payload)
            return Message(code=_code(code))
        code = self.firmware.push_block(block1.block_number, block1.size, block1.more, payload)
        response = Message(code=_code(code))
        response.opt.block1 = block1
        return response

    def _write_attributes(self, path: tuple[int, ...], request: Message) -> Message:
        attrs = self.attributes.setdefault(path, Attributes())
        for query in request.opt.uri_query:
            name, _, value = query.partition("=")
            if name in ("pmin", "pmax"):
                setattr(attrs, name, float(value) if value else None)
            elif name not in ("gt", "lt", "st", "epmin", "epmax"):
                raise Fail(Code.BAD_REQUEST, f"attribute {name}")
        for watch in self.watches:
            watch.dirty.set()
        return Message(code=Code.CHANGED)

    # --- observe ---------------------------------------------------------------

    def _timing(self, path: tuple[int, ...]) -> tuple[float, float]:
        pmin, pmax = self.defaults()
        for depth in range(1, len(path) + 1):
            attrs = self.attributes.get(path[:depth])
            if attrs is not None:
                pmin = attrs.pmin if attrs.pmin is not None else pmin
                pmax = attrs.pmax if attrs.pmax is not None else pmax
        return pmin, pmax

    async def add_observation(self, request: Message, serverobservation: Any) -> None:
        try:
            path = self._path(request)
        except Fail:
            return
        watch = Watch(path, request, serverobservation)
        self.watches.append(watch)

        def cancel() -> None:
            if watch in self.watches:
                self.watches.remove(watch)
            if watch.task is not None:
                watch.task.cancel()

        serverobservation.accept(cancel)
        watch.task = asyncio.get_running_loop().create_task(self._notify_loop(watch))

    def changed(self) -> None:
        """Something the device holds changed: let every observation compare and maybe notify."""
        for watch in self.watches:
            watch.dirty.set()

    async def _notify_loop(self, watch: Watch) -> None:
        loop = asyncio.get_running_loop()
        accept = int(watch.request.opt.accept) if watch.request.opt.accept is not None else None
        last = self.value_of(watch.path, accept)[0]
        last_sent = loop.time()
        while True:
            pmin, pmax = self._timing(watch.path)
            timeout = max(0.0, last_sent + pmax - loop.time()) if pmax and pmax > 0 else None
            try:
                await asyncio.wait_for(watch.dirty.wait(), timeout)
            except asyncio.TimeoutError:
                pass
            watch.dirty.clear()
            now = loop.time()
            current = self.value_of(watch.path, accept)[0]
            due = bool(pmax) and now - last_sent >= pmax
            if current == last and not due:
                continue
            if now - last_sent < pmin:
                await asyncio.sleep(last_sent + pmin - now)  # device-side rate limit, as pmin demands
            if self.radio is not None:
                await self.radio.awake()  # asleep: the notification waits for the next wake-up
            watch.servobs.trigger()
            last = self.value_of(watch.path, accept)[0]
            last_sent = loop.time()


def _flat(values: dict[int, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rid, value in values.items():
        if isinstance(value, dict):
            for inst, v in value.items():
                out[f"{rid}/{inst}"] = v
        else:
            out[str(rid)] = value
    return out


def _typed(res: Res, raw: Any) -> Any:
    if res.kind in ("int", "time"):
        return int(raw)
    if res.kind == "bool":
        return raw in ("1", "true", b"\x01", True)
    if res.kind == "opaque":
        return raw if isinstance(raw, bytes) else raw.encode()
    return raw


def _from_tlv(res: Res, raw: bytes) -> Any:
    if res.kind in ("int", "time"):
        return wire.decode_int(raw)
    if res.kind == "bool":
        return raw == b"\x01"
    if res.kind == "opaque":
        return raw
    return raw.decode("utf-8")


__all__ = ["DeviceTree", "aiocoap"]
