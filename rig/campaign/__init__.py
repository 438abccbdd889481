"""Campaigns: one update per case, a fault plan deciding when the power goes, a verdict after."""
