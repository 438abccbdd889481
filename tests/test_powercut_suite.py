"""The power-cut suite as pytest tests, through the rig's own plugin fixtures.

Runs on the virtual board by default; on hardware with
`pytest tests/test_powercut_suite.py --rig-place k64f-1 --rig-file rig.toml`
(or `--rig-target FILE` for a host-process target). Every case must pass on a
correct device: a failure message is the case's one-line verdict.
"""

from __future__ import annotations

import pytest

from rig.run.pytest_place import suite_plans
from rig.faults import Cut, FaultPlan
from rig.pytest_plugin import expect_pass

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

DOWNLOAD_POINTS = 3
SWAP_POINTS = 3
CASES = ["baseline-no-cut"] + [f"download-{i}" for i in range(DOWNLOAD_POINTS)] + [f"swap-{i}" for i in range(SWAP_POINTS)]


@pytest.fixture(scope="module")
def plans(rig_campaign):
    return suite_plans(rig_campaign, DOWNLOAD_POINTS + SWAP_POINTS)


def _plan(plans, case):
    if case == "baseline-no-cut":
        return None
    kind, index = case.rsplit("-", 1)
    chosen = [p for p in plans if p.name.startswith(kind)]
    return chosen[int(index)]


@pytest.mark.parametrize("case", CASES)
def test_update_survives_a_power_cut(rig_campaign, plans, case):
    plan = _plan(plans, case)
    result = (next(r for r in rig_campaign.record.results if r.name == case) if plan is None
              else rig_campaign.run(plan))
    expect_pass(result)
    assert result.update_result == 1 and result.state == 0


@pytest.mark.parametrize("state", [2, 3])
def test_update_survives_a_cut_at_a_state_change(rig_campaign, plans, state):
    result = rig_campaign.run(FaultPlan(f"state-{state}", Cut("state", state=state)))
    expect_pass(result)
    assert result.phase in ("downloaded", "updating"), result.phase


def test_fixtures_reach_the_same_place(rig_campaign, rig_place, rig_server, plans):
    response = rig_campaign.call(rig_server.read(rig_place.endpoint, "/5/0/3"), 10)
    assert response.ok and response.value == 0
    assert (rig_campaign.report_dir / "report.json").is_file()
