"""Process targets as a third-party client needs them: every placeholder filled (and a wrong one refused when the
file is read), the key from --psk or made per run, stdin kept open, and a console that prints without end
staying under its cap while the run goes on. All with real subprocesses.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from cmd_helpers import rig
from rig.commands.place_args import with_psk
from rig.config import load_target, place_from_target
from rig.console.base import ConsoleError
from rig.console.process import ProcessConsole
from rig.errors import RigError
from rig.place.server_values import fill_server
from rig.power.process import ProcessPower
from rig.timeline import Timeline

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "targets" / "host_sim_vendor.toml"
ALL = ("workdir", "flash_file", "endpoint", "place", "python", "target_file", "target_dir", "server_host",
       "server_port", "server_coaps_port", "coaps_port", "server_uri", "psk_identity", "psk_key_hex", "psk_key_file")
# A client that writes down what it was given: its argv (one placeholder each) and an env value.
RECORDER = "import json, os, sys; json.dump(dict(argv=sys.argv[1:], env=os.environ['CLIENT_SERVER']), open('given.json', 'w'))"


def recorder_target(tmp_path: Path, extra: str = "", command: str | None = None) -> Path:
    argv = command or json.dumps(["{python}", "-c", RECORDER, *("{" + name + "}" for name in ALL)])
    text = VENDOR.read_text().split("\n[process]\n")[0] + (
        f'\n[process]\ncommand = {argv}\nenv = {{ CLIENT_SERVER = "{{server_host}}:{{server_coaps_port}}" }}\n'
        '[security]\npsk_identity = "from-target"\n' + extra
    ) + "\n[package]" + VENDOR.read_text().split("\n[package]", 1)[1]
    path = tmp_path / "recorder.toml"
    path.write_text(text)
    return path


def test_every_placeholder_is_filled_by_rig_power_on(tmp_path):
    target = recorder_target(tmp_path)
    done = rig("power", "on", "--hold", "1", "--target", str(target), "--work-dir", str(tmp_path / "w"),
               "--psk", "bench:000102030405060708090a0b0c0d0e0f", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    work = tmp_path / "w" / "recorder"
    given = json.loads((work / "given.json").read_text())
    values = dict(zip(ALL, given["argv"]))
    assert values == {
        "workdir": str(work), "flash_file": "flash.bin", "endpoint": "rig-host_sim_vendor", "place": "host_sim_vendor",
        "python": sys.executable, "target_file": str(target.resolve()), "target_dir": str(tmp_path.resolve()),
        "server_host": "127.0.0.1", "server_port": "5683", "server_coaps_port": "5684", "coaps_port": "5684",
        # the server holds the place's key, which binds its endpoint to coaps
        "server_uri": "coaps://127.0.0.1:5684", "psk_identity": "bench", "psk_key_hex": "000102030405060708090a0b0c0d0e0f",
        "psk_key_file": str(work / "psk.key"),
    }
    assert given["env"] == "127.0.0.1:5684"
    key_file = Path(values["psk_key_file"])
    assert key_file.read_bytes() == bytes(range(16)) and stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_coaps_run_gives_the_coaps_uri_and_a_per_run_key(tmp_path):
    target = recorder_target(tmp_path, "per_run_key = true\n")
    first = place_from_target(target, tmp_path / "a")
    second = place_from_target(target, tmp_path / "b")
    assert first.lwm2m.per_run and first.lwm2m.psk_identity == "from-target"
    assert len(first.lwm2m.psk_key) == 16 and first.lwm2m.psk_key != second.lwm2m.psk_key
    argv = fill_server(first, "127.0.0.1", 40000, "coaps").power.options["argv"]
    values = dict(zip(ALL, argv[3:]))
    assert values["server_uri"] == "coaps://127.0.0.1:40001" and values["psk_key_hex"] == first.lwm2m.psk_key.hex()
    # on a coap run the server does not hold a per-run key: the client registers over plain coap
    plain = dict(zip(ALL, fill_server(first, "127.0.0.1", 40000, "coap").power.options["argv"][3:]))
    assert plain["server_uri"] == "coap://127.0.0.1:40000" and plain["psk_key_hex"] == first.lwm2m.psk_key.hex()
    assert stat.S_IMODE(Path(values["psk_key_file"]).stat().st_mode) == 0o600


def test_a_key_placeholder_without_a_key_is_one_line_naming_psk(tmp_path):
    place = place_from_target(recorder_target(tmp_path), tmp_path / "w")
    assert place.lwm2m.psk_key is None
    with pytest.raises(RigError) as info:
        fill_server(place, "127.0.0.1", 40000)
    message = str(info.value)
    assert "\n" not in message and "{psk_identity}" in message and "--psk IDENTITY:HEXKEY" in message
    assert with_psk(place, "x:00ff").lwm2m.psk_key == b"\x00\xff"
    with pytest.raises(RigError, match="IDENTITY:HEXKEY"):
        with_psk(place, "no-key-here")


@pytest.mark.parametrize("field, words", [
    ('"{server_prot}"', "unknown placeholder {server_prot}"),
    ('"{psk_key_hex:>4}"', "is not a placeholder"),
    ('"{0}"', "is not a placeholder"),
])
def test_an_unknown_placeholder_is_refused_when_the_target_is_read(tmp_path, field, words):
    target = recorder_target(tmp_path, command=f'["client", {field}]')
    with pytest.raises(RigError) as info:
        load_target(target)
    assert "\n" not in str(info.value) and "process.command" in str(info.value) and words in str(info.value)
    done = rig("run", "--target", str(target), cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_stdin_pipe_stays_open_and_the_console_types_into_it(tmp_path):
    echo = [sys.executable, "-c", "import sys\nfor line in sys.stdin: print('got', line.strip(), flush=True)\n"
            "print('stdin closed', flush=True)"]
    power = ProcessPower(echo, tmp_path, stdin="pipe", name="echo")
    console = ProcessConsole(power=power, name="echo")
    try:
        power.on()
        console.write("hello\n")
        console.expect("got hello", timeout=10)
        assert power.is_on(), "a kept-open stdin is not an EOF: the client waits"
    finally:
        power.close()
        console.close()
    power = ProcessPower(echo, tmp_path, name="echo")  # stdin = "null": EOF at once
    console = ProcessConsole(power=power, name="echo")
    try:
        power.on()
        console.expect("stdin closed", timeout=10)
        power.client_process().wait(timeout=10)
        with pytest.raises(ConsoleError, match="cannot be written to"):
            console.write("hello\n")
    finally:
        power.close()
        console.close()


def test_a_process_printing_without_end_stays_under_the_console_cap(tmp_path):
    timeline = Timeline()
    spam = [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('spam ' * 20 + '\\n')"]
    power = ProcessPower(spam, tmp_path, name="spam", timeline=timeline)
    console = ProcessConsole(power=power, name="spam", timeline=timeline, log_path=tmp_path / "console.log")
    console.log_cap = 64 * 1024
    try:
        power.on()
        deadline = time.monotonic() + 30
        while console.dropped < 20000 and time.monotonic() < deadline:  # a remote process: poll it, bounded
            console.expect("spam", timeout=5)
        assert console.dropped >= 20000, "the process kept printing and every line past the cap was counted"
    finally:
        power.close()
        console.close()
    log = (tmp_path / "console.log").read_text()
    assert len(log) < 64 * 1024 + 200 and log.rstrip().endswith("the count is in the report)")
    kept = [e for e in timeline.events() if e.kind == "console"]
    assert len(kept) < 64 * 1024 // 100 + 10 and [e.kind for e in timeline.events()].count("console-capped") == 1


def test_a_run_goes_on_while_its_client_prints_without_end(tmp_path):
    """A target whose client busy-loops on its console: the run finishes, each case's log stays under the cap,
    report.json counts what was dropped."""
    text = VENDOR.read_text().replace(
        'command = ["{python}",',
        'command = ["sh", "-c", "while :; do echo spam spam spam spam spam spam spam; done & exec \\"$@\\"", "sh", "{python}",'
    ).replace("[coap]", '[console]\nlog_cap = "256K"\n\n[coap]', 1)
    target = tmp_path / "spam.toml"
    target.write_text(text)
    out = tmp_path / "R"
    done = rig("run", "power-cut", "--target", str(target), "--points", "0", "--image-size", "8K",
               "--report-dir", str(out), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = json.loads((out / "report.json").read_text())["results"]
    assert result["outcome"] == "pass" and result["console_dropped"] > 0
    assert (out / result["console_log"]).stat().st_size < 256 * 1024 + 200
    assert os.path.getsize(out / "timeline.jsonl") < 4 * 1024 * 1024


def test_a_rig_sim_board_over_coaps_takes_the_key_it_was_started_with(tmp_path):
    """`rig update --sim-dir` reaches a board started with `rig sim --psk`: without --psk it says so before
    anything starts; with the board's key the update goes through over coaps."""
    from cmd_helpers import make_image, one_line_error
    from rig.netutil import free_udp_pair
    from rig.sim.launcher import start_virtual_board
    from sim_board import TARGET

    port, key = free_udp_pair(), "00112233445566778899aabbccddeeff"
    board = start_virtual_board(tmp_path / "board", TARGET, image=make_image(tmp_path, "1.0.0"), via_cli=True,
                                server=f"coaps://127.0.0.1:{port + 1}", extra=("--psk", f"dev-3:{key}"))
    try:
        from probe_plugin_helpers import wait_board_json

        wait_board_json(board)
        update = ["update", str(make_image(tmp_path, "2.0.0", seed=2)), "--sim-dir", str(board.directory),
                  "--pull", "coaps", "--wait", "40"]
        one_line_error(rig(*update, cwd=tmp_path), "has no PSK", "--psk IDENTITY:HEXKEY", "rig sim")
        done = rig(*update, "--psk", f"dev-3:{key}", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "updated: running '2.0.0+0'" in done.stdout
    finally:
        board.stop()
