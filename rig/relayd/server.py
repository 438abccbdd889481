"""The relay service's HTTP face: labgrid's `simplerest` power model, plus leases and releases for the rig.

labgrid's simplerest driver (labgrid/driver/power/simplerest.py) switches with
`GET <host>` where host is `http://PI:PORT/relay/{index}/{value}`: value 1 or 0
switches, an empty value reads the state as the body "1" or "0". A switch is
answered only once confirmed (power-good or read-back); a switch the board's
power did not follow is a 502 with the reason, which labgrid raises as an error.

Beyond simplerest, for the rig and the labgrid exporter:
  PUT  /relay/N           body 1 or 0: the same switch
  POST /relay/N/lease?ttl=S&holder=WHO   take or renew a lease (safe state when it runs out)
  DELETE /relay/N/lease   drop the lease, leave the state
  POST /relay/N/claim?holder=PLACE       the exporter: the labgrid place acquired it
  POST /relay/N/release   safe state now (the place was released)
  GET  /relay/N/info      JSON: state, holder, lease left, last reason for the safe state
  GET  /health            "ok"
"""

from __future__ import annotations

import json
import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rig.power.base import PowerError
from rig.relayd.outlet import Outlet, Switched, Watchdog

LOG = logging.getLogger("rig.relayd")
_ROUTE = re.compile(r"^/relay/(\d+)(?:/(0|1|lease|claim|release|info))?/?$")


class RelayServer(ThreadingHTTPServer):
    """ThreadingHTTPServer owning the outlets and their watchdog; `close_outlets` applies every safe state."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], outlets: list[Outlet]) -> None:
        self.outlets = {o.index: o for o in outlets}
        self.watchdog = Watchdog(outlets)
        super().__init__(address, _Handler)
        self.watchdog.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def close_outlets(self) -> None:
        self.watchdog.stop()
        for outlet in self.outlets.values():
            try:
                outlet.close()
            except PowerError as exc:
                LOG.error("outlet %d (%s): safe state at service stop failed: %s", outlet.index, outlet.name, exc)


class _Handler(BaseHTTPRequestHandler):
    server: RelayServer
    protocol_version = "HTTP/1.1"  # keep-alive: a cut is one round trip on an open connection
    server_version, sys_version = "rig-relayd/1", ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        LOG.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/health":
            return self._send(200, "ok")
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        match = _ROUTE.match(parts.path)
        body = self._body()
        outlet = self.server.outlets.get(int(match.group(1))) if match else None
        if outlet is None:
            known = ", ".join(str(i) for i in sorted(self.server.outlets))
            return self._send(404, f"no outlet at {parts.path}; outlets: {known}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        action = match.group(2) or ""
        try:
            if method == "GET" and action in ("0", "1"):
                return self._switched(outlet.switch(action == "1"))
            if method == "GET" and action == "":
                return self._send(200, "1" if outlet.is_on() else "0")
            if method == "PUT" and action == "" and body.strip() in ("0", "1"):
                return self._switched(outlet.switch(body.strip() == "1"))
            if method == "GET" and action == "info":
                return self._json(200, outlet.info())
            if method == "POST" and action == "lease":
                outlet.lease(float(query.get("ttl", "10")), query.get("holder", self.address_string()))
                self.server.watchdog.poke()
                return self._json(200, outlet.info())
            if method == "DELETE" and action == "lease":
                outlet.drop_lease()
                return self._json(200, outlet.info())
            if method == "POST" and action == "claim":
                outlet.claim(query.get("holder", ""))
                return self._json(200, outlet.info())
            if method == "POST" and action == "release":
                done = outlet.release(query.get("reason", "released"))
                return self._json(200, {**outlet.info(), "confirmed": done.confirmed})
        except PowerError as exc:
            return self._send(502, str(exc))
        except ValueError as exc:
            return self._send(400, str(exc))
        self._send(405, f"{method} {parts.path}: not a relay request (see `rig relayd --help`)")

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def _switched(self, done: Switched) -> None:
        self._send(200, "1" if done.on else "0", {"X-Rig-Confirmed": done.confirmed, "X-Rig-Switch-Ms": f"{done.ms:g}"})

    def _json(self, code: int, data: dict[str, Any]) -> None:
        self._send(code, json.dumps(data), content_type="application/json")

    def _send(self, code: int, text: str, headers: dict[str, str] | None = None,
              content_type: str = "text/plain; charset=utf-8") -> None:
        raw = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)
