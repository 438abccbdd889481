"""Verdicts: the spec oracle and the hard invariants, read from the timeline and the final readings only."""
