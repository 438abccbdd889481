"""The runners: `rig run`'s campaign on a place, the one case wrapper, cut-plan and conformance runs, narrow's report."""
