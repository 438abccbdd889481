"""Probe backends by the word in the rig file (`probe.backend`); "module:Class" so pyocd loads only when used."""

from __future__ import annotations

import importlib
from typing import Any

from rig.probe.base import ProbeBase, ProbeError

BACKENDS: dict[str, str] = {
    "pyocd": "rig.probe.pyocd_probe:PyocdProbe",
    "file": "rig.probe.file_probe:FileProbe",
    "sim": "rig.probe.sim_probe:SimProbe",
}


def probe_class(word: str) -> type[ProbeBase]:
    if word not in BACKENDS:
        raise ProbeError(f"unknown probe backend {word!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, cls = BACKENDS[word].partition(":")
    return getattr(importlib.import_module(module), cls)


def create_probe(word: str, options: dict[str, Any], **common: Any) -> ProbeBase:
    """Build backend `word` from its validated options plus name/timeline (and layout for "file")."""
    cls = probe_class(word)
    try:
        return cls(**options, **common)
    except TypeError as exc:
        raise ProbeError(f"probe backend {word!r}: {exc}") from exc
