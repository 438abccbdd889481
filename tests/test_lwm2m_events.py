"""rig.lwm2m.events reads the timeline's LwM2M events as the server writes them; nothing else spells their keys.

The events here have the shape rig.lwm2m.device_management and
rig.lwm2m.registration append (kind, endpoint, op, path, code text, values keyed
without the leading "/"). The last tests parse rig (not the device, rig/sim,
which keeps its own copy on purpose) for hand-spelled Object 5 value keys and
for private State / Update Result name tables.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import rig
from rig.lwm2m import events as lwm2m
from rig.lwm2m import object5
from rig.timeline import Event

EP = "dev-1"


def notify(values: dict, endpoint: str = EP) -> Event:
    return Event(1.0, "notify", {"endpoint": endpoint, "path": "/5/0/3", "code": "2.05", "first": False,
                                 "values": values, "error": None})


def request(op: str, path: str, code: str | None, values: dict | None = None, endpoint: str = EP) -> Event:
    return Event(2.0, "request", {"endpoint": endpoint, "op": op, "path": path, "code": code,
                                  "values": values or {}, "error": None, "sent": 1.9, "value": None})


def test_keys_are_the_object5_paths_without_the_slash():
    assert (lwm2m.STATE, lwm2m.RESULT, lwm2m.LSCT, lwm2m.PERIOD) == ("5/0/3", "5/0/5", "5/0/12", "5/0/13")
    assert object5.UPDATE_PATH == "/5/0/2" and object5.CANCEL_PATH == "/5/0/10"
    assert lwm2m.key(object5.PACKAGE_URI_PATH) == "5/0/1"


def test_state_and_result_from_notifications_and_reads_of_the_endpoint_only():
    both = {"5/0/3": 2, "5/0/5": 0}
    assert lwm2m.state(notify(both)) == 2 and lwm2m.result(notify(both)) == 0
    assert lwm2m.state(request("read", "/5/0", "2.05", both), EP) == 2
    assert lwm2m.state(notify(both), "other") is None  # another device's notification
    assert lwm2m.result(notify({"5/0/3": 1})) is None  # State only
    send = Event(3.0, "send", {"endpoint": EP, "values": both})  # a Send carries values but is no answer to the rig
    assert lwm2m.state(send) is None and lwm2m.values(send) == both
    assert lwm2m.reported(Event(4.0, "register", {"endpoint": EP})) == {}


def test_execute_update_answered_2xx():
    assert lwm2m.executed_update(request("execute", "/5/0/2", "2.04"))
    assert lwm2m.executed_update(request("execute", "/5/0/2", "2.04"), EP)
    assert not lwm2m.executed_update(request("execute", "/5/0/2", "2.04"), "other")
    assert not lwm2m.executed_update(request("execute", "/5/0/2", "4.05"))
    assert not lwm2m.executed_update(request("execute", "/5/0/2", None))  # no answer at all
    assert lwm2m.is_execute_update(request("execute", "/5/0/2", None))
    assert not lwm2m.executed_update(request("execute", "/5/0/10", "2.04"))  # Cancel is no Update
    assert not lwm2m.executed_update(request("write", "/5/0/2", "2.04"))


def test_answered_ok_and_registration():
    assert [lwm2m.answered_ok(c) for c in ("2.04", "2.05", "4.05", "5.00", None, "")] == [True, True, False, False,
                                                                                      False, False]
    register = Event(5.0, "register", {"endpoint": EP, "location": "a", "replaced": True})
    assert lwm2m.is_registration(register) and lwm2m.is_registration(register, EP)
    assert not lwm2m.is_registration(register, "other")
    assert not lwm2m.is_registration(Event(5.0, "update", {"endpoint": EP}), EP)  # a registration Update


def test_one_name_table():
    assert object5.STATE_NAMES == {0: "Idle", 1: "Downloading", 2: "Downloaded", 3: "Updating"}
    assert object5.RESULT_NAMES[5] == "integrity check failure" and object5.RESULT_NAMES[11] == "deferred"
    assert set(object5.RESULT_NAMES) == set(range(12))


RIG = Path(rig.__file__).parent
OWNERS = {"object5.py", "events.py"}  # where the keys and names are written, once
KEY = re.compile(r"/?5/0/\d+")
NAMES = {name.lower() for name in object5.STATE_NAMES.values()} | set(object5.RESULT_NAMES.values())


def _checker_modules() -> list[Path]:
    return [p for p in sorted(RIG.rglob("*.py")) if p.relative_to(RIG).parts[0] != "sim" and p.name not in OWNERS]


def spelled_keys(path: Path) -> list[str]:
    """Object 5 paths or value keys written as a whole string literal ("5/0/3", "/5/0/2")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{n.lineno}: {n.value}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and KEY.fullmatch(n.value)]


def name_tables(path: Path) -> list[str]:
    """Dict literals from numbers to State or Update Result names (a private copy of object5's tables)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Dict) and len(n.keys) >= 2 and all(isinstance(k, ast.Constant) and isinstance(k.value, int)
                                                                for k in n.keys):
            words = [v.value.lower() for v in n.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            if len(words) >= 2 and all(w in NAMES for w in words):
                found.append(f"{path.name}:{n.lineno}")
    return found


def test_no_checker_module_spells_an_object5_key_or_keeps_a_name_table():
    modules = _checker_modules()
    assert len(modules) > 150
    assert [hit for p in modules for hit in spelled_keys(p)] == []
    assert [hit for p in modules for hit in name_tables(p)] == []


def test_the_scans_can_fail(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('A = {"5/0/3": 1}\nB = {0: "Idle", 1: "Downloading"}\nC = {5: "integrity check failure", '
                     '8: "update failed"}\nD = "/5/0/2"\nE = f"/5/0/{3}"\n')
    assert sorted(spelled_keys(probe)) == ["probe.py:1: 5/0/3", "probe.py:4: /5/0/2"]
    assert sorted(name_tables(probe)) == ["probe.py:2", "probe.py:3"]
