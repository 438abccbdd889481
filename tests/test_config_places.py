"""Rig file + target files -> Place: the example file loads, and every mistake is one line naming file, key and fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rig.config import load_place, load_rig, load_target, place_from_target
from rig.console.registry import create_console
from rig.errors import RigError
from rig.power.registry import create_power

REPO = Path(__file__).resolve().parent.parent
TARGETS = REPO / "targets"
EXAMPLE = REPO / "hardware" / "rig.example.toml"


def _write_rig(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(f'[rig]\ntargets_dir = "{TARGETS}"\nlock_dir = "{tmp_path}"\n' + body)
    return path


K64F = '[places.k64f-1]\ntarget = "frdm_k64f"\n[places.k64f-1.lwm2m]\nendpoint = "rig-k64f-1"\n'


def test_config_example_rig_file_loads(tmp_path: Path, monkeypatch):
    rig = tmp_path / "hardware" / "rig.toml"
    rig.parent.mkdir()
    shutil.copy(EXAMPLE, rig)
    (rig.parent / "psk").mkdir()
    (rig.parent / "psk" / "k64f-1.hex").write_text("00112233445566778899aabbccddeeff\n")
    monkeypatch.setenv("RIG_PSK_F767_1", "0f0e0d0c0b0a09080706050403020100")
    places = load_rig(rig, targets_dir=TARGETS)
    assert sorted(places) == ["f767-1", "k64f-1", "lab-k64f-1", "native-1", "usb-1"]
    assert places["lab-k64f-1"].lab.place == "pi3-k64f-1"  # its wiring comes from labgrid when acquired
    k64f = places["k64f-1"]
    assert k64f.power.backend == "gpio" and k64f.power.options["pin"] == 17 and k64f.power.options["active_low"]
    assert k64f.probe.options == {"unique_id": "0240000032044e4500256019997b00268781000097969900", "target_type": "k64f"}
    assert k64f.console.options["url"] == "/dev/rig-k64f-1-uart"
    assert k64f.lwm2m.psk_key == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert "psk_key" not in repr(k64f.lwm2m) or "0011" not in repr(k64f.lwm2m)
    assert k64f.layout.mcuboot_mode == "swap-move" and k64f.profile["resumes_download"] is False
    assert places["f767-1"].layout.base == 0x08000000 and places["f767-1"].probe.options["target_type"] == "stm32f767zi"
    assert places["f767-1"].console.options["baudrate"] == 115200  # from the target file
    native = places["native-1"]
    assert native.power.backend == "process" and native.power.options["argv"][0] == "/var/lib/rig/native-1/zephyr.exe"
    assert native.power.options["argv"][1] == "--flash=flash.bin"
    assert native.probe.options["flash_file"] == Path("/var/lib/rig/native-1/flash.bin")
    assert native.console.backend == "process"
    assert native.lwm2m.psk_key == bytes(range(16))


def test_config_example_without_key_file_names_it():
    with pytest.raises(RigError, match=r"rig.example.toml: places.k64f-1.lwm2m.psk_key_file: cannot read .*psk/k64f-1.hex"):
        load_rig(EXAMPLE, targets_dir=TARGETS)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('backend = "gpio"\npin = "x"', "places.k64f-1.power.pin: must be a BCM GPIO number 2..27, got 'x'"),
        ('backend = "gpio"\npin = 40', "places.k64f-1.power.pin: must be a BCM GPIO number 2..27, got 40"),
        ('backend = "gpio"', r"places.k64f-1.power.pin: missing \(backend 'gpio' needs it\)"),
        ('backend = "gpio"\npin = 17\nactive_lo = true', "places.k64f-1.power.active_lo: unknown key for backend 'gpio'; known: pin, active_low"),
        ('backend = "gpio"\npin = 17\npin_factory = "pigpio"', "places.k64f-1.power.pin_factory: must be one of auto, rpigpio, lgpio, mock, got 'pigpio'"),
        ('backend = "relais"', "places.k64f-1.power.backend: must be one of command, gpio, manual, process, relay, sim, got 'relais'"),
        ('backend = "command"\non = "uhubctl -a on"', r"places.k64f-1.power.off: missing"),
        ('backend = "gpio"\npin = 17\nmin_off = -1', "places.k64f-1.power.min_off: must be a number of seconds >= 0, got -1"),
    ],
)
def test_config_power_errors_name_file_key_and_fix(tmp_path: Path, table: str, message: str):
    rig = _write_rig(tmp_path, K64F + "[places.k64f-1.power]\n" + table + "\n")
    with pytest.raises(RigError, match=rf"^{tmp_path}/rig.toml: {message}"):
        load_rig(rig)


def test_config_place_level_errors(tmp_path: Path, monkeypatch):
    cases = [
        ('[places.a]\ntarget = "no_such_board"\n', "places.a.target: no target file .*no_such_board.toml"),
        ('[places.a]\n', r"places.a.target: missing; name a file in targets/"),
        ('[places.a]\ntarget = "frdm_k64f"\n', "places.a.power: missing; a board needs a power backend"),
        ('[places.a]\ntarget = "host_process"\nsafe_state = "maybe"\n', "places.a.safe_state: must be \"off\" or \"on\""),
        ('[places.a]\ntarget = "host_process"\ncolour = 1\n', "places.a.colour: unknown key"),
        ('[places.a]\ntarget = "host_process"\n[places.a.lwm2m]\npsk_key = "00ff"\n',
         "places.a.lwm2m.psk_key: a key does not belong in the rig file; use psk_key_file or psk_key_env"),
        ('[places.a]\ntarget = "host_process"\n[places.a.lwm2m]\npsk_key_env = "RIG_TEST_UNSET_KEY"\n',
         "places.a.lwm2m.psk_key_env: environment variable RIG_TEST_UNSET_KEY is not set"),
        ('[places.a]\ntarget = "host_process"\ntest = true\n[places.a.lwm2m]\npsk_key = "zz"\n',
         r"places.a.lwm2m.psk_key: the key must be hex"),
        ('[places.a]\ntarget = "host_process"\n[places.a.console]\nbackend = "serial"\n',
         r"places.a.console.url: missing"),
        ('[places.a]\ntarget = "frdm_k64f"\n[places.a.power]\nbackend = "manual"\n[places.a.probe]\nbackend = "pyocd"\n',
         r"places.a.probe.unique_id: missing"),
    ]
    monkeypatch.delenv("RIG_TEST_UNSET_KEY", raising=False)
    for body, message in cases:
        rig = _write_rig(tmp_path, body)
        with pytest.raises(RigError, match=rf"^{tmp_path}/rig.toml: {message}"):
            load_rig(rig)


def test_config_unknown_place_lists_the_known_ones(tmp_path: Path):
    rig = _write_rig(tmp_path, '[places.a]\ntarget = "host_process"\n[places.b]\ntarget = "host_process"\n')
    with pytest.raises(RigError, match=r"rig.toml: no place 'k64f-9'; places: a, b"):
        load_place(rig, "k64f-9")
    with pytest.raises(RigError, match=r"rig file .*/nope.toml not found"):
        load_rig(tmp_path / "nope.toml")


def test_config_target_file_errors(tmp_path: Path):
    text = (TARGETS / "frdm_k64f.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('failure_returns_to = "idle"', 'failure_returns_to = "updating"'))
    with pytest.raises(RigError, match=r"bad.toml: lwm2m.failure_returns_to: must be one of 'idle', 'downloaded', got 'updating'"):
        load_target(bad)
    bad.write_text(text.replace('kind = "board"', 'kind = "fpga"'))
    with pytest.raises(RigError, match=r"bad.toml: target.kind: must be one of virtual, board, process, got 'fpga'"):
        load_target(bad)
    bad.write_text(re.sub(r"(?m)^resumes_download = .*$", "", text))
    with pytest.raises(RigError, match=r"bad.toml: lwm2m.resumes_download: missing; say what this device does"):
        load_target(bad)


def test_config_all_shipped_targets_load():
    for path in sorted(TARGETS.glob("*.toml")):
        target = load_target(path)
        assert target.data["target"]["verified_on_hardware"] is False, f"{path.name}: nobody has run it on hardware yet"


def test_config_board_target_alone_needs_rig_file(tmp_path: Path):
    with pytest.raises(RigError, match="frdm_k64f.toml is a board: it needs a place in a rig file"):
        place_from_target(TARGETS / "frdm_k64f.toml", tmp_path)


def test_config_host_process_place_drives_real_backends(tmp_path: Path, timeline):
    target = tmp_path / "echo_client.toml"
    target.write_text(
        (TARGETS / "host_process.toml").read_text().replace(
            'command = ["{workdir}/zephyr.exe", "--flash={flash_file}", "--no-rt"]',
            'command = ["sh", "-c", "echo endpoint={endpoint} flash={flash_file} in $(pwd); exec sleep 100"]',
        )
    )
    place = place_from_target(target, tmp_path / "work", name="native-9")
    power = create_power(place.power.backend, place.power.options, name=place.name, timeline=timeline)
    console = create_console(place.console.backend, {}, power=power, name=place.name, timeline=timeline)
    try:
        power.on()
        line = console.expect(r"^endpoint=(\S+) flash=(\S+) in (\S+)$", timeout=5)
        assert line.groups() == ("rig-native-9", "flash.bin", str(tmp_path / "work"))
    finally:
        power.close()
        console.close()
