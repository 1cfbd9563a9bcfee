"""Fixtures of the PSRO tests: PSRO views of Kuhn and Leduc poker, built once per session."""

import pytest

from gametheory.psro import as_psro_game


@pytest.fixture(scope="session")
def kuhn():
    return as_psro_game("kuhn_poker")


@pytest.fixture(scope="session")
def leduc():
    return as_psro_game("leduc_poker")
