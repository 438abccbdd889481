"""pytest plugin of the rig (entry point `pytest11: rig`): fixtures for loopback ports and a timeline.

Campaign options (`--rig-target`, `--rig-place`) and place fixtures join here as those pieces land.
"""

from __future__ import annotations

import socket

import pytest

from rig.netutil import free_port, free_udp_pair
from rig.timeline import Timeline


@pytest.fixture
def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def free_udp_port_pair() -> int:
    """P with P and P+1 free (coap and coaps)."""
    return free_udp_pair()


@pytest.fixture
def free_tcp_port() -> int:
    return free_port(socket.SOCK_STREAM)


@pytest.fixture
def timeline() -> Timeline:
    return Timeline()
