"""Tests of mockgc/inlocust/."""
