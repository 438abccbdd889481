"""A child process must die with the process that started it: the MCU with its supervisor or zygote, the
supervisor and the zygote with the rig, a host-process target with the rig.

A board loses power when its USB hub is unplugged; a virtual board's MCU whose
supervisor was SIGKILLed would otherwise live on as an orphan, still talking
LwM2M to whatever server comes next on that port, and a `rig run` killed by a CI
job's hard timeout would leave its supervisor and zygote running. Linux's
PR_SET_PDEATHSIG does this in the kernel, without a watcher thread.

Call it in the child (a Popen preexec_fn, or right after fork). The signal is
sent when the *thread* that started the child exits, so start children from a
thread that lives as long as they should (the event loop's thread, the main
thread), not from a short-lived worker.
"""

from __future__ import annotations

import ctypes
import os
import signal
from typing import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """prctl, resolved once at import: a forked child must not load libraries (another thread may hold a lock)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: nothing the kernel can do for us
        return None


_PRCTL = _load_prctl()


def die_with_parent(expected_parent: int, sig: int = signal.SIGKILL) -> None:
    """Get `sig` when the parent exits (SIGTERM lets a supervisor stop its own children and clean up);
    exit now if the parent is already gone."""
    if _PRCTL is None:
        return
    _PRCTL(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)


def dies_with_this_process(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A Popen preexec_fn: the child gets `sig` when this process (the thread calling Popen) ends."""
    parent = os.getpid()
    return lambda: die_with_parent(parent, sig)
