"""The board's bootstrap client: ask a bootstrap server for an LwM2M server account, then use it.

With `rig sim --bootstrap-server URI` the board knows only its bootstrap server
(Security instance 0, Bootstrap-Server true). At every boot, as a Zephyr client
started with its bootstrap flag does, it sends Bootstrap-Request (`POST /bs?ep=..`,
with `pct` when it prefers SenML CBOR), lets the server delete and write objects 0
and 1, and on Bootstrap-Finish checks what it got: a Security instance that is not
the bootstrap account, with a coap:// or coaps:// URI, NoSec or PSK security, and a
Server instance with the same Short Server ID. Anything else is answered 4.06 (the
server learns the account was unusable) and the board asks again later; so does a
bootstrap that never finishes (a power cut takes the half-written objects with it:
nothing is kept in flash). The objects are its own reading of the payloads
(`wire.py`), never the rig's codecs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import aiocoap
from aiocoap import Code, Message
from aiocoap.resource import PathCapable, Resource

from rig.sim.app import wire
from rig.sim.app.links import LinkError, Links
from rig.sim.app.radio import Radio

Console = Callable[[str], None]
# Resource kinds of what the board reads from the Security (0) and Server (1) objects.
KINDS = {0: {0: "str", 1: "bool", 2: "int", 3: "opaque", 4: "opaque", 5: "opaque", 10: "int"},
         1: {0: "int", 1: "int", 2: "int", 3: "int", 6: "bool", 7: "str"}}
MODE_PSK, MODE_NOSEC = 0, 3
BACKOFF_MAX = 8.0


@dataclass(frozen=True)
class Account:
    """The LwM2M server account the bootstrap server gave."""

    uri: str
    psk: tuple[bytes, bytes] | None
    lifetime: int | None
    binding: str | None


class BootstrapObjects(Resource, PathCapable):
    """Objects 0 and 1 as the bootstrap server sees them, and Bootstrap-Finish (`POST /bs`)."""

    def __init__(self, bootstrap_uri: str, console: Console) -> None:
        super().__init__()
        self.console = console
        self.objects: dict[int, dict[int, dict[int, Any]]] = {
            0: {0: {0: bootstrap_uri, 1: True, 2: MODE_NOSEC}}, 1: {}}
        self.finished: asyncio.Future[Account] = asyncio.get_running_loop().create_future()

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    async def render(self, request: Message) -> Message:
        path = tuple(request.opt.uri_path)
        try:
            if path == ("bs",) and request.code == Code.POST:
                return self._finish()
            ids = tuple(int(p) for p in path)
            if request.code == Code.DELETE:
                return self._delete(ids)
            if request.code == Code.PUT:
                return self._write(ids, request)
            if request.code == Code.GET:
                return self._discover()
        except (ValueError, wire.WireError) as exc:
            self.console(f"[bootstrap] {request.code} /{'/'.join(path)}: bad request: {exc}")
            return Message(code=Code.BAD_REQUEST)
        return Message(code=Code.METHOD_NOT_ALLOWED)

    def _delete(self, ids: tuple[int, ...]) -> Message:
        if ids and (ids[0] not in self.objects or len(ids) > 2):
            return Message(code=Code.BAD_REQUEST)  # only objects 0 and 1 can be bootstrapped on this board
        for oid in ((ids[0],) if ids else tuple(self.objects)):
            for iid in list(self.objects[oid]):
                bootstrap_account = oid == 0 and self.objects[0][iid].get(1) is True
                if (len(ids) < 2 or ids[1] == iid) and not bootstrap_account:
                    del self.objects[oid][iid]
        self.console(f"[bootstrap] deleted /{'/'.join(map(str, ids))}")
        return Message(code=Code.DELETED)

    def _write(self, ids: tuple[int, ...], request: Message) -> Message:
        if not ids or ids[0] not in self.objects or len(ids) > 2:
            return Message(code=Code.BAD_REQUEST)
        cf = int(request.opt.content_format) if request.opt.content_format is not None else None
        for iid, values in _instances(ids, cf, bytes(request.payload)).items():
            self.objects[ids[0]].setdefault(iid, {}).update(values)
        self.console(f"[bootstrap] wrote /{'/'.join(map(str, ids))} ({'SenML CBOR' if cf == wire.SENML_CBOR else 'TLV'})")
        return Message(code=Code.CHANGED)

    def _discover(self) -> Message:
        links = [(f"/{oid}/{iid}", {}) for oid, instances in sorted(self.objects.items()) for iid in sorted(instances)]
        return Message(code=Code.CONTENT, payload=wire.link_format(links + [("/3/0", {}), ("/5/0", {})]),
                       content_format=wire.LINK_FORMAT)

    def _finish(self) -> Message:
        try:
            account = self.account()
        except ValueError as exc:
            self.console(f"[bootstrap] Bootstrap-Finish refused: {exc}")
            return Message(code=Code.NOT_ACCEPTABLE)
        if not self.finished.done():
            self.finished.set_result(account)
        return Message(code=Code.CHANGED)

    def account(self) -> Account:
        """The one usable LwM2M server account in objects 0 and 1 (ValueError says what is missing)."""
        accounts = [i for i in self.objects[0].values() if i.get(1) is False]
        if len(accounts) != 1:
            raise ValueError(f"{len(accounts)} LwM2M server accounts in /0 (want exactly 1)")
        sec = accounts[0]
        uri, mode, ssid = sec.get(0), sec.get(2), sec.get(10)
        scheme = urlsplit(str(uri or "")).scheme
        if scheme not in ("coap", "coaps"):
            raise ValueError(f"server URI {uri!r} is not coap:// or coaps://")
        if mode not in (MODE_PSK, MODE_NOSEC) or (mode == MODE_PSK) != (scheme == "coaps"):
            raise ValueError(f"security mode {mode} with a {scheme} URI (this board does PSK over coaps, NoSec over coap)")
        psk = None
        if mode == MODE_PSK:
            identity, key = sec.get(3) or b"", sec.get(5) or b""
            if not identity or not key:
                raise ValueError("PSK security without an identity or a key")
            psk = (bytes(identity), bytes(key))
        server = next((s for s in self.objects[1].values() if s.get(0) == ssid), None)
        if server is None:
            raise ValueError(f"no Server instance (/1) with Short Server ID {ssid}")
        lifetime = server.get(1)
        return Account(str(uri), psk, int(lifetime) if lifetime else None, server.get(7))


def _instances(ids: tuple[int, ...], cf: int | None, payload: bytes) -> dict[int, dict[int, Any]]:
    """{instance: {resource: value}} from a Bootstrap-Write on /O or /O/I."""
    oid = ids[0]
    out: dict[int, dict[int, Any]] = {}
    if cf == wire.SENML_CBOR:
        for name, value in wire.senml_cbor_decode(payload).items():
            parts = [int(p) for p in name.split("/") if p]
            if len(parts) != 3 or parts[0] != oid or (len(ids) == 2 and parts[1] != ids[1]):
                raise wire.WireError(f"SenML name {name} is not a resource under /{'/'.join(map(str, ids))}")
            out.setdefault(parts[1], {})[parts[2]] = _typed(oid, parts[2], value)
        return out
    if cf not in (None, wire.TLV):
        raise wire.WireError(f"content format {cf} (this board reads TLV and SenML CBOR)")
    entries = wire.tlv_decode(payload)
    if len(ids) == 2 and not any(e.kind == wire.OBJECT_INSTANCE for e in entries):
        entries = [wire.TlvEntry(wire.OBJECT_INSTANCE, ids[1], entries)]
    for instance in entries:
        if instance.kind != wire.OBJECT_INSTANCE or not isinstance(instance.value, list):
            raise wire.WireError("a Bootstrap-Write on an object needs object-instance TLVs")
        for entry in instance.value:
            if isinstance(entry.value, list):
                continue  # multiple-instance resources (ciphersuites): not used by this board
            out.setdefault(instance.ident, {})[entry.ident] = _from_tlv(oid, entry.ident, entry.value)
    return out


def _from_tlv(oid: int, rid: int, raw: bytes) -> Any:
    kind = KINDS.get(oid, {}).get(rid, "opaque")
    if kind == "int":
        return wire.decode_int(raw)
    if kind == "bool":
        return raw == b"\x01"
    if kind == "str":
        return raw.decode("utf-8")
    return raw


def _typed(oid: int, rid: int, value: Any) -> Any:
    kind = KINDS.get(oid, {}).get(rid)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


async def obtain_account(bootstrap_uri: str, endpoint: str, psk: tuple[bytes, bytes] | None, radio: Radio,
                         console: Console, finish_within: float, prefer_cbor: bool = False) -> Account:
    """Bootstrap until a usable account comes (retrying with a backoff, as a device keeps trying)."""
    backoff = 1.0
    while True:
        objects = BootstrapObjects(bootstrap_uri, console)
        links = Links(objects, psk, console, radio)
        try:
            account = await _attempt(links, objects, bootstrap_uri, endpoint, finish_within, prefer_cbor, console)
            if account is not None:
                await asyncio.sleep(0.1)  # the 2.04 to Bootstrap-Finish leaves before this socket closes
        finally:
            await links.close()
        if account is not None:
            return account
        console(f"[bootstrap] trying again in {backoff:g} s")
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _attempt(links: Links, objects: BootstrapObjects, uri: str, endpoint: str, finish_within: float,
                   prefer_cbor: bool, console: Console) -> Account | None:
    parts = urlsplit(uri)
    try:
        ctx = await links.context(parts.scheme, serve=True)
    except LinkError as exc:
        console(f"[bootstrap] {uri}: {exc}")
        return None
    query = f"?ep={endpoint}" + (f"&pct={wire.SENML_CBOR}" if prefer_cbor else "")
    request = Message(code=Code.POST, uri=f"{parts.scheme}://{parts.netloc}/bs{query}")
    console(f"[bootstrap] Bootstrap-Request to {uri}")
    try:
        response = await asyncio.wait_for(ctx.request(request).response, finish_within)
    except (asyncio.TimeoutError, aiocoap.error.Error, OSError) as exc:
        console(f"[bootstrap] no answer from {uri}: {type(exc).__name__}")
        return None
    if response.code != Code.CHANGED:
        console(f"[bootstrap] Bootstrap-Request answered {response.code}")
        return None
    try:
        account = await asyncio.wait_for(asyncio.shield(objects.finished), finish_within)
    except asyncio.TimeoutError:
        console(f"[bootstrap] no Bootstrap-Finish within {finish_within:g} s")
        return None
    console(f"[bootstrap] finished: LwM2M server {account.uri} ({'PSK' if account.psk else 'NoSec'})")
    return account
