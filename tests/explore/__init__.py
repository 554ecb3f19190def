"""Tests of mockgc/explore."""
