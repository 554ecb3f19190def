"""Benchmarks run by `make bench` (`python -m bench`); each prints its own section and ratios, never asserts times."""
