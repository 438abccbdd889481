"""Stateless HelloVerifyRequest cookies (RFC 6347 4.2.1) whose secret rotates, so a cookie expires.

A cookie is an HMAC over the peer address and the ClientHello fields that must
repeat; it proves the peer receives at its address before the server keeps any
state for it. With one secret forever, a cookie seen once (a capture, a log) would
be good for the life of the process; RFC 6347 4.2.1 recommends changing the secret
often. The secret rotates every `lifetime` seconds and the previous secret is still
accepted, so a cookie is valid for at least one lifetime and at most two. Each
period's secret is derived from one random master secret, so rotating keeps no state.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Callable

from rig.lwm2m.dtls import messages as m
from rig.lwm2m.limits import COOKIE_LIFETIME


class CookieJar:
    def __init__(self, secret: bytes | None = None, clock: Callable[[], float] = time.monotonic,
                 lifetime: float = COOKIE_LIFETIME) -> None:
        self._master = secret or os.urandom(32)
        self._clock = clock
        self._lifetime = lifetime
        self._start = clock()

    def _secret(self, period: int) -> bytes:
        """The secret of one lifetime-long period: derived, so rotating keeps no state."""
        return hmac.new(self._master, period.to_bytes(8, "big", signed=True), hashlib.sha256).digest()

    def _period(self) -> int:
        return int((self._clock() - self._start) // self._lifetime)

    @staticmethod
    def _mac(secret: bytes, peer: object, hello: m.ClientHello) -> bytes:
        suites = b"".join(s.to_bytes(2, "big") for s in hello.cipher_suites)
        data = repr(peer).encode() + hello.version.to_bytes(2, "big") + hello.random + hello.session_id + suites + hello.compressions
        return hmac.new(secret, data, hashlib.sha256).digest()[:32]

    def make(self, peer: object, hello: m.ClientHello) -> bytes:
        return self._mac(self._secret(self._period()), peer, hello)

    def check(self, peer: object, hello: m.ClientHello) -> bool:
        """The cookie was made in this period or the previous one (no early exit between the two)."""
        if not hello.cookie:
            return False
        period = self._period()
        now_ok = hmac.compare_digest(hello.cookie, self._mac(self._secret(period), peer, hello))
        before_ok = hmac.compare_digest(hello.cookie, self._mac(self._secret(period - 1), peer, hello))
        return now_ok | before_ok
