"""`rig serve` as a user runs it: a real subprocess, a registration line, clean stop on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys


from peers import need

from rig.netutil import free_udp_pair
from rig.netutil import default_sigint


def _rig(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rig.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint, **kwargs)


def _readline_until(proc: subprocess.Popen, needle: str, limit: int = 50) -> str:
    for _ in range(limit):
        line = proc.stdout.readline()
        if not line:
            break
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never printed; stderr: {proc.stderr.read() if proc.poll() is not None else ''}")


def test_serve_prints_registration_and_stops_on_ctrl_c(tmp_path):
    client = need("coap-client-openssl")
    port = free_udp_pair()
    proc = _rig("serve", "--firmware", str(tmp_path), "--port", str(port), "--timeline", str(tmp_path / "t.jsonl"))
    try:
        _readline_until(proc, "serving LwM2M")
        subprocess.run([client, "-m", "post", "-t", "40", "-e", "</5>;ver=1.1", f"coap://127.0.0.1:{port}/rd?ep=bench-1&lt=60"],
                       capture_output=True, timeout=20, check=True)
        line = _readline_until(proc, "register")
        assert "bench-1" in line and "</5>;ver=1.1" in line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "register" in (tmp_path / "t.jsonl").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_bad_input_is_one_line_not_a_traceback(tmp_path):
    proc = _rig("serve", "--firmware", str(tmp_path / "missing"), "--port", str(free_udp_pair()))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
