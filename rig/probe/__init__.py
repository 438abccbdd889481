"""Probe backends of a place: program, read, erase, reset and halt the target's flash and core."""

from rig.probe.base import Probe, ProbeBase, ProbeError, read_partition

__all__ = ["Probe", "ProbeBase", "ProbeError", "read_partition"]
