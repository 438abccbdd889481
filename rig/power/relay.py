"""Power through a relay service over HTTP (`rig relayd`, or any server of labgrid's simplerest model).

The switch is `GET URL/1` or `GET URL/0`, the state `GET URL` (labgrid's
simplerest protocol), on one kept-alive connection. Against `rig relayd` the rig
also holds a lease and renews it from a thread: if this process dies (SIGKILL,
a crash, a lost network) the lease runs out and the service switches the outlet
to its safe state. A server without leases (plain simplerest) still works; the
rig then says that a killed run leaves the power as it was.

A remote switch is a network round trip, so the rig measures it at open and
says so when cuts cannot be sub-millisecond: run the rig on the board's own Pi
for those.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
from urllib.parse import urlsplit

from rig.power.base import PowerBase, PowerError
from rig.timeline import Timeline

LOG = logging.getLogger(__name__)
SLOW_MS = 1.0  # a round trip above this makes "cut at X ms" imprecise by that much


class _Http:
    """One kept-alive HTTP/1.1 connection; reconnects once if the server closed it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str) -> tuple[int, str, dict[str, str]]:
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=b"" if method in ("POST", "PUT") else None)
                answer = self._conn.getresponse()
                return answer.status, answer.read().decode("utf-8", "replace").strip(), dict(answer.getheaders())
            except (http.client.HTTPException, ConnectionError) as exc:
                self.close()
                if attempt:
                    raise OSError(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RelayPower(PowerBase):
    backend = "relay"
    drives_supply = False  # another service's outlet switches the supply
    switches_fast = False  # a network round trip: timed cuts go through a thread, and the rig says how slow

    def __init__(self, url: str, *, lease: float = 5.0, timeout: float = 5.0, name: str = "",
                 safe_state: str = "off", timeline: Timeline | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise PowerError(f"relay url {url!r}: must be http://HOST:PORT/relay/N")
        self.name, self.url = name, url.rstrip("/")  # name: for errors before PowerBase is set up
        self._path = parts.path.rstrip("/")
        self._where = (parts.hostname, parts.port or 80)
        self._http = _Http(*self._where, timeout)
        self.round_trip_ms = self._measure()
        self._ttl = float(lease)
        self.lease = self._ttl if self._ttl > 0 and self._lease() else None  # None: the server keeps no lease
        super().__init__(name=name, safe_state=safe_state, timeline=timeline)
        self._stop = threading.Event()
        self._renewer = None
        if self.lease is not None:
            self._renewer = threading.Thread(target=self._renew, name=f"relay-lease-{name}", daemon=True)
            self._renewer.start()
        self._say_how_fast()

    # --- protocol ------------------------------------------------------------
    def _call(self, method: str, suffix: str = "", http: _Http | None = None) -> tuple[int, str, dict[str, str]]:
        try:
            return (http or self._http).request(method, self._path + suffix)
        except OSError as exc:
            raise PowerError(f"relay service {self.url} of place {self.name or '?'} unreachable: {exc}") from exc

    def _measure(self) -> float:
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            status, text, _ = self._call("GET")
            samples.append((time.perf_counter() - start) * 1000.0)
            if status != 200 or text not in ("0", "1"):
                raise PowerError(f"relay service {self.url}: GET answered {status} {text[:80]!r}, not a state 0/1")
        return round(sorted(samples)[1], 3)

    def _lease(self) -> bool:
        status, _, _ = self._call("POST", f"/lease?ttl={self._ttl:g}&holder={self._holder()}")
        if status == 200:
            return True
        LOG.warning("place %s: %s takes no lease (HTTP %d): a killed rig leaves this power as it was",
                    self.name or "?", self.url, status)
        return False

    def _holder(self) -> str:
        return f"rig-{os.uname().nodename}-{os.getpid()}"

    def _renew(self) -> None:
        http = _Http(*self._where, self._http.timeout)  # its own connection: never waits behind a switch
        try:
            while not self._stop.wait(self._ttl / 3):
                try:
                    self._call("POST", f"/lease?ttl={self._ttl:g}&holder={self._holder()}", http)
                except PowerError as exc:
                    LOG.warning("place %s: lease renewal failed: %s", self.name or "?", exc)
        finally:
            http.close()

    def _say_how_fast(self) -> None:
        if self.timeline is not None:
            self.timeline.append("power-path", place=self.name, backend=self.backend, url=self.url, remote=True,
                                 round_trip_ms=self.round_trip_ms, lease=self.lease)
        if self.round_trip_ms > SLOW_MS:
            LOG.warning("place %s: power goes through %s, %.1f ms per switch: timed cuts land up to that late; "
                        "run the rig on the board's own Pi for sub-millisecond cuts",
                        self.name or "?", self.url, self.round_trip_ms)

    # --- PowerBase hooks ----------------------------------------------------------
    def _switch(self, on: bool) -> None:
        status, text, headers = self._call("GET", "/1" if on else "/0")
        if status != 200 or text != ("1" if on else "0"):
            raise PowerError(f"relay service {self.url} of place {self.name or '?'}: switching "
                             f"{'on' if on else 'off'} failed: HTTP {status}: {text[:200]}")
        if self.timeline is not None:
            self.timeline.append("power-confirmed", place=self.name, action="on" if on else "off",
                                 by=headers.get("X-Rig-Confirmed", "server"), switch_ms=headers.get("X-Rig-Switch-Ms"))

    def _read(self) -> bool:
        status, text, _ = self._call("GET")
        if status != 200 or text not in ("0", "1"):
            raise PowerError(f"relay service {self.url}: state unknown (HTTP {status}: {text[:80]})")
        return text == "1"

    def _release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5.0)
        if self.lease is not None:
            try:
                self._call("DELETE", "/lease")
            except PowerError:
                pass  # the lease runs out by itself
        self._http.close()
