"""mockgc: a chaos and load test harness against a mock of Genesys Cloud."""

__version__ = "0.1.0"
