"""Two bounded tables: established sessions, and half-open handshakes, kept apart.

A handshake is cheap to start for anyone who receives packets at its address
(the cookie proves no more), so half-open handshakes live in their own small
table where a new one pushes out the oldest half-open one; they can never push
an established (authenticated) session out. Sessions have their own bound: a
new session pushes out the least recently active one that no live registration
holds. Both tables are keyed by peer address (host, port): a rebooted board comes
back from the same address with a new ClientHello while we still hold its old
session (RFC 6347 4.2.8), and the old session keeps carrying traffic until the
new handshake completes. Idle sessions are purged, because boards that lose
power never say goodbye, but not before the registration that uses them expires
(`keep`): a quiet registered device must still get device-management requests.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable, Iterator

from rig.lwm2m.dtls.handshake import Established, ServerHandshake
from rig.lwm2m.limits import MAX_HALF_OPEN_HANDSHAKES, MAX_SESSIONS, SESSION_IDLE_TIMEOUT

Peer = Hashable  # a socket address tuple, e.g. ("127.0.0.1", 40123)


@dataclass
class Session:
    peer: Peer
    connection: Established
    last_activity: float
    keep_until: float = float("-inf")  # a live registration holds the session until then

    def purge_at(self, idle_timeout: float) -> float:
        return max(self.last_activity + idle_timeout, self.keep_until)


class SessionTableFull(Exception):
    """Every session is held by a live registration: a new one is refused rather than pushing one out."""


class SessionTable:
    def __init__(self, max_sessions: int = MAX_SESSIONS, idle_timeout: float = SESSION_IDLE_TIMEOUT) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: OrderedDict[Peer, Session] = OrderedDict()  # least recently active first

    def get(self, peer: Peer) -> Session | None:
        return self._sessions.get(peer)

    def admit(self, peer: Peer, connection: Established, now: float) -> tuple[Session, list[Session]]:
        """Install `connection` for `peer` (replacing its old one) and return it with the sessions pushed out
        to make room: the least recently active ones not held by a registration. SessionTableFull if none."""
        old = self._sessions.pop(peer, None)
        evicted = []
        while len(self._sessions) >= self.max_sessions:
            victim = next((s for s in self._sessions.values() if s.keep_until <= now), None)
            if victim is None:
                if old is not None:
                    self._sessions[peer] = old
                raise SessionTableFull(f"session table full ({self.max_sessions} sessions, all held by live registrations)")
            del self._sessions[victim.peer]
            evicted.append(victim)
        session = self._sessions[peer] = Session(peer, connection, now, old.keep_until if old else float("-inf"))
        return session, evicted

    def touch(self, session: Session, now: float) -> None:
        session.last_activity = now
        if self._sessions.get(session.peer) is session:
            self._sessions.move_to_end(session.peer)

    def keep(self, peer: Peer, identity: bytes, until: float) -> bool:
        """Hold `peer`'s session (if it belongs to `identity`) until `until`; False if there is no such session."""
        session = self._sessions.get(peer)
        if session is None or session.connection.identity != identity:
            return False
        session.keep_until = until
        return True

    def remove(self, peer: Peer) -> Session | None:
        return self._sessions.pop(peer, None)

    def purge_idle(self, now: float) -> list[Session]:
        """Remove and return sessions idle for longer than `idle_timeout` that no registration holds."""
        purged = [s for s in self._sessions.values() if now >= s.purge_at(self.idle_timeout)]
        for session in purged:
            del self._sessions[session.peer]
        return purged

    def next_idle_deadline(self) -> float | None:
        return min((s.purge_at(self.idle_timeout) for s in self._sessions.values()), default=None)

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, peer: Peer) -> bool:
        return peer in self._sessions

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))


class HandshakeTable:
    """Half-open handshakes by peer, oldest first; `add` pushes out the oldest when full."""

    def __init__(self, max_handshakes: int = MAX_HALF_OPEN_HANDSHAKES) -> None:
        if max_handshakes < 1:
            raise ValueError("max_handshakes must be at least 1")
        self.max_handshakes = max_handshakes
        self._handshakes: OrderedDict[Peer, ServerHandshake] = OrderedDict()

    def get(self, peer: Peer) -> ServerHandshake | None:
        return self._handshakes.get(peer)

    def add(self, peer: Peer, handshake: ServerHandshake) -> tuple[ServerHandshake | None, list[tuple[Peer, ServerHandshake]]]:
        """Start `handshake` for `peer`: returns the one it supersedes (same peer) and those pushed out (oldest)."""
        superseded = self._handshakes.pop(peer, None)
        evicted = []
        while len(self._handshakes) >= self.max_handshakes:
            evicted.append(self._handshakes.popitem(last=False))
        self._handshakes[peer] = handshake
        return superseded, evicted

    def remove(self, peer: Peer) -> ServerHandshake | None:
        return self._handshakes.pop(peer, None)

    def items(self) -> list[tuple[Peer, ServerHandshake]]:
        return list(self._handshakes.items())

    def next_deadline(self) -> float | None:
        return min((hs.next_deadline() for hs in self._handshakes.values()), default=None)

    def __len__(self) -> int:
        return len(self._handshakes)

    def __contains__(self, peer: Peer) -> bool:
        return peer in self._handshakes
