"""Flows and mitigations, written once as sans-IO generators and run by two drivers."""
