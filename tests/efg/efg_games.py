"""Shared sequence-form games of the extensive-form tests (each built once per session)."""

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
