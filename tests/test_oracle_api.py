"""Oracle entry points: all violations, final configurations, input errors, code spellings, wording."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from aiocoap.numbers.codes import Code

from rig.verdict.oracle import RULES, check, check_all, explain, final_configurations, final_pairs, settled
from rig.verdict.oracle_items import Cancel, ExecuteUpdate, Observation, OracleInputError, WriteUri
from rig.lwm2m.profile import Profile
from test_oracle_legal import DD, DL, UP, I, build, exe, o, reg, uri

P = Profile()


def test_detail_reads_like_a_bug_report() -> None:
    violation = check(build([o(I, 0), uri(), o(DD, 0), o(I, 1)]), P)
    assert violation is not None
    assert violation.detail == (
        "observation 3 (t=3.0 s): Idle / 1 success after Downloaded / 0 initial (observation 2) "
        "with no Execute in between; success needs an Update to be executed in Downloaded"
    )


def test_check_all_continues_after_a_violation() -> None:
    items = build([o(I, 0), o(I, 1), exe("2.04"), o(DD, 0), o(I, 0)])
    found = check_all(items, P)
    assert [(v.index, v.rule) for v in found] == [
        (1, "result-1-without-execute"),
        (2, "execute-accepted-outside-downloaded"),
        (3, "download-without-request"),
        (4, "state-lost"),
    ]
    assert check(items, P) == found[0]


def test_final_configurations_for_the_verdict_layer() -> None:
    downloading = final_configurations(build([o(I, 0), uri(), o(DL, 0)]), P)
    assert (DL, 0) in final_pairs(downloading) and (DD, 0) in final_pairs(downloading)
    assert final_pairs(settled(downloading)) >= {(DD, 0), (I, 4)}
    updating = final_configurations(build([o(DD, 0), exe(), o(UP, 0)]), P)
    assert final_pairs(settled(updating)) == {(I, 1), (I, 8), (I, 5)}
    assert explain(final_configurations(build([o(I, 0), uri(), o(DD, 0)]), P)) == "Downloaded / 0 initial"


def test_known_start_constrains_the_first_observation() -> None:
    assert check(build([o(DD, 0)]), P) is None
    violation = check(build([o(DD, 0)]), P, initial=[(I, 0)])
    assert violation is not None and violation.rule == "download-without-request"
    assert "at the start of the run" in violation.detail


def test_registration_version_overrides_profile_version() -> None:
    items = build([o(DL, 0), lambda t: Cancel(t, "2.04")])
    assert check(items, Profile(object5_version="1.1")) is None
    violation = check(items, Profile(object5_version="1.1"), object_version="1.0")
    assert violation is not None and violation.rule == "cancel-not-in-1.0"


def test_response_code_spellings() -> None:
    assert ExecuteUpdate(0.0, Code.CHANGED).code == "2.04"
    assert ExecuteUpdate(0.0, Code.METHOD_NOT_ALLOWED).code == "4.05"
    assert ExecuteUpdate(0.0, 0x44).code == "2.04"
    assert ExecuteUpdate(0.0, None).code is None
    with pytest.raises(OracleInputError, match=r"ExecuteUpdate: response code 'ok'"):
        ExecuteUpdate(0.0, "ok")


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: Observation(0.0, None, None), "needs a State or an Update Result"),
        (lambda: Observation(0.0, 0, 0, source="poll"), "source 'poll'"),
        (lambda: WriteUri(0.0, "coap://x", kind="broken"), "kind 'broken'"),
        (lambda: WriteUri(0.0, "coap://x", fault="gremlins"), "fault 'gremlins'"),
    ],
)
def test_malformed_items_are_rejected(make, message: str) -> None:
    with pytest.raises(OracleInputError, match=message):
        make()


def test_item_order_and_type_are_checked() -> None:
    with pytest.raises(OracleInputError, match=r"oracle item 1: t=1.0 is earlier"):
        check([Observation(2.0, 0, 0), Observation(1.0, 0, 0)], P)
    with pytest.raises(OracleInputError, match=r"oracle item 0: str is not"):
        check(["Idle"], P)  # type: ignore[list-item]


def test_registration_violation_names_the_cause() -> None:
    items = build([reg("1.0"), o(I, 0), uri(v="2.0"), o(DD, 0), exe(), o(I, 1), reg("1.0")])
    violation = check(items, P)
    assert violation is not None and (violation.index, violation.rule) == (6, "reverted-after-success")
    assert violation.detail.startswith("event 6 (t=6.0 s): registration running 1.0: it runs 1.0 after reporting success for 2.0")


def test_every_target_file_in_the_repository_has_a_valid_profile() -> None:
    files = sorted((Path(__file__).parent.parent / "targets").glob("*.toml"))
    assert files, "no targets/*.toml found"
    for file in files:
        Profile.from_target(tomllib.loads(file.read_text()), str(file))


def test_reported_rules_are_documented() -> None:
    items = build([o(I, 0), o(I, 1), exe("2.04"), o(DD, 0), o(I, 0), o(7, 0)])
    assert {v.rule for v in check_all(items, P)} <= set(RULES)
