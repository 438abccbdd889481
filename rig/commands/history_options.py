"""--history PATH and --no-history, shared by `rig run`, `rig narrow` and `rig history`.

Without either, runs append to $RIG_HISTORY, else $XDG_DATA_HOME/rig/history.sqlite
(~/.local/share/rig/history.sqlite), so every nightly run of a user on a Pi lands
in one file without being told.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rig.history.paths import history_path


def add_history_options(parser: argparse.ArgumentParser, writes: bool = True) -> None:
    group = parser.add_argument_group("history", "the history of nights (`rig history` reads it)")
    group.add_argument("--history", type=Path, metavar="PATH", default=None,
                       help="the history file (default $RIG_HISTORY, else ~/.local/share/rig/history.sqlite)")
    if writes:
        group.add_argument("--no-history", action="store_true", help="do not record this run in the history")


def history_choice(args: argparse.Namespace, source: str = "run", resume: dict[str, Any] | None = None):
    """The run's HistoryChoice from the options (the path None with --no-history)."""
    from rig.run.history import HistoryChoice  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    path = history_path(args.history, getattr(args, "no_history", False))
    return HistoryChoice(path, source, resume if isinstance(resume, dict) else None)
