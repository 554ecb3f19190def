"""Tests of mockgc/flows/."""
