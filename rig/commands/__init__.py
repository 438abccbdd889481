"""Subcommands of `rig`: one module each, found by rig.cli at start-up."""
