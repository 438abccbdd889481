"""CoAP transmission parameters of a target (RFC 7252 section 4.8) and the times derived from them.

A rig wait that depends on the client's CoAP timers (how long a correct client
keeps trying before it reports "connection lost", result 4) must come from the
protocol, not from what the rig's own client happens to do: EXCHANGE_LIFETIME,
247 s with the RFC's defaults. A target whose client is configured otherwise
declares its parameters in the target file, and the virtual board declares
short ones so CI does not sit through four minutes:

    [coap]
    ack_timeout = 2.0          # s
    ack_random_factor = 1.5
    max_retransmit = 4
    max_latency = 100.0        # s
    processing_delay = 2.0     # s (default: ack_timeout)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.errors import RigError

MARGIN = 0.25  # the rig waits this share longer than the protocol allows, at least MIN_MARGIN s
MIN_MARGIN = 5.0


@dataclass(frozen=True)
class CoapTiming:
    ack_timeout: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4
    max_latency: float = 100.0
    processing_delay: float | None = None  # None: ack_timeout, as RFC 7252 sets it

    @property
    def max_transmit_span(self) -> float:
        return self.ack_timeout * (2 ** self.max_retransmit - 1) * self.ack_random_factor

    @property
    def max_transmit_wait(self) -> float:
        return self.ack_timeout * (2 ** (self.max_retransmit + 1) - 1) * self.ack_random_factor

    @property
    def exchange_lifetime(self) -> float:
        delay = self.ack_timeout if self.processing_delay is None else self.processing_delay
        return self.max_transmit_span + 2 * self.max_latency + delay

    def with_margin(self, seconds: float) -> float:
        """`seconds` of protocol time plus the rig's margin (scheduling, a loaded machine)."""
        return seconds + max(MIN_MARGIN, seconds * MARGIN)

    @property
    def connection_lost_wait(self) -> float:
        """How long a correct client may take to give up on a server that stopped answering: the rig's wait."""
        return self.with_margin(self.exchange_lifetime)

    @classmethod
    def from_target(cls, data: dict[str, Any], source: str) -> "CoapTiming":
        """The target file's [coap] table (RFC 7252 defaults for what it leaves out); errors name file and key."""
        table = data.get("coap", {})
        if not isinstance(table, dict):
            raise RigError(f"{source}: [coap] must be a table of transmission parameters (ack_timeout, ...)")
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in FIELDS:
                raise RigError(f"{source}: coap.{key}: unknown key; known: {', '.join(FIELDS)}")
            values[key] = FIELDS[key](value, f"{source}: coap.{key}")
        if values.get("ack_random_factor", 1.5) < 1.0:
            raise RigError(f"{source}: coap.ack_random_factor: must be 1.0 or more, got {values['ack_random_factor']!r}")
        return cls(**values)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise RigError(f"{where}: must be a number of seconds > 0, got {value!r}")
    return float(value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise RigError(f"{where}: must be a whole number 0..20, got {value!r}")
    return value


def _factor(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RigError(f"{where}: must be a number >= 1.0, got {value!r}")
    return float(value)


FIELDS = {"ack_timeout": _seconds, "ack_random_factor": _factor, "max_retransmit": _count,
          "max_latency": _seconds, "processing_delay": _seconds}
