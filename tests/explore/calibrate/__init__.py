"""Tests of mockgc/explore/calibrate: the trace, the fit, replay, record."""
