"""Keep what strangers send out of the operator's terminal and off the disk: escaped, cut short, rate-limited.

A refused registration or a failed handshake is worth a log line and a timeline
event, but its text is chosen by the peer (an identity, an endpoint name, a list
of suites) and its rate by the network. `printable` escapes control characters
(no terminal escape sequences reach `rig serve`'s output) and cuts long strings;
`EventBudget` lets through at most N events a second and counts the rest, so the
next one that gets through can say how many were left out.
"""

from __future__ import annotations

import time
from typing import Callable

from rig.lwm2m.limits import EVENTS_PER_SECOND, MAX_LOG_LINE, MAX_LOGGED_TEXT


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if code in (0x2028, 0x2029) or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:  # line separators, bidi
        return f"\\u{code:04x}"
    return ch


def printable(text: str, limit: int = MAX_LOGGED_TEXT) -> str:
    """`text` with control characters escaped, cut to `limit` characters (saying how much was cut)."""
    if len(text) > limit:
        text = text[:limit] + f"...(+{len(text) - limit} chars)"
    return "".join(_escape(ch) for ch in text)


def printable_bytes(data: bytes, limit: int = MAX_LOGGED_TEXT) -> str:
    """Peer-chosen bytes (a PSK identity) as text for a log line: UTF-8 where it decodes, escaped and cut."""
    cut = len(data) > limit
    text = printable(data[:limit].decode("utf-8", "backslashreplace"), limit * 4)
    return text + (f"...(+{len(data) - limit} bytes)" if cut else "")


def bytes_repr(data: bytes, limit: int = MAX_LOGGED_TEXT) -> str:
    """Peer-chosen bytes as a Python bytes literal (b'...': escapes every control byte), cut to `limit` bytes."""
    return repr(data[:limit]) + (f"...(+{len(data) - limit} bytes)" if len(data) > limit else "")


def clamp_line(line: str, limit: int = MAX_LOG_LINE) -> str:
    """One log line at most `limit` characters long, escaped."""
    line = printable(line, 10 * limit)
    return line if len(line) <= limit else line[: limit - 20] + f"...(+{len(line) - limit + 20} chars)"


class EventBudget:
    """At most `per_second` events a second on average, in bursts of up to `per_second` (a token bucket);
    `take()` says whether this one may be recorded and how many were refused since the last one that was."""

    def __init__(self, per_second: float = EVENTS_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_second
        self._clock = clock
        self._tokens = per_second
        self._at = clock()
        self.suppressed = 0

    def take(self) -> tuple[bool, int]:
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            self.suppressed += 1
            return False, 0
        self._tokens -= 1.0
        left_out, self.suppressed = self.suppressed, 0
        return True, left_out
