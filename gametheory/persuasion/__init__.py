"""Bayesian persuasion: optimal, differentiable and online signaling schemes.

* :mod:`~gametheory.persuasion.problem`: validated problems, best responses (ties in the sender's
  favour) and scheme evaluation; no-information and full-disclosure values.
* :mod:`~gametheory.persuasion.lp`: the sender-optimal scheme by the obedience LP (HiGHS) and
  the robust LP for a box of candidate priors.
* :mod:`~gametheory.persuasion.concavification`: the concave envelope for a binary state.
* :mod:`~gametheory.persuasion.softmax`: a softmax scheme optimised with the toolkit's mirror
  step (JAX, augmented Lagrangian for obedience).
* :mod:`~gametheory.persuasion.online`: learning the prior on the fly (after Zu, Iyer, Xu 2021).
* :mod:`~gametheory.persuasion.receiver_types`: unknown receiver types, the type LP, Hedge over a
  grid of schemes and follow-the-leader (after Castiglioni et al. 2020).
* :mod:`~gametheory.persuasion.plots`: concavification and regret plots.

The JAX module is imported on first use, so the LP tools do not import JAX.
"""

from __future__ import annotations

import importlib

from .concavification import Concavification, concavify, sender_value_at_belief
from .lp import PersuasionSolution, obedience_slack, optimal_scheme, robust_scheme
from .online import OnlinePriorResult, confidence_radius, learn_prior_online
from .plots import plot_concavification, plot_regret
from .problem import (
    PersuasionProblem,
    SchemeEvaluation,
    best_response,
    evaluate_scheme,
    full_disclosure_value,
    load_problem,
    no_information_value,
    problem_from_dict,
)
from .receiver_types import (
    OnlineTypesResult,
    TypedPersuasionProblem,
    TypeSchemeSolution,
    follow_the_leader,
    hedge_over_schemes,
    scheme_grid,
    scheme_values_by_type,
    type_optimal_scheme,
)

_LAZY = {"softmax_scheme": "softmax", "SoftmaxSchemeResult": "softmax",
         "SoftmaxSchemeState": "softmax"}

__all__ = [
    "PersuasionProblem", "SchemeEvaluation", "problem_from_dict", "load_problem",
    "best_response", "evaluate_scheme", "no_information_value", "full_disclosure_value",
    "PersuasionSolution", "optimal_scheme", "robust_scheme", "obedience_slack",
    "Concavification", "concavify", "sender_value_at_belief",
    "OnlinePriorResult", "confidence_radius", "learn_prior_online",
    "TypedPersuasionProblem", "TypeSchemeSolution", "OnlineTypesResult", "type_optimal_scheme",
    "scheme_values_by_type", "scheme_grid", "hedge_over_schemes", "follow_the_leader",
    "plot_concavification", "plot_regret",
    *sorted(_LAZY),
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'gametheory.persuasion' has no attribute {name!r}")
