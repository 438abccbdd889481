"""Package URIs name an address the device can reach, even when the server listens on every interface."""

from __future__ import annotations

from rig.lwm2m.advertise import local_address_towards, peer_host


def test_peer_host_parts():
    assert peer_host("192.168.7.20:5683") == "192.168.7.20"
    assert peer_host("[fe80::1]:5683") == "fe80::1"
    assert peer_host("127.0.0.1") == "127.0.0.1"


def test_the_route_to_a_loopback_device_is_the_loopback_address():
    assert local_address_towards("127.0.0.1") == "127.0.0.1"
    assert local_address_towards("not an address") is None
