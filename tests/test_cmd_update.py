"""`rig update` end to end as a subprocess: a `rig sim` board (pull and push) and a host-process target."""

from __future__ import annotations

import time

import pytest

from cmd_helpers import HOST_SIM, make_image, one_line_error, rig, sim_board
from rig.netutil import free_udp_pair
from rig.sim.defects import IMAGE_MARKERS

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


@pytest.mark.parametrize("how", [["--pull"], ["--push", "--block-size", "1024"]], ids=["pull", "push"])
def test_update_a_sim_board_to_the_new_version(tmp_path, how):
    port = free_udp_pair()
    board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"), port)
    # pull: the server address comes from the board's own board.json; push: given with --port
    server = ["--port", str(port)] if "--push" in how else []
    try:
        done = rig("update", str(make_image(tmp_path, "2.0.0", seed=2)), *how, "--sim-dir", str(board.directory),
                   *server, "--wait", "40", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        for seen in ("State: 1 (Downloading)", "100% 33320/33320 bytes", "State: 2 (Downloaded)",
                     "State: 3 (Updating)", "Update Result: 1 (success)", "updated: running '2.0.0+0'"):
            assert seen in out, out
        assert out.index("State: 1") < out.index("State: 2") < out.index("State: 3"), "states print as they change"
        assert board.slot_image("primary").version == "2.0.0+0"
        with board.client as c:
            assert c.status()["power"] == "on", "after a good update the board keeps running"
    finally:
        board.stop()


def test_update_a_host_process_target_end_to_end(tmp_path):
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(make_image(tmp_path, "1.0.0")), *place, cwd=tmp_path).returncode == 0
    done = rig("update", str(make_image(tmp_path, "1.1.0", seed=4)), *place, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updated: running '1.1.0+0'" in done.stdout and "Update Result: 1 (success)" in done.stdout
    done = rig("inspect", *place, cwd=tmp_path)
    assert "primary: 1.1.0+0 intact" in done.stdout and "secondary: 1.0.0+0 intact" in done.stdout, done.stdout


def test_update_that_fails_exits_1(tmp_path):
    """A package the device refuses (payload corrupted after signing): no new version, exit 1."""
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(make_image(tmp_path, "1.0.0")), *place, cwd=tmp_path).returncode == 0
    bad = make_image(tmp_path, "2.0.0", seed=2)
    data = bytearray(bad.read_bytes())
    data[0x300] ^= 0xFF
    bad.write_bytes(bytes(data))
    done = rig("update", str(bad), *place, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "updated:" not in done.stdout
    # The end names the Update Result and the State, not just "failed"
    assert "FAILED: the update ended in failure: State 0 (Idle), Update Result 5 (integrity check failure)" \
        in done.stdout, done.stdout


def test_update_stops_waiting_when_the_host_process_exits(tmp_path):
    """An image that crashes on boot ends a host-process client (no supervisor restarts it): the rig says so
    at once instead of waiting out its update and boot timeouts for a registration that cannot come."""
    place = ["--target", str(HOST_SIM), "--work-dir", str(tmp_path / "w")]
    assert rig("flash", str(make_image(tmp_path, "1.0.0")), *place, cwd=tmp_path).returncode == 0
    crash = make_image(tmp_path, "2.0.0", seed=2, marker=IMAGE_MARKERS["crash"])
    started = time.monotonic()
    done = rig("update", str(crash), *place, cwd=tmp_path)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Execute /5/0/2: 2.04" in done.stdout and "the target's process exited (status 70)" in done.stdout, \
        done.stdout
    assert took < 30, f"rig update waited {took:.0f} s after the client process had exited"


def test_update_bad_input_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_FILE", raising=False)
    one_line_error(rig("update", str(tmp_path / "nope.bin"), "--target", str(HOST_SIM), cwd=tmp_path), "nope.bin")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not an image")
    one_line_error(rig("update", str(junk), "--target", str(HOST_SIM), cwd=tmp_path), "not an MCUboot image")
    image = make_image(tmp_path, "2.0.0")
    one_line_error(rig("update", str(image), "--place", "k64f-9", "--rig", str(tmp_path / "rig.toml"), cwd=tmp_path),
                   "rig file", "not found")
    (tmp_path / "rig.toml").write_text('[places.a]\ntarget = "host_sim"\n')
    one_line_error(rig("update", str(image), "--place", "k64f-9", cwd=tmp_path), "no place 'k64f-9'", "places: a")
