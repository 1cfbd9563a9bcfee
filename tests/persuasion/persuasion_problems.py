"""Shared persuasion problems with published optima."""

import numpy as np

from gametheory.persuasion import PersuasionProblem


def judge_problem(prior_guilty: float = 0.3) -> PersuasionProblem:
    """Kamenica and Gentzkow (2011), Sec. I: the prosecutor wants a conviction in every state;
    the judge gets 1 for a correct decision, so she convicts iff P(guilty) >= 0.5."""
    return PersuasionProblem([1 - prior_guilty, prior_guilty], [[0, 1], [0, 1]],
                             [[1, 0], [0, 1]], states=["innocent", "guilty"],
                             actions=["acquit", "convict"])


def threshold_problem(p: float, q: float) -> PersuasionProblem:
    """Binary state, P(state 1) = p; the receiver acts iff its belief is >= q (utility 1 - q
    for acting in state 1, -q in state 0, 0 for not acting); the sender always wants the act."""
    return PersuasionProblem([1 - p, p], [[0, 1], [0, 1]], [[0, -q], [0, 1 - q]],
                             actions=["wait", "act"])


def random_problem(seed: int, states: int = 3, actions: int = 3) -> PersuasionProblem:
    rng = np.random.default_rng(seed)
    return PersuasionProblem(rng.dirichlet(np.ones(states)), rng.normal(size=(states, actions)),
                             rng.normal(size=(states, actions)))
