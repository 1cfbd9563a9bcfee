"""Extensive-form games: sequence form from OpenSpiel, exact metrics, LP and solvers."""

from .lp import solve_lp
from .metrics import nash_conv, regularized_gap
from .policies import (
    behavioural_to_plans,
    plans_to_behavioural,
    plans_to_policy_dict,
    plans_to_tabular_policy,
    policy_dict_to_plans,
    random_behavioural,
    tabular_policy_to_plans,
    to_pyspiel_policy,
    uniform_behavioural,
    uniform_plans,
)
from .sequence_form import SequenceFormGame, sequence_form_game
from .solvers import EFG_SOLVERS

__all__ = [
    "EFG_SOLVERS",
    "SequenceFormGame",
    "nash_conv",
    "regularized_gap",
    "solve_lp",
    "sequence_form_game",
    "behavioural_to_plans",
    "plans_to_behavioural",
    "plans_to_policy_dict",
    "plans_to_tabular_policy",
    "policy_dict_to_plans",
    "random_behavioural",
    "tabular_policy_to_plans",
    "to_pyspiel_policy",
    "uniform_behavioural",
    "uniform_plans",
]
