"""The rig: proves over LwM2M Object 5 that a firmware update survives power cuts."""

__version__ = "0.1.0"
