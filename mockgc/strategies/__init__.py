"""The strategies by name: the registry (one order, each with its companion) and the built-in live companions."""
