"""Give up the CoAP exchanges towards a peer that went to sleep (aiocoap's message layer, reached into).

aiocoap keeps retransmitting a Confirmable request after its requester stopped
waiting (cancelling the request does not stop the message layer), and with
NSTART = 1 (RFC 7252 4.7) every later request to that peer waits behind it. A
request to a queue-mode device that went unanswered because the device slept is
sent again, as a new request, at the device's next wake-up; the old
retransmissions must not hold it back (or reach the device at some random later
moment). So the rig abandons them: it forgets the exchange (a late ACK is then
ignored, as for any exchange past MAX_RETRANSMIT) and lets the backlog go on.

aiocoap has no public call for this; the two internals used are checked here
(`supported`), and tests/test_queue_mode_server.py fails if they move.
"""

from __future__ import annotations

import logging
from typing import Any

import aiocoap
from aiocoap.messagemanager import MessageManager

log = logging.getLogger("rig.lwm2m.exchanges")


def supported() -> bool:
    """aiocoap's message layer still has the two internals this module uses."""
    return hasattr(MessageManager, "_continue_backlog") and "_active_exchanges" in MessageManager.__init__.__code__.co_names


def abandon_exchanges(context: aiocoap.Context, remote: Any) -> int:
    """Stop retransmitting every outstanding Confirmable message to `remote`; returns how many were dropped."""
    if not supported():
        log.warning("aiocoap %s: cannot abandon exchanges (internals moved); requests may wait for old "
                    "retransmissions", getattr(aiocoap, "__version__", "?"))
        return 0
    host = str(getattr(remote, "hostinfo", remote))
    dropped = 0
    for tman in context.request_interfaces:
        mman = getattr(tman, "token_interface", None)
        exchanges = getattr(mman, "_active_exchanges", None)
        if not isinstance(mman, MessageManager) or not exchanges:
            continue
        remotes = []
        for key in [k for k in exchanges if str(getattr(k[0], "hostinfo", k[0])) == host]:
            _monitor, retransmission = exchanges.pop(key)
            retransmission.cancel()
            dropped += 1
            if key[0] not in remotes:
                remotes.append(key[0])
        for peer in remotes:
            if peer in getattr(mman, "_backlogs", {}):
                mman._continue_backlog(peer)  # what waited behind the abandoned exchange goes out now
    return dropped
