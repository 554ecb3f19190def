"""Calibrate: a publish recorded as a trace (trace.py, sources.py, record.py), a fault profile fitted to it
(fit.py), and the recorded holds replayed (replay.py)."""
