"""An external store that cannot be read at the end is a harness failure, never a verdict."""

from __future__ import annotations

import pytest

from mockgc.drivers.simulator import SimulationError
from mockgc.stores import open_store
from tests.conftest import simulate


def test_simulation_with_an_unreachable_store_is_a_harness_error() -> None:
    # Port 1 on loopback: nothing listens, so every store call fails fast.
    store = open_store("redis://127.0.0.1:1/0?timeout=0.2")
    with pytest.raises(SimulationError, match="cannot read the external store"):
        simulate(mitigation="external-store", profile="fast", sessions=3, seed=1, store=store)
