"""The customer's preference code: the same as Faker's bothify after seed_instance, drawn without a Faker."""

from __future__ import annotations

import pytest
from faker import Faker

from mockgc.flows.script import CODE_LETTERS, preference_code


@pytest.mark.parametrize("seed", [1, 2, -7, 123_456_789])
def test_the_code_is_fakers_bothify_for_that_seed_and_key(seed: int) -> None:
    faker = Faker("en_US")
    for index in range(2000):
        key = f"s{index:05d}"
        faker.seed_instance(f"preference:{seed}:{key}")
        assert preference_code(seed, key) == faker.bothify("PREF-??-####", letters=CODE_LETTERS)


def test_codes_differ_by_key_and_by_seed_and_repeat() -> None:
    codes = {preference_code(1, f"s{i}") for i in range(1000)}
    assert len(codes) > 990  # 24*24*10,000 codes: collisions are rare
    assert preference_code(1, "s1") == preference_code(1, "s1") != preference_code(2, "s1")
