"""What a backend can do is a class attribute or a small protocol, read as such by the place layer and the campaign.

No code above the backends asks for a backend by name or sniffs for a method: these
tests pin each backend's capabilities, the power policy that reads them, and the
probe's and console's plain attributes, on real backend objects.
"""

from __future__ import annotations

import io
import sys

import pytest

from cmd_helpers import HOST_SIM
from rig.config_schema import SCHEMA
from rig.console.base import Console
from rig.console.process import ProcessConsole
from rig.console.registry import BACKENDS as CONSOLES, console_class
from rig.errors import RigError
from rig.place.power_policy import power_for_probe, release, stays_on_after
from rig.place.resolve import attach_sim, resolve_place
from rig.power.base import Power, PowerBase
from rig.power.manual import ManualPower
from rig.power.process import ProcessPower
from rig.power.registry import BACKENDS as POWERS, power_class
from rig.probe.base import Probe
from rig.probe.file_probe import FileProbe
from rig.probe.registry import BACKENDS as PROBES, probe_class
from rig.relayd.config import load_relayd_config
from rig.sim.app.settings import SettingsStore
from rig.sim.settings_view import settings_values

# backend: (persistent, powers_probe, runs_device, asks_operator, drives_supply, switches_fast, has a flash-op cut)
POWER_CAPABILITIES = {
    "gpio": (False, True, False, False, True, True, False),
    "command": (True, True, False, False, True, False, False),
    "process": (False, False, True, False, True, True, False),
    "manual": (True, True, False, True, False, False, False),
    "sim": (True, True, False, False, True, True, True),
    "relay": (False, True, False, False, False, False, False),
}


def test_every_power_backend_declares_its_capabilities_as_class_attributes():
    assert set(POWER_CAPABILITIES) == set(POWERS), "a new power backend needs its row here"
    for word, want in POWER_CAPABILITIES.items():
        cls = power_class(word)
        got = (cls.persistent, cls.powers_probe, cls.runs_device, cls.asks_operator, cls.drives_supply,
               cls.switches_fast, cls.flash_cut is not PowerBase.flash_cut)
        assert got == want, word
        missing = [name for name in Power.__annotations__ if not hasattr(cls, name) and name not in ("name", "safe_state")]
        assert not missing, f"{word} lacks {missing} of the Power protocol"


def test_probe_and_console_backends_declare_theirs():
    assert {w for w in PROBES if probe_class(w).takes_layout} == {"file"}
    assert {w for w in PROBES if not probe_class(w).resets_target} == {"file"}, "a file probe power-cycles instead"
    assert {w for w in CONSOLES if console_class(w).follows_power} == {"process"}
    assert {w for w in CONSOLES if console_class(w).reads_through_probe} == {"rtt"}
    for word in PROBES:
        assert all(hasattr(probe_class(word), n) for n in ("read_bytes", "device_settings", "unique_id")), word


def _manual(answers: str = "") -> tuple[ManualPower, io.StringIO]:
    out = io.StringIO()
    return ManualPower(tty_in=io.StringIO(answers), tty_out=out, name="bench"), out


def test_a_power_without_a_flash_cut_says_so_by_returning_none():
    power, _ = _manual()
    try:
        assert power.flash_cut() is None and isinstance(power, Power)
    finally:
        power.detach()


