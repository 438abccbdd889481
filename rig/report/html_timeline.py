"""The timeline picture of one case: State over time, blocks, registrations, the cut and the power-on.

A person reading a failing cell wants to see in one glance where the power went
relative to the download and the swap, and what the device said afterwards; the
picture is inline SVG so report.html stays one file that opens anywhere.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from rig.report import html_style as style
from rig.report.html_queue import legend as queue_legend, queue_marks
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import STATE_NAMES
from rig.timeline import Event

STATE_LABELS = {state: f"{state} {name.lower()}" for state, name in STATE_NAMES.items()}  # "0 idle" ...

WIDTH, LEFT, RIGHT = 980, 112, 16
REG_Y, STATE_TOP, STATE_BOTTOM, BLOCK_Y, AXIS_Y, HEIGHT = 16, 34, 142, 160, 182, 204


@dataclass
class CaseEvents:
    """A case's timeline as read from disk; `problem` says why it could not be read (then `events` is empty)."""

    events: list[Event] = field(default_factory=list)
    problem: str | None = None


def load_case_events(report_dir: Path, relative: object) -> CaseEvents:
    """Read cases/NAME/timeline.jsonl; a missing or broken file is reported, never raised.

    A run killed mid-write leaves a torn last line: the lines before it are still kept.
    """
    if not relative or not isinstance(relative, str):
        return CaseEvents(problem="no timeline file recorded for this case")
    path = report_dir / relative
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return CaseEvents(problem=f"{relative}: {exc.strerror or exc}")
    events, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            data = raw.get("data") or {}
            events.append(Event(float(raw["t"]), str(raw["kind"]), data if isinstance(data, dict) else {}))
        except (ValueError, TypeError, KeyError, AttributeError):
            bad += 1
    if not events:
        return CaseEvents(problem=f"{relative}: no readable events" + (f" ({bad} broken lines)" if bad else ""))
    events.sort(key=lambda e: e.t)
    return CaseEvents(events, f"{bad} broken lines skipped" if bad else None)


def cut_time(events: list[Event]) -> float | None:
    """When the power was cut: the `cut` event, else the first power-off after the case started."""
    for event in events:
        if event.kind == "cut":
            return event.t
    return None


def _state_samples(events: list[Event], key: str) -> list[tuple[float, int]]:
    """(t, value) of each report of the resource `key` (lwm2m.STATE, lwm2m.RESULT) that carries a number."""
    samples = []
    for event in events:
        value = lwm2m.reported(event).get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            samples.append((event.t, value))
    return samples


def _power(events: list[Event], action: str) -> list[float]:
    return [e.t for e in events if e.kind == "power" and e.data.get("action") == action]


def _nice_step(span: float) -> float:
    raw = span / 10
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 5, 10):
        if raw <= mult * magnitude:
            return mult * magnitude
    return 10 * magnitude


class _Scale:
    def __init__(self, t0: float, t1: float) -> None:
        self.t0, self.span = t0, max(t1 - t0, 1e-3)

    def x(self, t: float) -> float:
        return round(LEFT + (t - self.t0) / self.span * (WIDTH - LEFT - RIGHT), 1)


def _state_y(state: int) -> float:
    level = min(max(state, 0), 3)
    return round(STATE_BOTTOM - level * (STATE_BOTTOM - STATE_TOP) / 3, 1)


def _state_path(samples: list[tuple[float, int]], offs: list[float], scale: _Scale, end: float) -> str:
    """A step line; it breaks while the power is off (the device has no State then)."""
    points = sorted([(t, "s", v) for t, v in samples] + [(t, "off", 0) for t in offs])
    parts, current = [], None
    for t, what, value in points:
        if what == "off":
            if current is not None:
                parts.append(f"H{scale.x(t)}")
            current = None
        elif current is None:
            parts.append(f"M{scale.x(t)} {_state_y(value)}")
            current = value
        elif value != current:
            parts.append(f"H{scale.x(t)} V{_state_y(value)}")
            current = value
    if current is not None:
        parts.append(f"H{scale.x(end)}")
    return " ".join(parts)


def _off_periods(offs: list[float], ons: list[float], end: float) -> list[tuple[float, float]]:
    periods = []
    for off in offs:
        on = next((t for t in ons if t >= off), end)
        periods.append((off, on))
    return periods


def _text(x: float, y: float, text: str, anchor: str = "start", colour: str = "#333", size: int = 11) -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" fill="{colour}" text-anchor="{anchor}">'
            f"{escape(text)}</text>")


def timeline_svg(events: list[Event]) -> str:
    """The picture for one case's events (already sorted by time)."""
    t0, t1 = events[0].t, events[-1].t
    scale = _Scale(t0, t1)
    offs, ons = _power(events, "off"), _power(events, "on")
    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    for off, on in _off_periods(offs, ons, t1):
        out.append(f'<rect x="{scale.x(off)}" y="{REG_Y - 8}" width="{max(scale.x(on) - scale.x(off), 1)}" '
                   f'height="{BLOCK_Y + 8 - REG_Y}" fill="{style.POWER_OFF_FILL}"><title>power off '
                   f'{off - t0:.3f} s .. {on - t0:.3f} s</title></rect>')
    for state, label in STATE_LABELS.items():
        y = _state_y(state)
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#ececec"/>')
        out.append(_text(LEFT - 6, y + 4, label, "end"))
    out.extend(queue_marks(events, scale.x, REG_Y, t1, t0))  # queue mode: awake windows, held requests
    out.append(_text(LEFT - 6, REG_Y + 4, "register", "end"))
    out.append(_text(LEFT - 6, BLOCK_Y + 4, "blocks", "end"))
    out.extend(_axis(scale, t1))
    out.append(_blocks(events, scale))
    path = _state_path(_state_samples(events, lwm2m.STATE), offs, scale, t1)
    if path:
        out.append(f'<path d="{path}" fill="none" stroke="{style.STATE_LINE}" stroke-width="2.5"/>')
    out.extend(_results(events, scale))
    out.extend(_registers(events, scale, t0))
    out.extend(_power_marks(events, scale, t0))
    out.append("</svg>")
    return "\n".join(out)


