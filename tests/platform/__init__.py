"""Tests of mockgc/platform/."""
