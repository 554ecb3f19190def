"""Tests of mockgc/strategies/."""
