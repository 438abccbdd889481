"""report.html from a real `rig run` and from hand-made report directories, read back with html.parser."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rig.errors import RigError
from rig.report import html_style
from rig.report.html import write_html_report
from rig.report.html_console import ConsoleLine, excerpt
from rig.report.html_matrix import PHASE_ORDER, phase_group
from rig.verdict import rules
from rig_cli import rig

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

REPO = Path(__file__).resolve().parents[1]
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list["Node | str"] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (cls is None or cls in child.attrs.get("class", "").split()):
                    found.append(child)
                found.extend(child.find_all(tag, cls))
        return found


class TreeBuilder(HTMLParser):
    """A strict little DOM: an unbalanced end tag fails the test, so broken markup cannot hide."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(path: Path) -> Node:
    builder = TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def sections(doc: Node) -> dict[str, Node]:
    return {s.attrs["id"]: s for s in doc.find_all("section", "case")}


def matrix_rows(doc: Node) -> list[tuple[str, Node]]:
    table = doc.find_all("table", "matrix")[0]
    return [(body.attrs["data-phase"], row) for body in table.find_all("tbody", "phase")
            for row in body.find_all("tr", "case-row")]


@pytest.fixture(scope="module")
def real_report(tmp_path_factory) -> tuple[Path, dict, Node]:
    out = tmp_path_factory.mktemp("real") / "R"
    proc = rig("run", "power-cut", "--report-dir", str(out), "--points", "2")
    assert (out / "report.json").is_file(), proc.stdout + proc.stderr
    made = rig("report", str(out), timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(out / "report.html")
    return out, json.loads((out / "report.json").read_text()), parse(out / "report.html")


def test_real_run_matrix_has_a_row_per_result_grouped_by_phase(real_report):
    _, report, doc = real_report
    rows = matrix_rows(doc)
    results = report["results"]
    assert len(rows) == len(results) >= 3
    assert sorted(row.find_all("a")[0].text() for _, row in rows) == sorted(r["name"] for r in results)
    by_name = {r["name"]: r for r in results}
    for phase, row in rows:
        result = by_name[row.find_all("a")[0].text()]
        assert phase == phase_group(result)
        assert result["outcome"] in row.attrs["class"].split()[1]
    phases = [p for p, _ in rows]
    order = [p for p in PHASE_ORDER if p in phases] + ["no cut"]
    assert sorted(set(phases), key=order.index) == list(dict.fromkeys(phases)) and phases[-1] == "no cut"


def test_real_run_each_row_links_to_a_case_section_with_a_timeline_picture(real_report):
    _, report, doc = real_report
    found = sections(doc)
    assert len(found) == len(report["results"])
    for _, row in matrix_rows(doc):
        target = row.find_all("a")[0].attrs["href"]
        assert target.startswith("#") and target[1:] in found
        section = found[target[1:]]
        svgs = section.find_all("svg")
        assert len(svgs) == 1, target
        state_lines = [p for p in svgs[0].find_all("path") if p.attrs.get("stroke") == html_style.STATE_LINE]
        assert state_lines and state_lines[0].attrs["d"].startswith("M")
        cut_lines = [ln for ln in svgs[0].find_all("line") if ln.attrs.get("stroke") == html_style.CUT_LINE]
        on_lines = [ln for ln in svgs[0].find_all("line") if ln.attrs.get("stroke") == html_style.POWER_ON_LINE]
        is_cut = "no cut" not in section.text()
        assert len(cut_lines) == int(is_cut) and len(on_lines) == int(is_cut)
        if is_cut:
            assert "power cut" in section.find_all("pre", "console")[0].text()
            assert float(on_lines[0].attrs["x1"]) > float(cut_lines[0].attrs["x1"])


def test_real_run_header_and_self_contained(real_report):
    out, report, doc = real_report
    header = doc.text()
    for item in ("virtual", "1.0.0", "1.1.0", "seed 0", report["run"]["rig_version"], report["run"]["started"], "complete"):
        assert item in header
    text = (out / "report.html").read_text()
    assert not doc.find_all("script") and not doc.find_all("link") and not doc.find_all("img")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace("coap://", "")
    assert "https://" not in text


BLOCK_CUT = {"kind": "block", "block": 3}


def _case(name: str, outcome: str = "pass", phase: str | None = "downloading", cut: dict | None = BLOCK_CUT, **extra) -> dict:
    base = {"name": name, "outcome": outcome, "phase": phase, "cut": cut,
            "violations": [], "booted_version": "1.0.0", "state": 0, "update_result": 0, "recover_time": 0.5,
            "flash_verdict": "intact", "console_log": None, "timeline_file": None, "message": "m"}
    base.update(extra)
    return base


def _events(*items: tuple[float, str, dict]) -> str:
    return "".join(json.dumps({"t": t, "kind": k, "data": d}) + "\n" for t, k, d in items)


def _write(tmp_path: Path, results: list[dict], **top) -> Path:
    body = {"target": "bench", "run": {"seed": 7, "images": {"base": "1.0.0", "new": "2.0.0"}, "complete": True,
                                       "rig_version": "9.9"}, "results": results, **top}
    (tmp_path / "report.json").write_text(json.dumps(body))
    return tmp_path


HOSTILE = '<script>alert("x")</script>&\'"'


def test_hostile_names_and_console_lines_are_escaped(tmp_path):
    case_dir = tmp_path / "cases" / "evil"
    case_dir.mkdir(parents=True)
    (case_dir / "timeline.jsonl").write_text(_events(
        (1.0, "case-start", {}), (1.2, "notify", {"values": {"5/0/3": 1}}), (1.5, "power", {"action": "off"}),
        (1.5, "cut", {"why": HOSTILE, "phase": "downloading"}), (1.8, "power", {"action": "on"}),
        (1.9, "register", {"endpoint": HOSTILE})))
    (case_dir / "console.log").write_text("1.100000 before\n1.600000 <img src=x onerror=alert(1)>\n")
    violation = {"rule": HOSTILE, "detail": "<b>bold</b>"}
    path = write_html_report(_write(tmp_path, [_case(HOSTILE, "fail", violations=[violation], message=HOSTILE,
                                                     booted_version=HOSTILE, console_log="cases/evil/console.log",
                                                     timeline_file="cases/evil/timeline.jsonl")]))
    doc = parse(path)
    assert not doc.find_all("script") and not doc.find_all("img")
    assert "<b>bold</b>" in doc.find_all("ul", "violations")[0].text()
    assert HOSTILE in doc.find_all("section", "case")[0].find_all("h3")[0].text()
    assert "<img src=x onerror=alert(1)>" in doc.find_all("pre", "console")[0].text()
    row = matrix_rows(doc)[0][1]
    assert row.find_all("a")[0].text() == HOSTILE and row.attrs["title"] == HOSTILE
    assert row.find_all("a")[0].attrs["href"][1:] in sections(doc)


def test_missing_and_broken_timelines_render_a_note_not_a_crash(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "broken.jsonl").write_text("{not json\n\x00\x01garbage\n")
    torn = _events((1.0, "notify", {"values": {"5/0/3": 1}}), (2.0, "notify", {"values": {"5/0/3": 2}})) + '{"t": 3.0, "ki'
    (tmp_path / "cases" / "torn.jsonl").write_text(torn)
    results = [_case("gone", timeline_file="cases/nowhere.jsonl"), _case("broken", timeline_file="cases/broken.jsonl"),
               _case("none"), _case("torn", timeline_file="cases/torn.jsonl")]
    doc = parse(write_html_report(_write(tmp_path, results)))
    found = list(sections(doc).values())
    for section in found[:3]:
        assert "timeline missing" in section.text() and not section.find_all("svg")
    assert len(found[3].find_all("svg")) == 1 and "1 broken lines skipped" in found[3].text()


def test_wrongly_typed_fields_still_render(tmp_path):
    odd = {"name": 123, "outcome": None, "phase": 5, "cut": "block", "plan": [1], "violations": [1, {"rule": None}],
           "state": "x", "update_result": True, "duration": "abc", "recover_time": "?", "console_log": 7,
           "timeline_file": ["a"], "flash_dump": {}, "message": None}
    (tmp_path / "report.json").write_text(json.dumps({"target": None, "run": [], "results": [odd, "junk"],
                                                       "conformance": ["x", {"id": 1}]}))
    doc = parse(write_html_report(tmp_path))
    rows = matrix_rows(doc)
    assert len(rows) == 1 and rows[0][0] == "5" and "outcome-unknown" in rows[0][1].attrs["class"]
    section = sections(doc)[rows[0][1].find_all("a")[0].attrs["href"][1:]]
    assert "timeline missing" in section.text() and len(section.find_all("li")) == 2
    assert len(doc.find_all("tr", "conf-row")) == 2


def test_groups_follow_the_update_order_with_other_phases_and_no_cut_last(tmp_path):
    results = [_case("u", phase="updating", outcome="error"), _case("base", cut=None, phase=None),
               _case("i", phase="idle"), _case("d1"), _case("dd", phase="downloaded", outcome="fail", flash_dump="cases/dd/slot.bin"), _case("d2"),
               _case("never", phase=None)]
    doc = parse(write_html_report(_write(tmp_path, results)))
    got = [(p, r.find_all("a")[0].text()) for p, r in matrix_rows(doc)]
    dump_links = [a.attrs["href"] for _, row in matrix_rows(doc) for a in row.find_all("a", "dump")]
    assert dump_links == ["cases/dd/slot.bin"]
    headers = [th.text() for th in doc.find_all("tr", "group")]
    assert headers[0] == "downloading: 2 cases (2 pass)" and headers[1] == "downloaded: 1 case (1 fail)"
    assert got == [("downloading", "d1"), ("downloading", "d2"), ("downloaded", "dd"), ("updating", "u"),
                   ("idle", "i"), ("cut not reached", "never"), ("no cut", "base")]
    counts = doc.find_all("div", "counts")[0].text()
    assert "7 cases" in counts and "5 pass" in counts and "1 fail" in counts and "1 error" in counts


def test_conformance_table_only_when_present(tmp_path):
    rows = [{"id": "751", "title": "read the readable resources", "outcome": "pass", "detail": ""},
            {"id": "772", "title": "Execute outside Downloaded", "outcome": "fail", "detail": "got 2.04, want 4.05"}]
    doc = parse(write_html_report(_write(tmp_path, [_case("a")], conformance=rows)))
    table = doc.find_all("table", "conformance")[0]
    got = [[td.text() for td in tr.find_all("td")] for tr in table.find_all("tr", "conf-row")]
    assert got == [["751", "read the readable resources", "pass", ""],
                   ["772", "Execute outside Downloaded", "fail", "got 2.04, want 4.05"]]
    assert "outcome-fail" in table.find_all("tr", "conf-row")[1].attrs["class"]
    doc = parse(write_html_report(_write(tmp_path, [_case("a")])))
    assert not doc.find_all("table", "conformance")


def test_rules_legend_lists_the_broken_rules_once_from_rig_verdict_rules(tmp_path):
    broken = [{"rule": "update-without-execute", "detail": "x"}, {"rule": "772:execute-in-idle", "detail": "y"}]
    results = [_case("a", "fail", violations=broken), _case("b", "fail", violations=broken[:1] + [{"rule": "made-up"}]),
               _case("c")]
    doc = parse(write_html_report(_write(tmp_path, results), describe_rule=rules.describe))
    legend = doc.find_all("dl", "rules")[0]
    got = list(zip([dt.text() for dt in legend.find_all("dt")], [dd.text() for dd in legend.find_all("dd")]))
    assert got == [("update-without-execute", rules.RULES["update-without-execute"]),
                   ("772:execute-in-idle", "Execute Update in Idle answered 4.05 (conformance case 772)"),
                   ("made-up", "not described")]
    doc = parse(write_html_report(_write(tmp_path, [_case("a")]), describe_rule=rules.describe))
    assert not doc.find_all("dl", "rules")


def test_partial_report_says_where_it_stopped(tmp_path):
    directory = _write(tmp_path, [_case("a")])
    body = json.loads((directory / "report.json").read_text())
    body["run"].update(complete=False, stopped="interrupted during case 'download-block-00042'")
    (directory / "report.json").write_text(json.dumps(body))
    doc = parse(write_html_report(directory))
    assert "interrupted during case 'download-block-00042'" in doc.find_all("p", "stopped")[0].text()


def test_console_excerpt_is_the_lines_around_the_cut():
    lines = [ConsoleLine(float(i), f"line {i}") for i in range(100)]
    shown, at = excerpt(lines, 50.5)
    assert shown[at].text == "line 51" and shown[at - 1].text == "line 50"
    assert shown[0].text == "line 43" and shown[-1].text == "line 66"
    tail, none = excerpt(lines, None)
    assert none is None and tail[-1].text == "line 99" and len(tail) == 12


def test_rig_report_bad_directory_is_one_line(tmp_path):
    for bad, words in ((tmp_path / "nope", "no such report directory"), (tmp_path, "no report.json")):
        proc = rig("report", str(bad), timeout=60)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    (tmp_path / "report.json").write_text("{torn")
    with pytest.raises(RigError, match="not a readable JSON report"):
        write_html_report(tmp_path)


def test_png_script_renders_with_chromium(tmp_path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    page = write_html_report(_write(tmp_path, [_case("a"), _case("b", "fail", phase="updating")]))
    out = tmp_path / "r.png"
    proc = subprocess.run(["sh", str(REPO / "scripts/render_report_png.sh"), str(page), str(out)],
                          capture_output=True, text=True, timeout=120, env={"HEIGHT": "600", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_png_script_usage_and_missing_file(tmp_path):
    script = str(REPO / "scripts/render_report_png.sh")
    assert subprocess.run(["sh", script], capture_output=True, timeout=30).returncode == 2
    proc = subprocess.run(["sh", script, str(tmp_path / "x.html"), str(tmp_path / "x.png")], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_a_brick_shows_what_the_flash_holds_and_a_skip_is_its_own_colour(tmp_path):
    flash = {"words": "primary: 1.0.0 hash mismatch, secondary: 1.1.0 intact, scratch: swap status at idx 3 state 1",
             "primary": {"state": "bad-hash", "version": "1.0.0+0", "hash_ok": False,
                         "trailer": {"magic": "good", "image_ok": "unset", "copy_done": "unset", "swap_info": "0x02",
                                     "swap_type": "test", "status": {"idx": 3, "state": 1, "entries": 8}}},
             "secondary": {"state": "intact", "version": "1.1.0+0", "hash_ok": True, "trailer": {"status": None}},
             "next_boot": "resume test swap (status in primary stops at idx 3 state 1)"}
    bricked = _case("swap-op-00040", "fail", "updating", {"kind": "flash-op", "flash_op": 40}, flash=flash,
                    flash_dump="cases/swap-op-00040/flash/slots.txt",
                    violations=[{"rule": "bricked-after-cut", "detail": "did not register again"}])
    skipped = _case("conf-774-out-of-memory", "skip", None, None, message="skipped: no 'out-of-memory' package")
    directory = _write(tmp_path, [bricked, skipped])
    body = json.loads((directory / "report.json").read_text())
    body["run"].update(complete=False, not_run=["conf-775-connection-lost"], not_planned_yet=2)
    (directory / "report.json").write_text(json.dumps(body))
    doc = parse(write_html_report(directory))
    section = next(s for s in sections(doc).values() if "swap-op-00040" in s.attrs["id"])
    pre = section.find_all("pre", "flash")[0].text()
    assert "primary   1.0.0+0 bad-hash; magic good" in pre and "status idx 3 state 1" in pre
    assert "next boot: resume test swap" in pre and flash["words"] in section.text()
    assert any(a.attrs.get("href") == "cases/swap-op-00040/flash/slots.txt" for a in section.find_all("a"))
    assert [r.attrs["class"] for _, r in matrix_rows(doc) if "conf-774" in r.text()] == ["case-row outcome-skip"]
    counts = doc.find_all("div", "counts")[0].text()
    assert "1 fail" in counts and "1 skip" in counts and "3 not run" in counts and "0 pass" in counts
    assert "not run: conf-775-connection-lost" in doc.find_all("p", "stopped")[0].text()
