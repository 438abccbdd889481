"""A lab of many Pis on labgrid: places from a coordinator, the exporter's rig resources, stale releases."""
