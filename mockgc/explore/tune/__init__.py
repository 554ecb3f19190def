"""`mockgc tune`: the cheapest setting of a mitigation that still holds on every seed and with a margin.

tuning.py runs it (space → search → front → held-out confirmation → files → exit code); space.py
is what is searched, study.py the Optuna search and its worker processes, evaluate.py one setting
judged, outputs.py tune.json, tuned.toml and the front.
"""
