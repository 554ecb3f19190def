"""Exploring beyond one run: calibrate a profile to a team's own publishes (and room for tune and shrink)."""
