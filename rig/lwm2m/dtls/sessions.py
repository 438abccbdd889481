"""The bounded per-peer session table.

One entry per peer address (host, port): the established connection, if any,
and the handshake in progress, if any. Both may exist at once: a rebooted board
comes back from the same address with a new ClientHello while we still hold
its old session (RFC 6347 4.2.8), and the old session keeps carrying traffic
until the new handshake completes. The table is bounded (least recently active
peer goes first) and idle entries are purged, because boards that lose power
never say goodbye.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable, Iterator

from rig.lwm2m.dtls.handshake import Established, ServerHandshake

Peer = Hashable  # a socket address tuple, e.g. ("127.0.0.1", 40123)


@dataclass
class PeerState:
    peer: Peer
    last_activity: float
    connection: Established | None = None
    pending: ServerHandshake | None = None


class SessionTable:
    def __init__(self, max_peers: int = 256, idle_timeout: float = 3600.0) -> None:
        if max_peers < 1:
            raise ValueError("max_peers must be at least 1")
        self.max_peers = max_peers
        self.idle_timeout = idle_timeout
        self._peers: OrderedDict[Peer, PeerState] = OrderedDict()

    def get(self, peer: Peer) -> PeerState | None:
        return self._peers.get(peer)

    def admit(self, peer: Peer, now: float) -> tuple[PeerState, list[PeerState]]:
        """The entry for `peer` (created if new) and the entries evicted to make room for it."""
        state = self._peers.get(peer)
        if state is not None:
            self.touch(state, now)
            return state, []
        evicted = []
        while len(self._peers) >= self.max_peers:
            _, oldest = self._peers.popitem(last=False)
            evicted.append(oldest)
        state = self._peers[peer] = PeerState(peer, now)
        return state, evicted

    def touch(self, state: PeerState, now: float) -> None:
        state.last_activity = now
        if state.peer in self._peers:
            self._peers.move_to_end(state.peer)

    def remove(self, peer: Peer) -> PeerState | None:
        return self._peers.pop(peer, None)

    def purge_idle(self, now: float) -> list[PeerState]:
        """Remove and return entries idle for longer than `idle_timeout` (oldest first)."""
        purged = []
        while self._peers:
            peer, oldest = next(iter(self._peers.items()))
            if now - oldest.last_activity < self.idle_timeout:
                break
            del self._peers[peer]
            purged.append(oldest)
        return purged

    def next_idle_deadline(self) -> float | None:
        if not self._peers:
            return None
        return next(iter(self._peers.values())).last_activity + self.idle_timeout

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, peer: Peer) -> bool:
        return peer in self._peers

    def __iter__(self) -> Iterator[PeerState]:
        return iter(list(self._peers.values()))
