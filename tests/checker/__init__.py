"""Tests of mockgc/checker/."""
