"""The virtual device's own CoAP timers, from its target file's [coap] transmission parameters (RFC 7252 4.8).

A client gives up on a server that stopped answering after its EXCHANGE_LIFETIME
at the latest; the virtual board honours the parameters its target file declares
(short ones, so CI does not wait the default 247 s). Computed here, not taken
from the rig: the device must not share arithmetic with the checker that waits for it.
"""

from __future__ import annotations

from typing import Any

RFC_DEFAULTS = {"ack_timeout": 2.0, "ack_random_factor": 1.5, "max_retransmit": 4, "max_latency": 100.0}


def max_transmit_wait(target: dict[str, Any]) -> float:
    """ACK_TIMEOUT * (2 ** (MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR: how long a queue-mode client stays awake
    after its last message by default (LwM2M Transport, Queue Mode)."""
    table = {**RFC_DEFAULTS, **(target.get("coap") or {})}
    return float(table["ack_timeout"]) * (2 ** (int(table["max_retransmit"]) + 1) - 1) * float(table["ack_random_factor"])


def exchange_lifetime(target: dict[str, Any]) -> float:
    """MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY of the target's [coap] table."""
    table = {**RFC_DEFAULTS, **(target.get("coap") or {})}
    ack = float(table["ack_timeout"])
    span = ack * (2 ** int(table["max_retransmit"]) - 1) * float(table["ack_random_factor"])
    return span + 2 * float(table["max_latency"]) + float(table.get("processing_delay", ack))
