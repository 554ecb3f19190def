"""Tests of mockgc/report/."""
