"""What every console shares: line splitting, timestamps into the timeline, the per-test log file, and expect.

Backends only move bytes (a reader thread calls `_feed`, or `_fail` when the
port is gone). Everything a verdict or a failure message needs is here, so a
serial port, a TCP socket and a process's stdout all produce the same "console"
events and the same errors.

A log is bounded: after `log_cap` bytes (per log file, so per case; the target's
console.log_cap) the log gets one note and further lines are counted in `dropped`
instead of written to it or to the timeline. A client that prints without end
then costs the rig CPU, never its memory or disk, and the run still finishes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from rig.errors import RigError
from rig.timeline import Timeline

QUOTED_LINES = 8
DEFAULT_LOG_CAP = 32 * 1024 * 1024  # bytes of console per case: far above any boot log, far below trouble


class ConsoleError(RigError):
    """The console could not be opened, or is gone."""


class ConsoleTimeout(ConsoleError):
    """`expect` saw no matching line in time; the message quotes the last lines and names the log file."""


class ConsoleClosed(ConsoleError):
    """The port vanished (adapter unplugged, socket closed): waiting longer cannot help."""


@dataclass(frozen=True)
class Line:
    t: float
    text: str
    stream: str = ""


@runtime_checkable
class Console(Protocol):
    """What the place and the campaign need from a console; what it is and how it ended are plain attributes."""

    backend: str
    describe: str  # names the console in errors and banners, e.g. "socket://127.0.0.1:4000"
    log_path: Path | None
    log_cap: int
    dropped: int  # lines past log_cap since the current log began (0 on a console that never overflowed)

    @property
    def error(self) -> str | None: ...

    @property
    def closed(self) -> bool: ...

    def lines(self) -> list[Line]: ...

    def expect(self, pattern: str | re.Pattern[str], timeout: float,
               not_matching: str | re.Pattern[str] | None = None) -> re.Match[str]: ...

    def write(self, data: bytes | str) -> None: ...

    def new_log(self, path: Path) -> None: ...

    def close(self) -> None: ...


class ConsoleBase:
    """Line bookkeeping for one console; `describe` names it in errors (e.g. "socket://127.0.0.1:4000")."""

    backend = "base"
    follows_power = False  # True: it reads the power backend's own process (built with power=, a host process)
    reads_through_probe = False  # True: it reads through the debug probe (RTT), sharing the probe's session

    def __init__(
        self,
        *,
        describe: str,
        name: str = "",
        timeline: Timeline | None = None,
        log_path: Path | None = None,
        keep: int = 5000,
        encoding: str = "utf-8",
    ) -> None:
        self.describe = describe
        self.name = name
        self.timeline = timeline
        self.encoding = encoding
        self._cond = threading.Condition()
        self._lines: deque[Line] = deque(maxlen=keep)
        self._count = 0  # lines ever seen; index of _lines[0] is _count - len(_lines)
        self._cursor = 0  # expect() looks at lines from here on
        self._partial: dict[str, bytes] = {}
        self._error: str | None = None
        self._closed = False
        self._log: IO[str] | None = None
        self.log_path: Path | None = None
        self.log_cap = DEFAULT_LOG_CAP
        self._logged = 0  # bytes of lines kept since the current log began
        self.dropped = 0  # lines past the cap since the current log began
        if log_path is not None:
            self.new_log(log_path)

    # --- for backends ---------------------------------------------------
    def _feed(self, data: bytes, stream: str = "") -> None:
        buf = self._partial.get(stream, b"") + data
        *complete, rest = re.split(rb"\r\n|\n|\r", buf)
        self._partial[stream] = rest
        for raw in complete:
            self._emit(raw.decode(self.encoding, errors="replace"), stream)

    def _flush_partial(self, stream: str = "") -> None:
        rest = self._partial.pop(stream, b"")
        if rest:
            self._emit(rest.decode(self.encoding, errors="replace"), stream)

    def _over_cap(self, size: int) -> bool:
        """Count a line against the cap (under the lock); True when it must not be kept (after the note)."""
        if self._logged + size <= self.log_cap:
            self._logged += size
            return False
        if not self.dropped and self._log is not None:
            self._log.write(f"--- console log cap of {self.log_cap} bytes reached: further lines are dropped "
                            "(the count is in the report)\n")
            self._log.flush()
        self.dropped += 1
        return True

    def _emit(self, text: str, stream: str) -> None:
        with self._cond:
            capped = self._over_cap(len(text) + len(stream) + 20)  # + the timestamp and stream tag of a log line
            first_drop = capped and self.dropped == 1
        if first_drop and self.timeline is not None:
            self.timeline.append("console-capped", place=self.name, cap=self.log_cap)
        if self.timeline is not None and not capped:
            data = {"place": self.name, "line": text}
            if stream:
                data["stream"] = stream
            t = self.timeline.append("console", **data).t
        else:
            t = time.monotonic()
        line = Line(t, text, stream)
        with self._cond:
            self._lines.append(line)  # kept for expect() either way: the deque is bounded
            self._count += 1
            if self._log is not None and not capped:
                self._log.write(f"{t:.6f} {'[' + stream + '] ' if stream else ''}{text}\n")
                self._log.flush()  # a killed run must still leave its log
            self._cond.notify_all()

    def _fail(self, reason: str) -> None:
        with self._cond:
            if self._error is None and not self._closed:
                self._error = reason
                if self._log is not None:
                    self._log.write(f"--- console closed: {reason}\n")
                    self._log.flush()
            self._cond.notify_all()

    # --- public API -----------------------------------------------------
    def lines(self) -> list[Line]:
        with self._cond:
            return list(self._lines)

    @property
    def error(self) -> str | None:
        """Why the port is gone, or None while it is alive."""
        return self._error

    @property
    def closed(self) -> bool:
        """True once close() was called: an expect that ended then was the rig's own doing."""
        return self._closed

    def new_log(self, path: Path) -> None:
        """Start a new log file (one per test case); the previous one is closed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._cond:
            if self._log is not None:
                self._log.close()
            self._log = path.open("a", encoding="utf-8")
            self.log_path = path
            self._logged, self.dropped = 0, 0

    def mark(self) -> None:
        """Make the next `expect` look only at lines that arrive from now on."""
        with self._cond:
            self._cursor = self._count

    def expect(
        self,
        pattern: str | re.Pattern[str],
        timeout: float,
        not_matching: str | re.Pattern[str] | None = None,
    ) -> re.Match[str]:
        """Wait for a line (after the previous match) that matches `pattern`; a `not_matching` line first is an error."""
        want = re.compile(pattern)
        bad = re.compile(not_matching) if not_matching is not None else None
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                first = self._count - len(self._lines)
                for index in range(max(self._cursor, first), self._count):
                    text = self._lines[index - first].text
                    self._cursor = index + 1
                    if bad is not None and bad.search(text):
                        raise ConsoleError(
                            f"{self._who()}: line {text!r} matches /{bad.pattern}/ while waiting for /{want.pattern}/"
                            f"{self._context()}"
                        )
                    found = want.search(text)
                    if found:
                        return found
                if self._error is not None:
                    raise ConsoleClosed(
                        f"{self._who()} is gone ({self._error}) while waiting for /{want.pattern}/{self._context()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConsoleTimeout(
                        f"{self._who()}: no line matching /{want.pattern}/ within {timeout:g} s{self._context()}"
                    )
                self._cond.wait(remaining)

    def write(self, data: bytes | str) -> None:
        raise ConsoleError(f"{self._who()} cannot be written to")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for stream in list(self._partial):
                rest = self._partial.pop(stream)
                if rest and self._log is not None:
                    self._log.write(f"{time.monotonic():.6f} {rest.decode(self.encoding, errors='replace')}\n")
            if self._log is not None:
                self._log.close()
                self._log = None
            self._cond.notify_all()

    def __enter__(self) -> "ConsoleBase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- messages -------------------------------------------------------
    def _who(self) -> str:
        return f"console {self.describe}" + (f" of place {self.name}" if self.name else "")

    def _context(self) -> str:
        last = [line.text for line in list(self._lines)[-QUOTED_LINES:]]
        quoted = "; last lines: " + " | ".join(repr(t) for t in last) if last else "; no lines received"
        where = f" (log: {self.log_path})" if self.log_path is not None else ""
        return quoted + where
