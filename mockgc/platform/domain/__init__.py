"""The platform's domain model: plain Python, no Flask, time from an injected clock."""
