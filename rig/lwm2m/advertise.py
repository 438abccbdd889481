"""Which address to put in a Package URI when the server listens on every interface.

On a Pi the rig binds 0.0.0.0 so boards on the bench Ethernet reach it, but a URI
of "coap://0.0.0.0/fw/x" means nothing to a device: it must name the Pi's address
on the board's network. The kernel's routing answers that: connect a UDP socket
towards the device (no packet is sent) and read back the local address it chose.
"""

from __future__ import annotations

import socket

WILDCARDS = ("0.0.0.0", "::", "")


def local_address_towards(peer_host: str) -> str | None:
    family = socket.AF_INET6 if ":" in peer_host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((peer_host, 9))
            return probe.getsockname()[0]
    except OSError:
        return None


def peer_host(peer: str) -> str:
    """'192.168.7.20:5683' or '[fe80::1]:5683' -> the host part."""
    if peer.startswith("["):
        return peer[1:].split("]", 1)[0]
    return peer.rsplit(":", 1)[0] if peer.count(":") == 1 else peer
