"""Tests of mockgc/worker/."""
