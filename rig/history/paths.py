"""Where the history lives: --history PATH, else $RIG_HISTORY, else the user's data directory.

The data directory follows the XDG base directory rule ($XDG_DATA_HOME, else
~/.local/share), so a nightly job, a bench session and the pytest plugin of one
user on one Pi all find the same file without being told.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

ENV = "RIG_HISTORY"
FILE_NAME = "history.sqlite"


def default_history_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(ENV):
        return Path(env[ENV]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(data).expanduser() / "rig" / FILE_NAME


def history_path(given: Path | None, disabled: bool = False, env: Mapping[str, str] | None = None) -> Path | None:
    """The file a run appends to: None with --no-history, the given path, or the default."""
    if disabled:
        return None
    return Path(given).expanduser() if given is not None else default_history_path(env)
