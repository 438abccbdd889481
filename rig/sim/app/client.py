"""The LwM2M client application of the virtual board: register, serve the objects, download, reboot.

One aiocoap context bound to one UDP socket both sends (registration, Block2 GETs
of a pull) and serves (the rig's DM requests), as a device's single socket does;
for a coaps:// server that socket speaks DTLS with the board's PSK (`links.py`).
`run` returns when the application wants a reboot; the MCU process then exits and
the supervisor starts the next boot. In queue mode (`queue_mode`, `awake`) the
board registers with `Q` and its radio (`radio.py`) sleeps between the messages
it sends: it wakes at its registration Update timer.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

import aiocoap
from aiocoap import Code, Message
from aiocoap.optiontypes import BlockOption

from rig.sim.coap_timers import exchange_lifetime, max_transmit_wait
from rig.sim.app import firmware as fw
from rig.sim.app import image, wire
from rig.sim.app.bootstrap import obtain_account
from rig.sim.app.deferral import DEFAULT_POLICY, Deferral
from rig.sim.app.links import LinkError, Links, parse_psk
from rig.sim.app.objects import DeviceState, device_object, firmware_object, server_object
from rig.sim.app.radio import Radio
from rig.sim.app.settings import SettingsStore
from rig.sim.app.tree import DeviceTree

REGISTRATION_LINKS = [("/1/0", {}), ("/3/0", {}), ("/5", {"ver": "1.1"}), ("/5/0", {})]
Console = Callable[[str], None]


def reason(exc: BaseException) -> str:
    """aiocoap's errors print as "Network error: NetworkError"; their first argument says what happened."""
    if exc.args and isinstance(exc.args[0], str) and exc.args[0]:
        return exc.args[0]
    return str(exc) or type(exc).__name__


def make_fetcher(context_for: Callable[[str], Awaitable[aiocoap.Context]], timeout: float) -> fw.Fetcher:
    async def fetch(uri: str, num: int, szx: int) -> fw.BlockReply:
        request = Message(code=Code.GET, uri=uri)
        request.opt.block2 = BlockOption.BlockwiseTuple(num, False, szx)
        try:
            ctx = await context_for(urlsplit(uri).scheme)
            response = await asyncio.wait_for(ctx.request(request, handle_blockwise=False).response, timeout)
        except asyncio.TimeoutError:
            raise fw.FetchError(fw.R_CONN_LOST, f"no answer to block {num} within {timeout:.0f} s") from None
        except LinkError as exc:
            raise fw.FetchError(fw.R_UNSUPPORTED_PROTOCOL, str(exc)) from None
        except (aiocoap.error.Error, OSError) as exc:
            raise fw.FetchError(fw.R_CONN_LOST, f"block {num}: {reason(exc)}") from None
        if response.code == Code.NOT_FOUND:
            raise fw.FetchError(fw.R_INVALID_URI, f"{uri}: 4.04 Not Found")
        if not response.code.is_successful():
            raise fw.FetchError(fw.R_CONN_LOST, f"block {num}: {response.code}")
        block2 = response.opt.block2
        if block2 is None:
            if num:
                raise fw.FetchError(fw.R_CONN_LOST, "server ignored Block2")
            return fw.BlockReply(response.payload, False, response.opt.etag)
        if block2.block_number != num or block2.size_exponent != szx:
            raise fw.FetchError(fw.R_CONN_LOST, f"asked block {num}/szx {szx}, got {block2.block_number}/{block2.size_exponent}")
        return fw.BlockReply(response.payload, bool(block2.more), response.opt.etag)

    return fetch