def test_power_policy_keeps_persistent_power_only_when_asked_and_ends_the_rest_safe(tmp_path):
    # A person's switch outlives the command: kept as it is when the operator keeps it, else asked to go safe.
    power, out = _manual("\n")
    assert stays_on_after(power)
    power_for_probe(power)
    assert out.getvalue() == "", "persistent power stays as the operator left it: nobody is asked"
    release(power, keep_power=True)
    assert out.getvalue() == "", "kept: released without a safe-state prompt"
    power, out = _manual("\n")
    release(power, keep_power=False)
    assert "switch the board's supply OFF" in out.getvalue(), "not kept: the safe state is applied"
    # A host process dies with the command and its flash is a file: no power for the probe, never kept.
    proc = ProcessPower([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, name="host")
    try:
        power_for_probe(proc)
        assert not proc.is_on() and not stays_on_after(proc)
        proc.on()
        release(proc, keep_power=True)
        assert proc.client_process() is None or proc.client_process().poll() is not None, "the safe state stopped it"
    finally:
        proc.close()


def test_file_probe_reads_bytes_and_leaves_the_settings_format_to_the_firmware(tmp_path):
    place = resolve_place(None, None, HOST_SIM, tmp_path / "w")
    layout = place.layout
    flash = tmp_path / "flash.bin"
    flash.write_bytes(bytes(range(256)) * (layout.size // 256))
    probe = FileProbe(flash, layout)
    assert isinstance(probe, Probe) and probe.unique_id is None
    assert probe.read_bytes(layout.base + 16, 4) == bytes([16, 17, 18, 19])
    assert probe.device_settings(layout.base, 64, layout) is None, "only the device's own side decodes its settings"


def test_the_virtual_board_describes_its_own_settings_records():
    sector, write, erased = 4096, 8, 0xFF
    raw = bytearray([erased]) * (2 * sector)

    class Flash:
        def read(self, offset: int, length: int) -> bytes:
            return bytes(raw[offset - 0x1000:offset - 0x1000 + length])

        def erase(self, offset: int, length: int) -> None:
            raw[offset - 0x1000:offset - 0x1000 + length] = bytes([erased]) * length

        def program(self, offset: int, data: bytes) -> None:
            raw[offset - 0x1000:offset - 0x1000 + len(data)] = data

    SettingsStore(Flash(), 0x1000, len(raw), sector, write, erased).save({"first_version": "1.0.0+0", "state": 0})
    assert settings_values(bytes(raw), 0x1000, sector, write, erased) == {"first_version": "1.0.0+0", "state": 0}
    assert settings_values(b"\x00" * (2 * sector), 0x1000, sector, write, erased) is None, "not its format"


def test_console_state_is_plain_attributes():
    console = ProcessConsole(name="host")
    assert isinstance(console, Console)
    assert (console.describe, console.dropped, console.error, console.closed) == ("process stdout/stderr", 0, None, False)
    console.close()
    assert console.closed


def test_the_resolved_place_says_how_it_opens(tmp_path):
    virtual = resolve_place(None, None, None, tmp_path / "w")
    assert virtual.starts_own_board and not virtual.device_on_this_host
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / "board.json").write_text(
        '{"console": "socket://127.0.0.1:4000", "control_port": 4001, "unique_id": "vsim-1"}')
    assert not attach_sim(virtual, tmp_path / "board").starts_own_board, "a rig sim board is attached, not started"
    host = resolve_place(None, None, HOST_SIM, tmp_path / "w")
    assert host.device_on_this_host and host.fills_server_into_command and host.server_host_default == "127.0.0.1"
    rig_file = tmp_path / "rig.toml"
    rig_file.write_text('[places.k64f-1]\ntarget = "frdm_k64f"\npower = { backend = "manual" }\n')
    board = resolve_place("k64f-1", rig_file, None, tmp_path)
    assert not board.starts_own_board and not board.fills_server_into_command
    assert board.server_host_default == "0.0.0.0", "a board comes over the bench LAN"


def test_relayd_refuses_an_outlet_whose_power_someone_else_switches(tmp_path):
    assert "manual" in SCHEMA["power"] and "relay" in SCHEMA["power"]
    for word, extra in (("manual", ""), ("relay", ', url = "http://127.0.0.1:1/outlets/0"')):
        conf = tmp_path / f"{word}.toml"
        conf.write_text(f'[outlets.0]\npower = {{ backend = "{word}"{extra} }}\n')
        with pytest.raises(RigError, match=f"an outlet switches power itself; '{word}' cannot"):
            load_relayd_config(conf)
