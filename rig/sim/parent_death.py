"""An MCU process must die with the board: if its parent goes (the supervisor or zygote killed), so does it.

A board loses power when its USB hub is unplugged; a virtual board's MCU whose
supervisor was SIGKILLed would otherwise live on as an orphan, still talking LwM2M
to whatever server comes next on that port. Linux's PR_SET_PDEATHSIG does this in
the kernel, without a watcher thread.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int) -> None:
    """SIGKILL this process when its parent exits; exit now if the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing the kernel can do for us
        return
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)
