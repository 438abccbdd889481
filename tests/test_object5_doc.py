"""docs/object5.md, the Object 5 reference the code cites, agrees with the resource table the codecs use.

A plain clone has no OMA XML (tests/test_codecs_paths.py checks against it when RIG_OMA_DIR names it), so the
repo's own description of the object must at least say the same ids, names and operations as the code.
"""

from __future__ import annotations

import re
from pathlib import Path

from rig.lwm2m.resource_types import FIRMWARE_UPDATE_RESOURCES

DOC = Path(__file__).resolve().parents[1] / "docs" / "object5.md"
OPERATIONS = {"write only": "W", "read/write": "RW", "read": "R", "execute": "E"}


def documented_resources() -> dict[int, tuple[str, str]]:
    """{id: (name, operations)} from the page's "**N Name** (operation, ...)" entries."""
    found: dict[int, tuple[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        for match in re.finditer(r"\*\*(\d+) ([^*]+)\*\*", line):
            said = re.search(r"\(([^,)]+)", line[match.end():])
            words = [w for w in OPERATIONS if said and said.group(1).startswith(w)]
            assert words, f"docs/object5.md: resource {match.group(1)} has no operation in parentheses"
            found[int(match.group(1))] = (match.group(2).strip(), OPERATIONS[words[0]])
    return found


def test_the_doc_lists_every_resource_of_the_table_with_its_name_and_operations():
    documented = documented_resources()
    assert sorted(documented) == sorted(FIRMWARE_UPDATE_RESOURCES)
    for rid, definition in FIRMWARE_UPDATE_RESOURCES.items():
        assert documented[rid] == (definition.name, definition.operations), rid


def test_the_doc_says_resource_4_is_gone_and_lists_the_twelve_update_results():
    text = DOC.read_text(encoding="utf-8")
    assert "Resource 4 was withdrawn" in text
    rows = re.findall(r"^\| (\d+) \| ", text.split("## Update Result", 1)[1].split("##", 1)[0], re.M)
    assert [int(r) for r in rows] == list(range(12))
