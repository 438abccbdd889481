"""The endpoint table: who is registered, from where, with which objects.

Only Register and Update move an endpoint's address: a client may fetch firmware
from another port, and that must not redirect device-management requests.
Locations are random (`secrets`), not a counter: a peer that knows its own
location must not be able to guess another endpoint's and update or delete it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from rig.lwm2m.limits import LOCATION_BYTES, MAX_ENDPOINTS


@dataclass
class Registration:
    endpoint: str
    location: str
    remote: Any
    lifetime: int
    lwm2m_version: str
    binding: str
    objects: dict[int, str | None]
    instances: dict[int, set[int]]
    links: bytes
    psk_identity: bytes | None = None
    queue_mode: bool = False  # `Q` in the query (1.1) or in the binding (`b=UQ`, 1.0): reachable only when awake
    registered_at: float = field(default_factory=time.monotonic)
    updated_at: float = field(default_factory=time.monotonic)

    @property
    def peer(self) -> str:
        return str(getattr(self.remote, "hostinfo", self.remote))

    def object_version(self, object_id: int, default: str = "1.0") -> str:
        """Version from `</5>;ver=1.1`; absent means the client's core default (1.0)."""
        return self.objects.get(object_id) or default


def same_remote(a: Any, b: Any) -> bool:
    """Whether two aiocoap remotes are one peer; aiocoap's UDP remotes cannot be compared with coaps ones."""
    return type(a) is type(b) and a == b


class EndpointTableFull(Exception):
    """More endpoints than the table holds: a flood of random names must not grow memory without bound."""


class EndpointTable:
    """Endpoints by name and by location; bounded; a re-Register replaces the old entry."""

    def __init__(self, max_endpoints: int = MAX_ENDPOINTS, clock: Callable[[], float] = time.monotonic) -> None:
        self._by_name: dict[str, Registration] = {}
        self._by_location: dict[str, Registration] = {}
        self._max = max_endpoints
        self._clock = clock

    def new_location(self) -> str:
        while (location := secrets.token_hex(LOCATION_BYTES)) in self._by_location:
            pass  # 2**64 locations: a repeat is all but impossible, but never hand out one in use
        return location

    def add(self, reg: Registration) -> Registration | None:
        """Insert or replace; returns the replaced registration (a re-Register after a reboot)."""
        old = self._by_name.pop(reg.endpoint, None)
        if old is not None:
            self._by_location.pop(old.location, None)
        elif len(self._by_name) >= self._max:
            raise EndpointTableFull(f"endpoint table full ({self._max} endpoints)")
        self._by_name[reg.endpoint] = reg
        self._by_location[reg.location] = reg
        return old

    def by_name(self, endpoint: str) -> Registration | None:
        return self._by_name.get(endpoint)

    def by_location(self, location: str) -> Registration | None:
        return self._by_location.get(location)

    def remove(self, location: str) -> Registration | None:
        reg = self._by_location.pop(location, None)
        if reg is not None and self._by_name.get(reg.endpoint) is reg:
            del self._by_name[reg.endpoint]
        return reg

    def expired(self, grace: float = 0.0) -> list[Registration]:
        now = self._clock()
        return [r for r in self._by_name.values() if now > r.updated_at + r.lifetime + grace]

    def __len__(self) -> int:
        return len(self._by_name)

    def all(self) -> list[Registration]:
        return list(self._by_name.values())