class Registrar:
    """Register, keep the registration alive, re-register when the server forgot us."""

    def __init__(self, ctx: aiocoap.Context, dev: DeviceState, console: Console, queue_mode: bool = False) -> None:
        self.ctx, self.dev, self.console = ctx, dev, console
        self.queue_mode = queue_mode
        self.location: tuple[str, ...] | None = None
        self.kick = asyncio.Event()
        self.registered = asyncio.Event()

    def _uri(self, path: str) -> str:
        parts = urlsplit(self.dev.server_uri or "")
        return f"{parts.scheme}://{parts.netloc}{path}"

    async def _register(self) -> bool:
        query = f"?ep={self.dev.endpoint}&lt={self.dev.lifetime}&lwm2m=1.1&b={self.dev.binding}"
        if self.queue_mode:
            query += "&Q"  # LwM2M 1.1: queue mode is its own parameter (1.0 said b=UQ)
        request = Message(code=Code.POST, uri=self._uri("/rd") + query, payload=wire.link_format(REGISTRATION_LINKS),
                          content_format=wire.LINK_FORMAT)
        response = await asyncio.wait_for(self.ctx.request(request).response, 30)
        if response.code != Code.CREATED:
            self.console(f"[lwm2m] registration refused: {response.code}")
            return False
        self.location = tuple(response.opt.location_path)
        self.console(f"[lwm2m] registered as {self.dev.endpoint} at /{'/'.join(self.location)}")
        return True

    async def _update(self) -> bool:
        assert self.location is not None
        request = Message(code=Code.POST, uri=self._uri("/" + "/".join(self.location)) + f"?lt={self.dev.lifetime}")
        response = await asyncio.wait_for(self.ctx.request(request).response, 30)
        if response.code == Code.CHANGED:
            return True
        self.console(f"[lwm2m] update answered {response.code}: registering again")
        return False

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                ok = await (self._update() if self.location else self._register())
            except (asyncio.TimeoutError, aiocoap.error.Error, OSError) as exc:
                self.console(f"[lwm2m] server unreachable: {reason(exc)}")
                ok = False
            if ok:
                self.registered.set()
                backoff = 0.5
                wait = max(1.0, self.dev.lifetime * 0.75)
            else:
                self.location = None
                wait, backoff = backoff, min(backoff * 2, 8.0)
            self.kick.clear()
            try:
                await asyncio.wait_for(self.kick.wait(), wait)
            except asyncio.TimeoutError:
                pass


async def run(config: dict[str, Any], flash: Any, layout: Any, target: dict[str, Any],
              running: image.RunningImage, console: Console) -> None:
    defects = set(config.get("defects") or [])
    if "crash" in running.behaviours:
        console("[app] HardFault in main(): watchdog reset")
        raise SystemExit(70)
    settings = layout.partition("settings")
    store = SettingsStore(flash, settings.offset, settings.size, layout.sector_size, layout.write_size,
                          layout.erased_value)
    profile = fw.Profile.from_target(target, int(config.get("block_size") or 512))
    firmware = fw.FirmwareUpdate(flash, layout, store, profile, defects, running, console,
                                 package_mode=str(config.get("package") or "mcuboot"))
    firmware.deferral = Deferral(str(config.get("deferral") or DEFAULT_POLICY))
    dev = DeviceState(config.get("server"), str(config.get("endpoint") or "rig-virtual"),
                      str(config.get("unique_id") or ""), int(config.get("lifetime") or 60))
    reboot = asyncio.Event()

    def request_reboot() -> None:
        asyncio.get_running_loop().call_later(0.1, reboot.set)  # let the 2.04 leave first

    firmware.reboot = request_reboot
    resume = firmware.boot()
    console(f"[app] firmware {firmware.firmware_version()}: State {firmware.state}, Update Result {firmware.result}")

    registrar: Registrar | None = None

    def kick() -> None:
        if registrar is not None:
            registrar.kick.set()

    tables = {
        1: server_object(dev, kick, kick),
        3: device_object(dev, firmware, request_reboot),
        5: firmware_object(firmware),
    }
    awake = config.get("awake") or max_transmit_wait(target)  # LwM2M's default awake time: MAX_TRANSMIT_WAIT
    radio = Radio(float(awake) if config.get("queue_mode") else None, console)
    radio.start()
    tree = DeviceTree(tables, firmware, lambda: (dev.pmin, dev.pmax), console, radio)
    firmware.listeners.append(tree.changed)
    try:
        psk = parse_psk(config.get("psk"))
    except LinkError as exc:
        console(f"[app] {exc}: coaps disabled")
        psk = None
    if config.get("bootstrap_server"):
        account = await obtain_account(str(config["bootstrap_server"]), dev.endpoint, psk, radio, console,
                                       exchange_lifetime(target), config.get("bootstrap_format") == "senml-cbor")
        dev.server_uri, psk = account.uri, account.psk or psk
        dev.lifetime = account.lifetime or dev.lifetime
    links = Links(tree, psk, console, radio)
    firmware.pull_schemes = links.schemes
    scheme = urlsplit(dev.server_uri).scheme if dev.server_uri else "coap"
    tasks = []
    try:
        ctx = await links.context(scheme, serve=True)
    except LinkError as exc:
        console(f"[lwm2m] server {dev.server_uri}: {exc}")
        ctx = await links.context("coap", serve=True)
    else:
        if dev.server_uri:
            registrar = Registrar(ctx, dev, console, radio.queue_mode)
            tasks.append(asyncio.get_running_loop().create_task(registrar.run()))
    firmware.fetcher = make_fetcher(links.context, float(config.get("fetch_timeout") or exchange_lifetime(target)))
    if resume:
        firmware.start_pull(resume=True)
    if firmware.confirm_later and registrar is not None:
        await registrar.registered.wait()
        firmware.confirm_now()
    await reboot.wait()
    console("[app] reboot")
    for task in tasks:
        task.cancel()
