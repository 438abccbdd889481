"""Places: which one a command means, opening it (the one way), its lock, its backends and their power policy.

Below the campaign and the conformance cases, above the backends (power, probe,
console, lab, sim): nothing here imports what runs cases on a place.
"""
