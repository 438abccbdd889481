"""pytest plugin of the rig (entry point `pytest11: rig`): place, server and campaign fixtures, loopback ports.

`pytest --rig-target FILE` or `--rig-place NAME [--rig-file rig.toml]` picks the
board the fixtures drive; without either they bring up the virtual board, so
the same test file runs in nightly CI on hardware and on a laptop without.
`expect_pass(result)` turns a case's outcome into pytest's: a skip is a pytest
skip with its reason (never a pass), a fail or an error fails the test with the
case's one-line verdict (an error saying it is the rig's, not the device's).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from rig.errors import RigError
from rig.netutil import free_port, free_udp_pair
from rig.timeline import Timeline


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rig", "LwM2M firmware-update rig")
    group.addoption("--rig-target", type=Path, default=None, help="target file of the board (default: the virtual board)")
    group.addoption("--rig-place", default=None, help="place name in the rig file")
    group.addoption("--rig-file", type=Path, default=None, help="rig file binding places (default $RIG_FILE or ./rig.toml)")
    group.addoption("--rig-report-dir", type=Path, default=None, help="where report.json, junit.xml and logs go")
    group.addoption("--rig-mode", choices=("push", "pull"), default="pull", help="how the package travels")
    group.addoption("--rig-block-size", type=int, default=512, help="CoAP block size of the transfer")
    group.addoption("--rig-sim-defect", action="append", default=[], help="switch on a virtual-board defect")
    group.addoption("--rig-base-image", type=Path, default=None, help="your signed image each case starts from (hardware)")
    group.addoption("--rig-new-image", type=Path, default=None, help="your signed image to update to (hardware)")
    group.addoption("--rig-history", type=Path, default=None,
                    help="history file the session's cases are recorded in (default $RIG_HISTORY, else "
                         "~/.local/share/rig/history.sqlite)")
    group.addoption("--rig-no-history", action="store_true", help="do not record the session's cases in the history")


def expect_pass(result: Any) -> None:
    """pass: return; skip: pytest.skip(reason); fail / error: pytest.fail(the case's message)."""
    if result.outcome == "pass":
        return
    if result.outcome == "skip":
        pytest.skip(result.message or "skipped")
    if result.outcome == "error":
        pytest.fail(f"RIG ERROR (the rig could not do this case, not the device's fault): {result.error or result.message}",
                    pytrace=False)
    pytest.fail(result.message or f"{result.outcome}: {result.violations}", pytrace=False)


@pytest.fixture(scope="session")
def rig_campaign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The place, open for the whole session: `rig_campaign.run(plan) -> CaseResult`; closed (power safe) at the end."""
    from rig.run.pytest_place import PluginOptions, open_place_runner  # noqa: PLC0415 -- start-up cost: pytest loads this plugin everywhere

    get = request.config.getoption
    opts = PluginOptions(
        target=get("--rig-target"), place=get("--rig-place"), rig_file=get("--rig-file"),
        report_dir=get("--rig-report-dir") or tmp_path_factory.mktemp("rig-report"),
        mode=get("--rig-mode"), block_size=get("--rig-block-size"), defects=tuple(get("--rig-sim-defect")),
        base_image=get("--rig-base-image"), new_image=get("--rig-new-image"),
        history=get("--rig-history"), no_history=get("--rig-no-history"),
    )
    try:
        runner = open_place_runner(opts)
    except RigError as exc:
        pytest.fail(f"rig: {exc}", pytrace=False)
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="session")
def rig_place(rig_campaign: Any) -> Any:
    """The open place (rig.place.session.PlaceSession): power, probe, console, endpoint, layout."""
    return rig_campaign.session


@pytest.fixture(scope="session")
def rig_server(rig_place: Any) -> Any:
    """The place's LwM2M server (rig.lwm2m.server.Lwm2mServer); call it through rig_campaign.call(coro, timeout)."""
    return rig_place.server


@pytest.fixture
def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def free_udp_port_pair() -> int:
    """P with P and P+1 free (coap and coaps)."""
    return free_udp_pair()


@pytest.fixture
def free_tcp_port() -> int:
    return free_port(socket.SOCK_STREAM)


@pytest.fixture
def timeline() -> Timeline:
    return Timeline()
