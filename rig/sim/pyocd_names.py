"""The names pyocd knows the virtual board by: its probe type, its target type, the module that implements them.

Shared by the entry point pyocd loads (rig.sim.pyocd_entry, which must stay
light enough to load while pyocd itself is importing) and the probe it hands
out (rig.sim.probe_plugin), so neither imports the other for a name.
"""

PROBE_TYPE = "rigsim"  # `pyocd list` / `-u rigsim:...`: the probe plugin's name
TARGET_TYPE = "rig_virtual"  # `-t rig_virtual`: the target type the probe names as its board's
IMPLEMENTATION = "rig.sim.probe_plugin"  # the module that defines the probe class and registers the target type
