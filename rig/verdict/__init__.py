"""The judge: the Object 5 oracle, the hard invariants, the package, LSCT and deferral rules, a case's
outcome and the list of rule ids (rules.py), all read from the timeline and the final readings only.

It sits below everything that runs a case (campaign, conformance, place, commands) and imports none of
them; the virtual device (rig.sim) never imports it.
"""
