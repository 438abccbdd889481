"""Loopback port helpers: tests and the virtual board bind 127.0.0.1 on ports the OS says are free."""

from __future__ import annotations

import socket
import signal


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    """A port on `host` that was free a moment ago (the OS picked it)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_udp_pair(host: str = "127.0.0.1") -> int:
    """A port P such that P (CoAP) and P+1 (CoAPS) were both free: the rig's coaps port is the coap port + 1."""
    for _ in range(200):
        port = free_port(socket.SOCK_DGRAM, host)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind((host, port))
                b.bind((host, port + 1))
                return port
        except OSError:
            continue
    raise OSError("no two adjacent free UDP ports on " + host)


def default_sigint() -> None:
    """preexec_fn for children that must react to SIGINT: a shell that starts jobs in the background
    (CI runners do) leaves SIGINT ignored, and Python then never raises KeyboardInterrupt."""

    signal.signal(signal.SIGINT, signal.SIG_DFL)
