"""The simulator's runaway bounds: defaults kept apart so the CLI can show them without importing the simulator."""

# Runaway bounds. Per flow, from its arrival: the effects it may yield (calls, sleeps, clock
# reads) and the virtual time it may take. Per run: the effects of all flows, as a mean per
# session, because flows that all run away do so in step, and would together make gigabytes of
# history before one of them met the per-flow bound. The built-in strategies, on every built-in
# profile, yield at most 37 effects in a flow (about 500 by design: backoff-verify's 50 tries),
# 10.4 per session on average, and last at most 1 h 0 min 5 s (window-guard's weekly window). A
# flow or run that meets a bound is a runaway: the run stops with a SimulationError that names the
# strategy and the session, after at most about 5 times an honest run's work.
DEFAULT_MAX_FLOW_STEPS = 10_000
DEFAULT_MAX_MEAN_FLOW_STEPS = 50
DEFAULT_MAX_FLOW_SECONDS = 6 * 3600.0
# Wall-clock time one step of a flow may take (from the driver handing it an answer to its next
# effect): an honest step takes microseconds; a strategy that loops without yielding never gives
# virtual time a chance to see it, so this stops it (mockgc/drivers/stepwatch.py).
DEFAULT_MAX_STEP_WALL_SECONDS = 10.0
