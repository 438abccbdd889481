"""Let aiocoap free a cancelled observation at once, instead of at a next notification that never comes.

aiocoap 0.4 stops an observation's request (its token entry, pipe, runner and
the messages they hold) only when a notification arrives after the cancel
(chrysn/aiocoap#92). After a power cut the device never sends one, so every cut
case of a night kept its observations alive until the run ended: about 20 KB a
case, most of what a long run's memory grew by. A single resource (Object 5's
State, Update Result) notifies a value that fits one datagram, so the rig
observes it with a plain request (no blockwise wrapper: the rig holds the very
request aiocoap keeps) and ends its interest the way aiocoap itself does when
that next notification comes. Everything aiocoap-internal is here, guarded:
without the attribute (an aiocoap whose internals moved) nothing is released
and the old behaviour stays; tests/test_server_dm.py fails when that happens.
"""

from __future__ import annotations

from typing import Any


def single_resource(segments: tuple) -> bool:
    """/O/I/R (or deeper): observed with a plain request whose interest `release` can end."""
    return len(segments) >= 3


def release(request: Any) -> bool:
    """End aiocoap's interest in a cancelled observation's request now; False when it cannot be done here."""
    stop = getattr(request, "_stop_interest", None)  # aiocoap.protocol.Request (0.4.x), not BlockwiseRequest
    if not callable(stop):
        return False
    stop()
    return True
