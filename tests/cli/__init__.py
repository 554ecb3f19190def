"""Tests of mockgc/cli/."""
