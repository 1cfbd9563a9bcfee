"""Normal-form games: types, validating constructors, the zoo and file loading."""

from .files import load_game_file
from .normal_form import (
    MatrixGame,
    NPlayerGame,
    PreferenceGame,
    matrix_game,
    nplayer_game,
    preference_game,
    stack_games,
)
from .zoo import (
    SPINNING_TOP_NAMES,
    biased_rps,
    blotto,
    comal_3x3,
    disc_game,
    make,
    matching_pennies,
    perturbed_rps,
    random_skill_game,
    random_zero_sum,
    rock_paper_scissors,
    shapley_game,
    spinning_top,
)

__all__ = [
    "MatrixGame",
    "NPlayerGame",
    "PreferenceGame",
    "matrix_game",
    "nplayer_game",
    "preference_game",
    "stack_games",
    "load_game_file",
    "SPINNING_TOP_NAMES",
    "biased_rps",
    "blotto",
    "comal_3x3",
    "disc_game",
    "make",
    "matching_pennies",
    "perturbed_rps",
    "random_skill_game",
    "random_zero_sum",
    "rock_paper_scissors",
    "shapley_game",
    "spinning_top",
]
