"""Power backends of a place: switch a board's supply on and off, and leave it in its safe state whatever happens."""

from rig.power.base import Power, PowerBase, PowerError

__all__ = ["Power", "PowerBase", "PowerError"]
