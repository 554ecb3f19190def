"""Tests of mockgc/live/."""
