"""The history file: where it is, its schema and migrations, writers at once, and what `rig history` reads from it.

No board: runs and cases are written through the same RunHistory a `rig run`
uses, into a real SQLite file, and read back with the queries and with sqlite3.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from rig.history import store
from rig.history.changes import place_history
from rig.history.errors import HistoryError
from rig.history.paths import default_history_path, history_path
from rig.history.plans import plan_identity
from rig.history.schema import VERSION, migrate
from rig.history.writer import ImageRecord, RunHistory, RunInfo
from rig.results import CaseResult, Violation

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_the_default_file_is_rig_history_else_the_xdg_data_dir_else_local_share():
    assert default_history_path({"RIG_HISTORY": "/x/h.sqlite", "HOME": "/h"}) == Path("/x/h.sqlite")
    assert default_history_path({"XDG_DATA_HOME": "/d", "HOME": "/h"}) == Path("/d/rig/history.sqlite")
    assert default_history_path({"HOME": "/h"}) == Path("/h/.local/share/rig/history.sqlite")
    assert history_path(Path("given.sqlite")) == Path("given.sqlite")
    assert history_path(None, disabled=True) is None


@pytest.mark.parametrize("name, plan, key", [
    ("swap-op-00040", {"cut": {"kind": "flash-op", "flash_op": 40, "torn": False}}, "flash-op@40"),
    ("narrow-op-00040", {"cut": {"kind": "flash-op", "flash_op": 40, "torn": False}}, "flash-op@40"),
    ("swap-op-00040-torn", {"cut": {"kind": "flash-op", "flash_op": 40, "torn": True}}, "flash-op@40/torn"),
    ("download-block-00012", {"cut": {"kind": "block", "block": 12}}, "block@12"),
    ("swap-12.500pct", {"cut": {"kind": "after-execute", "delay_ms": 40.1}}, "after-execute@12.5000pct"),
    ("t", {"cut": {"kind": "after-execute", "delay_ms": 40.1}}, "after-execute@40.1ms"),
    ("nested-op-00040-then-00060", {"cut": {"kind": "flash-op", "flash_op": 40}, "then": {"kind": "flash-op",
                                    "flash_op": 60}}, "flash-op@40+then:flash-op@60"),
    ("download-block-00003", {"cut": {"kind": "block", "block": 3}, "network": [{"kind": "drop-block", "block": 2}]},
     "block@3+net:drop-block@2"),
    ("conf-751-read", {"conformance": "751"}, "conformance:751:conf-751-read"),
    ("baseline-no-cut", {"cut": None}, "none:baseline-no-cut"),
])
def test_a_case_is_known_across_nights_by_its_plan_kind_and_position(name, plan, key):
    assert plan_identity(name, plan).key == key


def _v1_file(path: Path) -> None:
    """A history as version 1 left it: rules in a JSON column, image versions only in the params."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=1)
    conn.execute("INSERT INTO runs (id, started, place, target, source, params) VALUES (1, '2025-01-01T02:00', "
                 "'bench-1', 'k64f', 'run', ?)", (json.dumps({"images": {"base": "1.0.0", "new": "1.1.0"}}),))
    conn.execute("INSERT INTO cases (run_id, name, plan_key, plan_kind, outcome, rules, recorded) VALUES "
                 "(1, 'swap-op-00040', 'flash-op@40', 'flash-op', 'fail', '[\"bricked-after-cut\", \"oracle\"]', 'x')")
    conn.close()


def test_an_older_file_is_migrated_in_place_with_its_rows_moved_into_the_new_tables(tmp_path):
    path = tmp_path / "h.sqlite"
    _v1_file(path)
    with store.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rules = [r[0] for r in conn.execute("SELECT rule FROM case_rules ORDER BY rule")]
        images = {r["role"]: r["version"] for r in conn.execute("SELECT role, version FROM images WHERE run_id = 1")}
        narrow = conn.execute("SELECT narrow_of FROM cases").fetchone()[0]
    assert rules == ["bricked-after-cut", "oracle"] and images == {"base": "1.0.0", "new": "1.1.0"} and narrow is None
    run = RunHistory.begin(path, RunInfo("bench-1", "k64f", "standard", "run", str(tmp_path), {}))
    run.case(CaseResult("swap-op-00040", "pass", plan={"cut": {"kind": "flash-op", "flash_op": 40}}))
    history = store.read(path, lambda conn: place_history(conn, "bench-1", "k64f"))
    assert [c.name for c in history.fixed] == ["swap-op-00040"]  # the migrated case is the earlier run of that plan


def test_a_file_written_by_a_newer_rig_is_refused_in_one_line(tmp_path):
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(HistoryError, match="version 99 was written by a newer rig"):
        RunHistory.begin(path, RunInfo("p", "t", "standard", "run", ".", {}))
    with pytest.raises(HistoryError, match="no history there"):
        store.read(tmp_path / "none.sqlite", lambda conn: None)


def _writer(path: str, place: str, cases: int) -> None:
    run = RunHistory.begin(Path(path), RunInfo(place, "virtual", "power-cut", "run", ".", {}))
    for i in range(cases):
        run.case(CaseResult(f"case-{i:04d}", "pass", plan={"cut": {"kind": "block", "block": i}}))
    run.end(True, None)


