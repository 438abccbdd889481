"""`rig relayd`: the Pi-side relay service a labgrid lab switches board power through (see server.py)."""
