"""Fixtures of the extensive-form tests."""

import pytest
from efg_games import load


@pytest.fixture(scope="session")
def kuhn():
    return load("kuhn_poker")


@pytest.fixture(scope="session")
def leduc():
    return load("leduc_poker")
