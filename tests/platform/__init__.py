"""Tests of the mock platform (mockgc/platform/)."""
