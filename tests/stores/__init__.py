"""Tests of mockgc/stores/."""
