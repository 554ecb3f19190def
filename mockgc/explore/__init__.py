"""Searches over many simulated runs: room for calibrate, tune and shrink (one module or subpackage each)."""
