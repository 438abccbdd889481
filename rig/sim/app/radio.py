"""The board's radio in queue mode: on for a while after each message it sends, off in between.

A battery-powered NB-IoT / LTE-M device in LwM2M queue mode keeps its receiver on
only for its awake time after the last message it sent (LwM2M Transport, Queue
Mode: at least MAX_TRANSMIT_WAIT, configurable on real clients, e.g. Zephyr's
CONFIG_LWM2M_QUEUE_MODE_UPTIME), then sleeps until it has something to send: its
next registration Update. While it sleeps its socket stays open but what the
network sends it is lost, as on a modem in PSM: requests and pings that reach it
are dropped unanswered (a console line says so). Answers to its own requests still
arrive (a device waiting for an answer has not gone to sleep), and anything it
sends wakes it.

Installed on the board's aiocoap contexts at the message layer, above DTLS (a
modem keeps its DTLS session in RAM across PSM); `awake=None` is a board that
never sleeps. Notifications the board owes while asleep wait for `awake()`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import aiocoap
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import CON

Console = Callable[[str], None]
MAX_DROPS_LOGGED = 64  # drop lines per sleep (a retransmitting server is otherwise one line per try)


class Radio:
    def __init__(self, awake: float | None, console: Console) -> None:
        self.awake_time = awake
        self._console = console
        self._on = asyncio.Event()
        self._on.set()
        self._sleep_timer: asyncio.TimerHandle | None = None
        self._drops = 0
        self._attached: set[int] = set()

    @property
    def queue_mode(self) -> bool:
        return self.awake_time is not None

    @property
    def on(self) -> bool:
        return self._on.is_set()

    async def awake(self) -> None:
        """Return once the radio is on (at once when it is)."""
        await self._on.wait()

    def attach(self, ctx: aiocoap.Context) -> None:
        """Put this radio between `ctx`'s transports and its message layer (each context once)."""
        if not self.queue_mode or id(ctx) in self._attached:
            return
        self._attached.add(id(ctx))
        for tman in ctx.request_interfaces:
            mman = getattr(tman, "token_interface", None)
            transport = getattr(mman, "message_interface", None)
            if mman is None or transport is None or not hasattr(mman, "dispatch_message"):
                continue
            mman.dispatch_message = self._receiving(mman.dispatch_message)
            transport.send = self._sending(transport.send)

    def start(self) -> None:
        """Power-on: awake for the awake time (the first Register follows at once)."""
        if self.queue_mode:
            self.sent()

    def close(self) -> None:
        if self._sleep_timer is not None:
            self._sleep_timer.cancel()
            self._sleep_timer = None

    def sent(self) -> None:
        """Something went out: the radio is on for the awake time from now."""
        if not self.queue_mode:
            return
        if not self._on.is_set():
            self._on.set()
            self._console(f"[radio] awake (listening {self.awake_time:g} s after each message sent)")
        if self._sleep_timer is not None:
            self._sleep_timer.cancel()
        self._sleep_timer = asyncio.get_running_loop().call_later(self.awake_time, self._sleep)

    def _sleep(self) -> None:
        self._sleep_timer = None
        self._on.clear()
        self._drops = 0
        self._console("[radio] asleep until the next registration update")

    def _receiving(self, dispatch: Callable[[Any], None]) -> Callable[[Any], None]:
        def filtered(message: aiocoap.Message) -> None:
            if self._on.is_set() or not _unsolicited(message):
                dispatch(message)
                return
            self._drops += 1
            if self._drops <= MAX_DROPS_LOGGED:
                path = "/" + "/".join(message.opt.uri_path)
                self._console(f"[radio] asleep: dropped {message.code} {path} (mid {message.mid})")

        return filtered

    def _sending(self, send: Callable[[Any], None]) -> Callable[[Any], None]:
        def sending(message: aiocoap.Message) -> None:
            self.sent()
            send(message)

        return sending


def _unsolicited(message: aiocoap.Message) -> bool:
    """What a sleeping receiver loses: requests and CoAP pings (answers to the board's own requests get through)."""
    return message.code.is_request() or (message.code == Code.EMPTY and message.mtype == CON)
