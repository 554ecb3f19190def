"""Searches over simulated runs: tune (the cheapest setting of a mitigation that holds, with a margin)."""
