"""Probe backends by the word in the rig file (`probe.backend`); "module:Class" so pyocd loads only when used."""

from __future__ import annotations

from typing import Any

from rig.backends import backend_class, create_backend
from rig.probe.base import ProbeBase, ProbeError

BACKENDS: dict[str, str] = {
    "pyocd": "rig.probe.pyocd_probe:PyocdProbe",
    "file": "rig.probe.file_probe:FileProbe",
    "sim": "rig.probe.sim_probe:SimProbe",
}


def probe_class(word: str) -> type[ProbeBase]:
    return backend_class(BACKENDS, "probe", word, ProbeError)


def create_probe(word: str, options: dict[str, Any], **common: Any) -> ProbeBase:
    """Build backend `word` from its validated options plus name/timeline (and layout for "file")."""
    return create_backend(BACKENDS, "probe", word, ProbeError, options, common)
