"""Shared sequence-form games for the extensive-form tests (built once per session)."""

import pytest

from gametheory.efg import sequence_form_game

GOOFSPIEL = "goofspiel(num_cards=4,imp_info=True,points_order=descending)"
LIARS_DICE_3 = "liars_dice(numdice=1,dice_sides=3)"
DARK_HEX = "dark_hex(num_rows=2,num_cols=2)"
EXPLOITABILITY_GAMES = ["kuhn_poker", "leduc_poker", LIARS_DICE_3, GOOFSPIEL, DARK_HEX]

_CACHE = {}


def load(name):
    if name not in _CACHE:
        _CACHE[name] = sequence_form_game(name)
    return _CACHE[name]


@pytest.fixture(scope="session")
def kuhn():
    return load("kuhn_poker")


@pytest.fixture(scope="session")
def leduc():
    return load("leduc_poker")