def test_writers_in_several_processes_at_once_lose_no_row(tmp_path):
    path = tmp_path / "h.sqlite"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), f"place-{n}", 150)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with store.connect(path) as conn:
        counts = dict(conn.execute("SELECT r.place, COUNT(*) FROM cases c JOIN runs r ON r.id = c.run_id "
                                   "GROUP BY r.place").fetchall())
        complete = conn.execute("SELECT COUNT(*) FROM runs WHERE complete = 1").fetchone()[0]
    assert counts == {f"place-{n}": 150 for n in range(4)} and complete == 4


IMAGES = (ImageRecord("base", "1.0.0", "aa" * 32), ImageRecord("new", "1.1.0", "bb" * 32))
OTHER = (ImageRecord("base", "1.0.0", "aa" * 32), ImageRecord("new", "1.2.0", "cc" * 32))
NEWER = (ImageRecord("base", "1.0.0", "aa" * 32), ImageRecord("new", "1.3.0", "dd" * 32))


def _night(path: Path, outcomes: dict[str, tuple[str, str | None]], images=IMAGES, source: str = "run") -> int:
    run = RunHistory.begin(path, RunInfo("bench-1", "k64f", "power-cut", source, ".", {}, images))
    for name, (outcome, rule) in outcomes.items():
        op = int(name.rsplit("-", 1)[1])
        run.case(CaseResult(name, outcome, phase="updating", plan={"cut": {"kind": "flash-op", "flash_op": op}},
                            violations=[Violation(rule, "d")] if rule else []))
    run.end(True, None)
    return run.run_id


def test_new_fixed_flaky_and_since_when_each_rule_fails(tmp_path):
    path = tmp_path / "h.sqlite"
    one = _night(path, {"op-10": ("pass", None), "op-20": ("fail", "oracle"), "op-30": ("pass", None)})
    two = _night(path, {"op-10": ("pass", None), "op-20": ("fail", "oracle"), "op-30": ("pass", None)}, OTHER)
    _night(path, {"op-30": ("fail", "bricked-after-cut")}, OTHER, source="replay")  # a replay: not a night
    three = _night(path, {"op-10": ("fail", "bricked-after-cut"), "op-20": ("pass", None),
                          "op-30": ("pass", None), "op-40": ("fail", "oracle")}, NEWER)
    h = store.read(path, lambda conn: place_history(conn, "bench-1", "k64f", last=10))
    assert h.latest.id == three and [r.id for r in h.runs][-1] == three and len(h.runs) == 4
    assert {c.name: (c.before or {}).get("run") for c in h.new} == {"op-10": two, "op-40": None}
    assert [(c.name, c.before["outcome"]) for c in h.fixed] == [("op-20", "fail")]
    # op-30 with the same images: passed in night two, failed in its replay (op-10 changed with new images: no)
    assert [(f.names, f.outcomes, f.images) for f in h.flaky] == [(["op-30"], {"pass": 1, "fail": 1}, "1.0.0 -> 1.2.0")]
    rules = {r.rule: r for r in h.rules}
    assert rules["bricked-after-cut"].first_run["run"] == three
    assert rules["bricked-after-cut"].last_clean["run"] == two
    assert rules["oracle"].cases == ["op-40"] and rules["oracle"].last_clean is None
    assert h.runs[0].id == one and h.runs[0].by_phase == {"updating": {"pass": 2, "fail": 1}}
    assert json.loads(json.dumps(h.to_dict(), default=str))["new"][0]["rules"] == ["bricked-after-cut"]


def test_a_streak_of_failing_nights_starts_at_the_first_of_them(tmp_path):
    path = tmp_path / "h.sqlite"
    _night(path, {"op-10": ("pass", None)})
    first = _night(path, {"op-10": ("fail", "oracle")}, OTHER)
    _night(path, {"op-10": ("fail", "oracle")}, OTHER)
    _night(path, {"op-10": ("fail", "oracle")}, OTHER)
    rule = store.read(path, lambda conn: place_history(conn, "bench-1", "k64f")).rules[0]
    assert rule.first_run["run"] == first and rule.first_run["images"] == "1.0.0 -> 1.2.0" and rule.runs_failing == 3


def test_the_trend_page_draws_a_bar_per_run_overall_and_per_phase_and_lists_the_changes(tmp_path):
    from html.parser import HTMLParser

    from rig.report.html_trend import trend_page

    path = tmp_path / "h.sqlite"
    _night(path, {"op-10": ("pass", None), "op-20": ("pass", None)})
    _night(path, {"op-10": ("pass", None), "op-20": ("fail", "oracle")}, OTHER)
    page = trend_page(str(path), [store.read(path, lambda conn: place_history(conn, "bench-1", "k64f"))])

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.svgs, self.bars = 0, []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            self.svgs += tag == "svg"
            if tag == "rect":
                self.bars.append(attrs["class"])

    tags = Tags()
    tags.feed(page)
    assert tags.svgs == 2  # all cases, and the one phase reached ("updating")
    assert tags.bars == ["bar-pass", "bar-pass", "bar-fail"] * 2  # run 1: pass; run 2: pass + fail; twice
    assert "op-20 [oracle]: pass in run #1" in page and "<script" not in page
