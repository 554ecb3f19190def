"""Searches over many simulated runs: tune (the cheapest setting of a mitigation that holds, with a margin);
room for calibrate and shrink (one module or subpackage each)."""
