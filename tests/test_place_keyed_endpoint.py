"""A place with a key: its server binds the endpoint to the key, a process target is pointed at coaps, and
`allow_nosec = true` in the place's lwm2m table is the bench's way to accept plain CoAP for it too."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.config import load_rig
from rig.errors import RigError
from rig.place.server_values import fill_server

TARGETS = Path(__file__).resolve().parent.parent / "targets"
PLACE = ('[places.a]\ntarget = "host_process"\ntest = true\n[places.a.power]\nbackend = "process"\n'
         'argv = ["client", "--server", "{server_uri}", "--dtls-port", "{coaps_port}"]\n[places.a.lwm2m]\nendpoint = "ep-a"\n')


def _load(tmp_path: Path, lwm2m: str) -> dict:
    path = tmp_path / "rig.toml"
    path.write_text(f'[rig]\ntargets_dir = "{TARGETS}"\nlock_dir = "{tmp_path}"\nwork_dir = "{tmp_path}"\n' + PLACE + lwm2m)
    return load_rig(path)


def test_a_keyed_process_place_is_pointed_at_coaps(tmp_path: Path) -> None:
    keyed = _load(tmp_path, 'psk_key = "000102030405060708090a0b0c0d0e0f"\n')["a"]
    assert fill_server(keyed, "127.0.0.1", 5683).power.options["argv"] == [
        "client", "--server", "coaps://127.0.0.1:5684", "--dtls-port", "5684"]
    assert not keyed.lwm2m.allow_nosec
    plain = _load(tmp_path, "")["a"]
    assert fill_server(plain, "127.0.0.1", 5683).power.options["argv"][2] == "coap://127.0.0.1:5683"


def test_allow_nosec_is_a_boolean_for_a_place_with_a_key(tmp_path: Path) -> None:
    place = _load(tmp_path, 'psk_key = "00ff"\nallow_nosec = true\n')["a"]
    assert place.lwm2m.allow_nosec
    with pytest.raises(RigError, match=r"places.a.lwm2m.allow_nosec: the place has no PSK"):
        _load(tmp_path, "allow_nosec = true\n")
    with pytest.raises(RigError, match=r"places.a.lwm2m.allow_nosec: must be true or false, got 'yes'"):
        _load(tmp_path, 'psk_key = "00ff"\nallow_nosec = "yes"\n')


def test_the_place_session_server_binds_the_endpoint_and_honours_allow_nosec(tmp_path: Path) -> None:
    import asyncio

    from rig.place.open import open_place
    from rig.timeline import Timeline

    async def binding_of(lwm2m: str) -> tuple[bool, frozenset]:
        place = _load(tmp_path, lwm2m)["a"]
        async with open_place(place, Timeline(), tmp_path, tmp_path) as session:
            binding = session.server.binding
            return binding.has_key("ep-a"), binding.allow_nosec

    assert asyncio.run(binding_of('psk_key = "00ff"\n')) == (True, frozenset())
    assert asyncio.run(binding_of('psk_key = "00ff"\nallow_nosec = true\n')) == (True, frozenset({"ep-a"}))
