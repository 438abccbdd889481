"""Which Object 5 v1.1 cases a device can run, asked from the device (real server, a client registering over
CoAP): on a 1.0 device they skip saying so; on 1.1 the deferral cases need the target file to say how the rig
makes the device defer. (Every case passing on the virtual board is test_conformance_virtual.)"""

from __future__ import annotations

from dataclasses import replace

from lwm2m_test_client import Lwm2mTestClient
from server_harness import run, running_server
from sim_board import layout

from rig.campaign.case import CaseImages
from rig.place.session import PlaceSession
from rig.conformance import CASES, ConformanceContext
from rig.conformance.abilities import find_abilities, missing
from rig.lwm2m.deferral_profile import DeferralProfile
from rig.lwm2m.profile import Profile
from rig.timeline import Timeline

V11 = [c for c in CASES if c.id in ("v11", "defer", "lsct")]
WRITE_SEVERITY = DeferralProfile("resource-write", "/5/0/11", 2, undo=1)


def _abilities(tmp_path, links: bytes, profile: Profile) -> dict[str, str | None]:
    async def body():
        timeline = Timeline()
        async with running_server(tmp_path, timeline) as server:
            client = Lwm2mTestClient("abilities", server.port)
            await client.start(links)
            try:
                session = PlaceSession("p", "abilities", layout(), profile, 5.0, None, None, None, server, timeline)
                images = CaseImages(tmp_path / "b", "1.0.0", tmp_path / "n", "1.1.0")
                have, why = await find_abilities(session, ConformanceContext(images, {}, mode="pull"))
                return {c.name: missing(c, have, why) for c in V11}
            finally:
                await client.stop()

    return run(body)


def test_a_1_0_device_skips_every_v11_case_naming_its_version(tmp_path):
    reasons = _abilities(tmp_path, b"</1/0>,</3/0>,</5>;ver=1.0,</5/0>", replace(Profile(), deferral=WRITE_SEVERITY))
    assert len(reasons) == 6
    assert all(r is not None and "registers Object 5 version 1.0" in r for r in reasons.values()), reasons


def test_deferral_cases_skip_when_the_target_file_says_the_rig_cannot_make_it_defer(tmp_path):
    reasons = _abilities(tmp_path, b"</1/0>,</3/0>,</5>;ver=1.1,</5/0>", Profile())
    assert reasons["conf-v11-severity-defer-period"] is None and reasons["conf-lsct-state-changes"] is None
    for name in ("conf-defer-execute", "conf-defer-critical", "conf-defer-period-zero", "conf-defer-after-cut"):
        assert "lwm2m.deferral.how = \"none\"" in reasons[name], reasons


def test_with_a_way_to_defer_they_run_unless_nothing_survives_a_cut(tmp_path):
    reasons = _abilities(tmp_path, b"</1/0>,</3/0>,</5>;ver=1.1,</5/0>",
                         replace(Profile(), deferral=WRITE_SEVERITY, persists_state=False))
    assert {n for n, r in reasons.items() if r is not None} == {"conf-defer-after-cut"}
    assert "persists_state = false" in reasons["conf-defer-after-cut"]
