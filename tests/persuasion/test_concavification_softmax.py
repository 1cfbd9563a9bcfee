"""Concavification (binary state) and the JAX softmax scheme, both against the obedience LP."""

import matplotlib
import numpy as np
import pytest
from persuasion_problems import judge_problem, random_problem, threshold_problem

from gametheory.persuasion import (
    PersuasionProblem,
    concavify,
    optimal_scheme,
    plot_concavification,
    softmax_scheme,
)

matplotlib.use("Agg")

# Two states, three actions: the receiver's best response switches at beliefs 1/3 and 2/3, and
# the sender's value is not monotone in the belief, so the envelope has several kinks.
THREE_ACTIONS = (np.array([[0.0, 2.0, 1.0], [3.0, 1.0, 0.5]]),  # sender
                 np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]))  # receiver


@pytest.mark.parametrize("utilities", [
    (judge_problem().sender_utility, judge_problem().receiver_utility),
    THREE_ACTIONS,
    (np.array([[1.0, 0.0], [-1.0, 2.0]]), np.array([[0.2, 0.0], [0.0, 0.7]])),
])
def test_concavification_equals_lp_on_a_grid(utilities):
    # Kamenica and Gentzkow (2011), Cor. 2: the optimal value is the concave envelope.
    su, ru = utilities
    cav = concavify(utilities)
    for p in np.linspace(0.0, 1.0, 101):
        lp = optimal_scheme(PersuasionProblem([1 - p, p], su, ru)).value
        assert cav.value(p) == pytest.approx(lp, abs=1e-9), p


def test_concavification_of_the_judge():
    # v_hat = 0 below 1/2 and 1 from 1/2 on; the envelope is min(1, 2 mu) (KG 2011, Fig. 1).
    cav = concavify(judge_problem())
    np.testing.assert_allclose(cav.hull_beliefs, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(cav.hull_values, [0.0, 1.0, 1.0])


def test_concavification_needs_two_states_and_plots(tmp_path):
    with pytest.raises(ValueError, match="exactly 2 states"):
        concavify(random_problem(0))
    fig = plot_concavification(judge_problem())
    fig.savefig(tmp_path / "cav.png")
    assert (tmp_path / "cav.png").stat().st_size > 0


@pytest.mark.parametrize("problem", [
    judge_problem(),
    threshold_problem(0.1, 0.8),
    threshold_problem(0.6, 0.5),
    PersuasionProblem([0.4, 0.6], *THREE_ACTIONS),
    random_problem(3),
    random_problem(7, states=4, actions=3),
], ids=["judge", "threshold_0.1_0.8", "threshold_0.6_0.5", "three_actions", "random3x3",
        "random4x3"])
def test_softmax_scheme_reaches_the_lp_value(problem):
    lp = optimal_scheme(problem)
    res = softmax_scheme(problem)
    assert res.value == pytest.approx(lp.value, abs=1e-6)
    assert res.max_violation <= 1e-6
    np.testing.assert_allclose(res.scheme.sum(axis=1), 1.0, atol=1e-12)


def test_softmax_scheme_matches_the_judge_scheme_and_resumes():
    # KG 2011: pi(convict | innocent) = 3/7.
    first = softmax_scheme(judge_problem(), outer_steps=1000)
    res = softmax_scheme(judge_problem(), outer_steps=1000, state=first.state)
    assert int(res.state.step) == 2000
    assert res.scheme[0, 1] == pytest.approx(3 / 7, abs=1e-6)
    with pytest.raises(ValueError, match="lr"):
        softmax_scheme(judge_problem(), lr=-1.0)
