"""Tests of mockgc/spec/."""
