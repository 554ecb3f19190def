"""The checker, pure: a history and the truth in, a result out; the result's vocabulary, the gate, and how results are shown."""
