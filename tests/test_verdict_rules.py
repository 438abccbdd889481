"""rig.verdict.rules lists every rule id the rig can put in a report, and lists nothing it cannot.

The rig's modules are parsed (not run) and each place a rule id is spelled is
read: the first argument of a Violation, the rule of a conformance check
(`checks.expect(ok, RULE, ...)`), the rule an oracle diagnosis returns. A
plain string must be listed; an f-string ("stuck-in-{phase}") must match at
least one listed id; a name is read from the module constants it refers to.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import rig
from rig.verdict import rules

RIG = Path(rig.__file__).parent


def _modules(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.py")) if p.relative_to(root).parts[0] != "sim"]  # the device names none


def _constants(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, set()).add(node.value.value)
    return found


def _spellings(expr: ast.expr, constants: dict[str, set[str]]) -> list[str | re.Pattern[str]]:
    """A rule expression as the ids (or id patterns) it can give; [] when it passes on a rule made elsewhere."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        return _spellings(expr.body, constants) + _spellings(expr.orelse, constants)
    if isinstance(expr, ast.Name):
        return sorted(constants.get(expr.id, ()))
    if isinstance(expr, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in expr.values]
        fixed = "".join(v.value for v in expr.values if isinstance(v, ast.Constant))
        return [re.compile("".join(parts))] if re.search("[a-z]", fixed) else []  # "{case}:{check}": composed
    return []


def rule_sites(paths: list[Path]) -> list[tuple[str, str, str | re.Pattern[str]]]:
    """(kind, where, id or pattern): kind "rule" for a verdict rule, "check" for a conformance check word."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in paths}
    constants = _constants(trees)
    out = []
    for path, tree in trees.items():
        exprs: list[tuple[str, ast.expr]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "Violation" and node.args:
                    exprs.append(("rule", node.args[0]))
                if name == "expect" and len(node.args) >= 2 and "conformance" in path.parts:
                    exprs.append(("check", node.args[1]))
            if path.name.startswith("oracle"):  # a diagnosis returns (rule, reason, ...); the profile table maps to them
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
                    exprs.append(("rule", node.value.elts[0]))
                if isinstance(node, ast.Dict):
                    exprs += [("rule", v.elts[0]) for v in node.values if isinstance(v, ast.Tuple) and v.elts]
        out += [(kind, f"{path.name}:{e.lineno}", s) for kind, e in exprs for s in _spellings(e, constants)]
    return out


def _listed(kind: str) -> dict[str, str]:
    return rules.CONFORMANCE_CHECKS if kind == "check" else rules.RULES


def _covered(spelling: str | re.Pattern[str], table: dict[str, str]) -> bool:
    if isinstance(spelling, str):
        return spelling in table
    return any(spelling.fullmatch(rule) for rule in table)


def unlisted(sites: list[tuple[str, str, str | re.Pattern[str]]]) -> list[str]:
    return [f"{where}: {getattr(s, 'pattern', s)} ({kind})" for kind, where, s in sites
            if not _covered(s, _listed(kind))]


SITES = rule_sites(_modules(RIG))


def test_every_rule_spelled_in_rig_is_listed():
    assert len(SITES) > 120, "the scan found too few rule sites: did the code move?"
    assert unlisted(SITES) == []


def test_every_listed_rule_is_spelled_somewhere():
    for kind, table in (("rule", rules.RULES), ("check", rules.CONFORMANCE_CHECKS)):
        spelled = [s for k, _, s in SITES if k == kind]
        stale = [rule for rule in table
                 if not any(s == rule if isinstance(s, str) else s.fullmatch(rule) for s in spelled)]
        assert stale == [], f"listed but never emitted ({kind}): {stale}"


def test_the_scan_catches_an_unlisted_rule(tmp_path):
    module = tmp_path / "judge.py"
    module.write_text("RULE = 'brand-new'\n"
                      "def f(x):\n"
                      "    a = Violation('made-up-rule', 'x')\n"
                      "    b = Violation(RULE if x else 'device-wedged', 'x')\n"
                      "    c = Violation(f'stuck-in-{x}', 'x')\n"
                      "    return Violation(f'nowhere-{x}', 'x')\n")
    assert sorted(unlisted(rule_sites([module]))) == ["judge.py:3: made-up-rule (rule)", "judge.py:4: brand-new (rule)",
                                          "judge.py:6: nowhere\\-.+ (rule)"]


def test_describe_reads_conformance_checks_and_oracle_rules():
    assert rules.describe("update-without-execute") == rules.RULES["update-without-execute"]
    assert rules.describe("772:execute-in-idle") == "Execute Update in Idle answered 4.05 (conformance case 772)"
    assert rules.describe("no-such-rule") is None
    assert rules.legend(["no-such-rule", "device-wedged", "no-such-rule"]) == {
        "no-such-rule": "(not in rig.verdict.rules)", "device-wedged": rules.INVARIANT_RULES["device-wedged"]}
