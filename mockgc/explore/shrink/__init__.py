"""`mockgc shrink`: a failing scenario cut down to the smallest simulation that still fails the same way.

- probe.py: one candidate simulated and kept whole (per-session classes, history, holds), the budget;
- ddmin.py: delta debugging over a list;
- shrinking.py: the dimensions, one after the other (sessions, publishes, agents and batches, arrival times);
- live.py: a failing live run's first bad session as a one-session simulation (or why it cannot be);
- inputs.py: a spec file or a `simulate --json` result; story.py: the session's story; outputs.py: the files;
- command.py: each kind of input shrunk, for `mockgc shrink`.
"""
