"""What a run is: the run spec (RunSpec), its durations and runaway bounds, and the companion contract a strategy's needs fit."""
