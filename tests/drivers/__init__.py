"""Tests of mockgc/drivers/."""
