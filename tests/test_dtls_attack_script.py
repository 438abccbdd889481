"""scripts/dtls_attack.py against a live `rig serve`, briefly: every hostile scenario holds; it refuses to aim
anywhere but loopback and refuses unbounded runs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from cmd_helpers import rig_background
from rig.netutil import free_udp_pair

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dtls_attack.py"
PSK = f"dev1:id1:{b'secret-one'.hex()}"


def attack(*args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def test_dtls_attack_script_runs_every_scenario_against_rig_serve_and_all_hold(tmp_path) -> None:
    port = free_udp_pair()
    serve = rig_background("serve", "--firmware", str(tmp_path), "--port", str(port), "--psk", PSK, cwd=tmp_path)
    try:
        serve.wait_line("serving LwM2M")
        result = attack("--port", str(port), "--psk", PSK, "--count", "100", "--time-limit", "60")
    finally:
        serve.stop()
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines) >= 10 and all(line.startswith("held") for line in lines[:-1]), lines
    assert lines[-1] == f"{len(lines) - 1} of {len(lines) - 1} held"
    assert any("100 cookie-verified half-open handshakes" in line for line in lines)


def test_dtls_attack_script_is_loopback_only_and_bounded(capsys) -> None:
    spec = importlib.util.spec_from_file_location("dtls_attack", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for args, words in ((["--host", "192.0.2.7"], "refusing a non-loopback address"),
                        (["--host", "example.org"], "not an IP address"),
                        (["--count", "100000"], "--count 100000: must be 1..2000"),
                        (["--time-limit", "3600"], "--time-limit 3600: must be")):
        assert module.main(["--port", "5683", "--psk", PSK, *args]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, (args, err)
