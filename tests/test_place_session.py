"""resolve_place and open_place: which place, the lock, the server, safe state on every way out."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from cmd_helpers import HOST_SIM, make_image
from rig.config import DEFAULT_TARGETS_DIR
from rig.errors import RigError
from rig.place.lock import PlaceBusy, PlaceLock
from rig.place.bench import open_bench
from rig.place.open import open_place
from rig.place.resolve import attach_sim, resolve_place
from rig.probe.file_probe import FileProbe

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_resolve_place_picks_rig_file_then_target_then_the_virtual_board(tmp_path, monkeypatch):
    monkeypatch.delenv("RIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_place(None, None, None, tmp_path / "w").target_file == DEFAULT_TARGETS_DIR / "virtual.toml"
    place = resolve_place(None, None, HOST_SIM, tmp_path / "w")
    assert place.kind == "process" and place.work_dir == tmp_path / "w" / "host_sim"
    assert place.lock_dir == place.work_dir, "a --target place locks its own working directory"
    with pytest.raises(RigError, match=r"no rig file; give --rig FILE, set \$RIG_FILE or put rig.toml"):
        resolve_place("bench-1", None, None, tmp_path)
    (tmp_path / "rig.toml").write_text('[places.bench-1]\ntarget = "host_sim"\n')
    assert resolve_place("bench-1", None, None, tmp_path).name == "bench-1", "./rig.toml is found"
    other = tmp_path / "other.toml"
    other.write_text('[places.bench-2]\ntarget = "host_sim"\n')
    monkeypatch.setenv("RIG_FILE", str(other))
    assert resolve_place("bench-2", None, None, tmp_path).name == "bench-2", "$RIG_FILE wins over ./rig.toml"
    with pytest.raises(RigError, match=r"other.toml: no place 'bench-1'; places: bench-2"):
        resolve_place("bench-1", None, None, tmp_path)
    with pytest.raises(RigError, match="not both"):
        resolve_place("bench-1", None, HOST_SIM, tmp_path)
    with pytest.raises(RigError, match="needs --place"):
        resolve_place(None, other, None, tmp_path)
    with pytest.raises(RigError, match="no such target file"):
        resolve_place(None, None, tmp_path / "nope.toml", tmp_path)


def test_attach_sim_reads_board_json_and_names_the_fix(tmp_path):
    place = resolve_place(None, None, None, tmp_path / "w")
    with pytest.raises(RigError, match="rig sim --dir"):
        attach_sim(place, tmp_path / "board")
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / "board.json").write_text(json.dumps(
        {"console": "socket://127.0.0.1:4000", "control_port": 4001, "unique_id": "vsim-1234", "pid": 1}))
    sim = attach_sim(place, tmp_path / "board")
    assert sim.name == "sim-vsim-1234" and sim.power.options == {"control_port": 4001}
    assert sim.console.options == {"url": "socket://127.0.0.1:4000"} and sim.lock_dir == tmp_path / "board"
    with pytest.raises(RigError, match="only a virtual target"):
        attach_sim(resolve_place(None, None, HOST_SIM, tmp_path / "w"), tmp_path / "board")


def _flashed_host_place(tmp_path):
    place = resolve_place(None, None, HOST_SIM, tmp_path / "w")
    FileProbe(place.probe.options["flash_file"], place.layout).program(
        make_image(tmp_path, "1.0.0"), place.layout.base + place.layout.partition("primary").offset)
    return place


def test_session_serves_locks_and_cuts_the_process_on_an_error(tmp_path, timeline):
    place = _flashed_host_place(tmp_path)

    async def body() -> int:
        async with open_place(place, timeline, place.work_dir, tmp_path) as session:
            with pytest.raises(PlaceBusy):
                PlaceLock(place.name, place.lock_dir).acquire()
            session.power.on()
            reg = await session.server.wait_registration(session.endpoint, 30, after=0)
            assert reg.endpoint == "rig-host_sim"
            pid = session.power.proc.pid
            raise KeyboardInterrupt  # Ctrl-C in the middle of a command
        return pid

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(body())
    powers = [e.data for e in timeline.events() if e.kind == "power"]
    assert powers[-1]["action"] == "off" and powers[-1]["reason"] == "safe-state"
    lock = PlaceLock(place.name, place.lock_dir)
    lock.acquire()  # released
    lock.release()
    with open_bench(place, timeline, place.work_dir, console=False) as bench:
        assert not bench.power.is_on()


def test_process_console_lines_and_safe_state_through_open_bench(tmp_path, timeline):
    place = _flashed_host_place(tmp_path)
    with open_bench(place, timeline, place.work_dir) as bench:
        bench.power.on()
        bench.console.expect(r"\[boot\] jumping to image 1\.0\.0\+0", timeout=30)
        proc = bench.power.proc
    assert proc.poll() is not None, "closing the bench applied the safe state (off): the process is gone"
    assert (place.work_dir / "console.log").read_text().count("jumping to image") == 1


def test_host_device_reboot_keeps_its_pid(tmp_path, timeline):
    """A reboot re-execs in place: the same pid, so the process power's SIGKILL still reaches it."""
    place = _flashed_host_place(tmp_path)

    async def body() -> None:
        async with open_place(place, timeline, place.work_dir, tmp_path) as session:
            session.power.on()
            await session.server.wait_registration(session.endpoint, 30, after=0)
            pid = session.power.proc.pid
            mark = len(timeline)
            response = await session.server.execute(session.endpoint, "/3/0/4")  # Device Reboot
            assert response.ok, response.code_text
            await session.server.wait_registration(session.endpoint, 30, after=mark)
            assert session.power.proc.pid == pid and session.power.is_on()
            lines = [line.text for line in session.console.lines()]
            assert sum("power-on reset" in t for t in lines) == 2, lines[-5:]

    asyncio.run(body())
    assert os.path.exists(place.work_dir / "flash.bin")


def test_a_virtual_place_without_rig_sim_starts_its_own_board(tmp_path, timeline):
    place = resolve_place(None, None, None, tmp_path / "w")

    async def body() -> str:
        with pytest.raises(RigError, match="base image"):
            async with open_place(place, timeline, tmp_path, tmp_path):
                pass
        async with open_place(place, timeline, tmp_path / "v", tmp_path, base_image=make_image(tmp_path, "1.0.0"),
                                      scheme="coaps") as session:
            assert session.pull_scheme == "coaps"
            reg = await session.server.wait_registration(session.endpoint, 30, after=0)
            return reg.endpoint

    assert asyncio.run(body()) == "rig-virtual"
