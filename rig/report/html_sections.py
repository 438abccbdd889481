"""Keep each case's rendered section of report.html, so a refresh of the page costs a join, not a re-render.

Drawing a case (its timeline picture, the console around the cut, the decoded
flash) reads its files; a page of a thousand cases drawn afresh after every case
makes a night slower the longer it runs. A running campaign holds one PageCache:
a case is drawn once, kept in a hidden file beside its logs
(cases/NAME/.section.html), and used again while nothing it shows has changed.
`rig report DIR` draws everything afresh (no cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rig.report.html_history import PastOutcomes

SECTION_FILE = ".section.html"


class PageCache:
    def __init__(self) -> None:
        self._sections: dict[str, tuple[tuple, Path]] = {}
        self._past: PastOutcomes | None = None

    def past(self, run: dict[str, Any]) -> PastOutcomes:
        if self._past is None:
            self._past = PastOutcomes(run)
        return self._past

    def section(self, report_dir: Path, key: tuple, name: str, draw: Callable[[], str]) -> str:
        """The section of case `name` whose inputs are `key`: from its file when drawn with the same inputs."""
        kept = self._sections.get(name)
        if kept is not None and kept[0] == key:
            try:
                return kept[1].read_text(encoding="utf-8")
            except OSError:
                pass
        html = draw()
        case_dir = report_dir / "cases" / name
        if case_dir.is_dir() and "/" not in name and name not in (".", ".."):
            path = case_dir / SECTION_FILE
            try:
                path.write_text(html, encoding="utf-8")
                self._sections[name] = (key, path)
            except OSError:
                self._sections.pop(name, None)
        return html
