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

# The history of nights goes to a file of this test session, never into the user's data directory nor into a
# $RIG_HISTORY of the shell (every `rig run` subprocess and every rig_campaign fixture inherits this one).
os.environ["RIG_HISTORY"] = os.path.join(tempfile.mkdtemp(prefix="rig-test-history-"), "history.sqlite")
