"""PlaceLock with real processes: a second job gets an error naming the holder; a killed holder frees the place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rig.errors import RigError
from rig.place.lock import PlaceBusy, PlaceLock

HOLDER = (
    "import sys; from rig.place.lock import PlaceLock\n"
    "lock = PlaceLock('k64f-1', sys.argv[1]); lock.acquire(); print('held', flush=True); sys.stdin.read()\n"
)


def test_place_lock_second_job_names_holder_pid(tmp_path: Path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PlaceBusy, match=rf"place k64f-1 is in use by pid {holder.pid} \(lock {tmp_path}/rig-place-k64f-1.lock\)"):
            PlaceLock("k64f-1", tmp_path).acquire()
        with PlaceLock("k64f-2", tmp_path):  # other places are free
            pass
        holder.kill()  # SIGKILL: no cleanup runs, the kernel drops the flock
        holder.wait(timeout=5)
        with PlaceLock("k64f-1", tmp_path) as lock:
            assert lock.held
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_place_lock_same_process_twice_is_busy(tmp_path: Path):
    with PlaceLock("p", tmp_path):
        with pytest.raises(PlaceBusy):
            PlaceLock("p", tmp_path).acquire()
    with PlaceLock("p", tmp_path):
        pass


def test_place_lock_bad_dir_and_name(tmp_path: Path):
    with pytest.raises(RigError, match="cannot create lock .*set \\[rig\\] lock_dir"):
        PlaceLock("p", tmp_path / "missing").acquire()
    with pytest.raises(RigError, match="may only use letters"):
        PlaceLock("../etc", tmp_path)
