"""The `pyocd.probe` entry point of the virtual board's probe, safe to load while pyocd itself is importing.

pyocd loads every probe plugin while its own package is still initialising
(pyocd.probe.aggregator runs at import). When a program imports
rig.sim.probe_plugin first, that module's `import pyocd` is what starts the
initialisation, so pyocd asks for the plugin while rig.sim.probe_plugin is half
executed. This module needs only the pyocd pieces that are loaded by then, and in
that one situation hands pyocd a stand-in class that reaches the real probe class
on first use, when both packages are complete.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from pyocd.core.plugin import Plugin
from pyocd.probe.debug_probe import DebugProbe

from rig.sim.pyocd_names import IMPLEMENTATION, PROBE_TYPE


class DeferredRigSimProbe(DebugProbe):
    """pyocd enumerates probes only through these class methods; they forward to the real class."""

    @classmethod
    def _real(cls) -> Any:
        from rig.sim.probe_plugin import RigSimProbe  # noqa: PLC0415 -- import order: pyocd may be importing, see the module docstring

        return RigSimProbe

    @classmethod
    def get_all_connected_probes(cls, unique_id: str | None = None, is_explicit: bool = False) -> Sequence[DebugProbe]:
        return cls._real().get_all_connected_probes(unique_id, is_explicit)

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> DebugProbe | None:
        return cls._real().get_probe_with_id(unique_id, is_explicit)


class RigSimProbePlugin(Plugin):
    """Entry point object for `pyocd.probe`: rigsim = rig.sim.pyocd_entry:RigSimProbePlugin."""

    def load(self) -> type[DebugProbe]:
        half_done = sys.modules.get(IMPLEMENTATION)
        if half_done is not None and not hasattr(half_done, "RigSimProbe"):
            return DeferredRigSimProbe  # rig.sim.probe_plugin registers the target type when it finishes
        from rig.sim.probe_plugin import RigSimProbe, register_target_type  # noqa: PLC0415 -- import order: see the module docstring

        register_target_type()
        return RigSimProbe

    @property
    def name(self) -> str:
        return PROBE_TYPE

    @property
    def description(self) -> str:
        return "rig virtual boards (rig.sim supervisors on this host)"
