"""Shared test helpers live in rig.pytest_plugin (fixtures `free_udp_port`, `free_tcp_port`, `timeline`).

Every virtual board started by this test session (and the pyocd probe plugin that
lists them) uses a registry of the session's own, so boards of another test run on
the same machine never show up as connected probes here.
"""

from __future__ import annotations

import os
import tempfile

from rig.sim.probe_registry import REGISTRY_ENV

if not os.environ.get(REGISTRY_ENV):
    os.environ[REGISTRY_ENV] = tempfile.mkdtemp(prefix="rig-sim-registry-")
