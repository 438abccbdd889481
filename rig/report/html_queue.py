"""Queue mode in the timeline picture: when the device could be reached, and what waited for it.

A sleeping device (LwM2M queue mode) makes a case slow in ways the State line does
not explain; the picture shows the server's awake windows as a band along the
registration row and every held request as a line from when it was asked for to
when it went out (a cross where it never did: its registration ended first).
"""

from __future__ import annotations

from html import escape
from typing import Callable

from rig.timeline import Event

AWAKE_FILL = "#d7ecd9"
HELD_LINE = "#ef6c00"


def queue_marks(events: list[Event], x: Callable[[float], float], y: float, end: float, t0: float) -> list[str]:
    """SVG elements for the awake windows (a band at `y`) and the held requests (lines just below it)."""
    out = [_band(x(a), x(b), y, a - t0, b - t0) for a, b in _awake_windows(events, end)]
    held: dict[tuple, Event] = {}
    for event in events:
        d = event.data
        key = (d.get("endpoint"), d.get("op"), d.get("path"))
        if event.kind == "request-held":
            held.setdefault(key, event)
        elif event.kind in ("request-sent", "request-expired") and key in held:
            start = held.pop(key)
            sent = event.kind == "request-sent"
            words = (f"{d.get('op')} {d.get('path')}: held {start.t - t0:.3f} s .. "
                     f"{'sent' if sent else 'dropped (registration ended)'} {event.t - t0:.3f} s")
            x0, x1 = x(start.t), x(event.t)
            out.append(f'<line x1="{x0}" y1="{y + 7}" x2="{x1}" y2="{y + 7}" stroke="{HELD_LINE}" stroke-width="2">'
                       f"<title>{escape(words)}</title></line>")
            out.append(f'<circle cx="{x1}" cy="{y + 7}" r="2.5" fill="{HELD_LINE if sent else "#fff"}" '
                       f'stroke="{HELD_LINE}"/>')
    return out


def legend() -> list[tuple[str, str]]:
    return [(AWAKE_FILL, "queue mode: device awake"), (HELD_LINE, "request held until the device woke")]


def _awake_windows(events: list[Event], end: float) -> list[tuple[float, float]]:
    """(from, to) of each awake window; one already open when the events begin starts with them."""
    windows: list[tuple[float, float]] = []
    since = None
    for event in events:
        if event.kind == "awake" and since is None:
            since = event.t
        elif event.kind == "asleep":
            if since is None and not windows:
                since = events[0].t  # awake since before this slice of the timeline
            if since is not None:
                windows.append((since, event.t))
            since = None
    if since is not None:
        windows.append((since, end))
    return windows


def _band(x0: float, x1: float, y: float, a: float, b: float) -> str:
    return (f'<rect x="{x0}" y="{y - 9}" width="{max(x1 - x0, 1)}" height="12" fill="{AWAKE_FILL}">'
            f"<title>awake {a:.3f} s .. {b:.3f} s</title></rect>")