def _axis(scale: _Scale, t1: float) -> list[str]:
    step = _nice_step(t1 - scale.t0)
    out = [f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" stroke="#999"/>']
    k = 0
    while k * step <= (t1 - scale.t0) + 1e-9:
        x = scale.x(scale.t0 + k * step)
        out.append(f'<line x1="{x}" y1="{AXIS_Y}" x2="{x}" y2="{AXIS_Y + 4}" stroke="#999"/>')
        out.append(_text(x, AXIS_Y + 16, f"{k * step:g} s", "middle", "#555", 10))
        k += 1
    return out


def _blocks(events: list[Event], scale: _Scale) -> str:
    """All block ticks as one path: a 2000-block download must not mean 2000 SVG elements."""
    ticks, dropped = [], []
    for event in events:
        if event.kind in ("block1", "block2"):
            ticks.append(f"M{scale.x(event.t)} {BLOCK_Y - 6}v12")
        elif event.kind in ("block1-dropped", "block2-dropped"):
            dropped.append(f"M{scale.x(event.t)} {BLOCK_Y - 8}v16")
    out = ""
    if ticks:
        out += (f'<path d="{" ".join(ticks)}" stroke="{style.BLOCK_TICK}" stroke-width="1">'
                f"<title>{len(ticks)} blocks served</title></path>")
    if dropped:
        out += (f'<path d="{" ".join(dropped)}" stroke="{style.CUT_LINE}" stroke-width="1.5">'
                f"<title>{len(dropped)} blocks held back (cut or network fault)</title></path>")
    return out


def _results(events: list[Event], scale: _Scale) -> list[str]:
    """Update Result changes, written next to the State line where they happen."""
    out, last = [], None
    for t, value in _state_samples(events, lwm2m.RESULT):
        if value != last:
            x = scale.x(t)
            out.append(f'<circle cx="{x}" cy="{STATE_TOP - 8}" r="2.5" fill="{style.RESULT_TEXT}"/>')
            out.append(_text(x + 4, STATE_TOP - 4, f"R{value}", colour=style.RESULT_TEXT, size=10))
            last = value
    return out


def _registers(events: list[Event], scale: _Scale, t0: float) -> list[str]:
    out = []
    for event in events:
        if event.kind == "register":
            x = scale.x(event.t)
            endpoint = event.data.get("endpoint", "")
            out.append(f'<path d="M{x - 5} {REG_Y - 6}L{x + 5} {REG_Y - 6}L{x} {REG_Y + 3}Z" '
                       f'fill="{style.REGISTER_MARK}"><title>register {escape(str(endpoint))} at '
                       f"{event.t - t0:.3f} s</title></path>")
    return out


def _power_marks(events: list[Event], scale: _Scale, t0: float) -> list[str]:
    """The cut (red) and each power-on after it (green, dashed), across the whole picture."""
    out = []
    cut = cut_time(events)
    for event in events:
        if event.kind == "cut":
            x = scale.x(event.t)
            why = f"cut ({event.data.get('why', '')}, phase {event.data.get('phase', '?')}) at {event.t - t0:.3f} s"
            out.append(f'<line x1="{x}" y1="{REG_Y - 10}" x2="{x}" y2="{BLOCK_Y + 10}" stroke="{style.CUT_LINE}" '
                       f'stroke-width="2.5"><title>{escape(why)}</title></line>')
            out.append(_text(x + 3, BLOCK_Y + 20, "cut", colour=style.CUT_LINE, size=11))
    if cut is not None:
        for t in _power(events, "on"):
            if t > cut:
                x = scale.x(t)
                out.append(f'<line x1="{x}" y1="{REG_Y - 10}" x2="{x}" y2="{BLOCK_Y + 10}" '
                           f'stroke="{style.POWER_ON_LINE}" stroke-width="2" stroke-dasharray="5 3">'
                           f"<title>power on at {t - t0:.3f} s</title></line>")
                out.append(_text(x + 3, BLOCK_Y + 20, "power on", colour=style.POWER_ON_LINE, size=11))
                break
    return out


def legend_html() -> str:
    items = [(style.STATE_LINE, "State (/5/0/3)"), (style.BLOCK_TICK, "block served"),
             (style.CUT_LINE, "power cut / held block"), (style.POWER_ON_LINE, "power on"),
             (style.POWER_OFF_FILL, "power off"), (style.REGISTER_MARK, "registration"),
             (style.RESULT_TEXT, "Rn: Update Result (/5/0/5) changes"), *queue_legend()]
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{c}"></i>{escape(label)}</span>' for c, label in items) + "</div>"
