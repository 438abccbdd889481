"""Open the history file and run short transactions on it, safely with other processes writing at once.

Every place on a Pi may run its own `rig run`, all appending to one file. SQLite
in WAL mode lets readers go on while one writer writes; writers take turns. Each
write here is one `BEGIN IMMEDIATE` transaction (the write lock is taken at the
start, so two writers never deadlock half way), the busy timeout makes a writer
wait for the other instead of failing, and a busy answer that comes anyway (WAL
recovery, a checkpoint) is retried until a deadline. A connection lives for one
operation only: nothing is shared between threads or kept open between cases.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from rig.history.errors import HistoryError
from rig.history.schema import migrate

BUSY_TIMEOUT_S = 30.0  # another writer's transaction is milliseconds; 30 s means something is really stuck
RETRY_FOR_S = 60.0

T = TypeVar("T")


@contextlib.contextmanager
def connect(path: Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection to the history at `path`, migrated to the current schema; closed on exit."""
    path = Path(path)
    if not create and not path.is_file():
        raise HistoryError(f"{path}: no history there (runs write it; --history PATH names another file)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"{path}: cannot open the history: {exc}") from None
    try:
        conn.row_factory = sqlite3.Row
        _retry(path, lambda: _prepare(conn))
        yield conn
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path}: {exc}") from None
    finally:
        conn.close()


def _prepare(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")  # persistent: set once by whoever opens the file first
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a power loss may lose the last case, never the file
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn)


def write(path: Path, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in one write transaction on the history (retried while another writer holds the file)."""
    with connect(path) as conn:
        return _retry(path, lambda: _transaction(conn, work))


def read(path: Path, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on a consistent snapshot of the history (a read transaction)."""
    with connect(path, create=False) as conn:
        return _retry(path, lambda: _transaction(conn, work, "BEGIN DEFERRED"))


def _transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], begin: str = "BEGIN IMMEDIATE") -> T:
    conn.execute(begin)
    try:
        value = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return value


def _retry(path: Path, attempt: Callable[[], T]) -> T:
    deadline = time.monotonic() + RETRY_FOR_S
    delay = 0.01
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise HistoryError(f"{path}: {exc}") from None
            time.sleep(delay)  # backoff before retrying a busy file, not a synchronisation
            delay = min(delay * 2, 0.5)
