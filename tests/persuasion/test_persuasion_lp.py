"""The obedience LP against published values, closed forms and random garblings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persuasion_problems import judge_problem, random_problem, threshold_problem

from gametheory.persuasion import (
    PersuasionProblem,
    evaluate_scheme,
    obedience_slack,
    optimal_scheme,
    problem_from_dict,
    robust_scheme,
)


def test_prosecutor_judge(judge):
    sol = optimal_scheme(judge)
    # Kamenica and Gentzkow (2011), Sec. I: conviction probability 0.6, with the "convict"
    # signal sent to an innocent defendant with probability 3/7 (and always to a guilty one).
    assert sol.value == pytest.approx(0.6, abs=1e-12)
    assert sol.scheme[0, 1] == pytest.approx(3 / 7, abs=1e-12)
    assert sol.scheme[1, 1] == pytest.approx(1.0, abs=1e-12)
    # Same paper: no information -> the judge always acquits (0); full disclosure -> 0.3.
    assert sol.no_information == pytest.approx(0.0, abs=1e-12)
    assert sol.full_disclosure == pytest.approx(0.3, abs=1e-12)
    # Posteriors: "acquit" reveals innocence (w.p. 0.4); "convict" leaves the judge at 1/2.
    order = np.argsort(sol.recommended)
    np.testing.assert_allclose(sol.posterior_probs[order], [0.4, 0.6], atol=1e-12)
    np.testing.assert_allclose(sol.posteriors[order], [[1.0, 0.0], [0.5, 0.5]], atol=1e-12)
    # The judge gets 0.7: she is right whenever acquitting and half of the time when convicting.
    assert sol.receiver_value == pytest.approx(0.7, abs=1e-12)


@pytest.mark.parametrize("p,q", [(0.3, 0.5), (0.1, 0.8), (0.25, 0.25), (0.6, 0.5), (0.05, 0.3),
                                 (0.9, 0.95)])
def test_binary_threshold_value_is_min_one_p_over_q(p, q):
    # The judge example of Kamenica and Gentzkow (2011) with threshold q: the sender splits the
    # prior into posteriors 0 and q, so the action is taken with probability min(1, p / q).
    sol = optimal_scheme(threshold_problem(p, q))
    assert sol.value == pytest.approx(min(1.0, p / q), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_lp_structure_on_random_problems(seed):
    prob = random_problem(seed, states=2 + seed % 3, actions=2 + (seed // 3) % 3)
    sol = optimal_scheme(prob)
    assert sol.no_information <= sol.value + 1e-9
    assert sol.full_disclosure <= sol.value + 1e-9
    assert obedience_slack(prob, sol.scheme).min() >= -1e-9
    np.testing.assert_allclose(sol.joint.sum(axis=1), prob.prior, atol=1e-12)
    np.testing.assert_allclose(sol.scheme.sum(axis=1), 1.0, atol=1e-12)
    # Bayes plausibility: the posteriors average back to the prior.
    np.testing.assert_allclose(sol.posterior_probs @ sol.posteriors, prob.prior, atol=1e-9)
    # A best-responding receiver (sender-favourable ties) earns the sender the LP value.
    assert evaluate_scheme(prob, sol.scheme).sender_value == pytest.approx(sol.value, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), signals=st.integers(1, 5))
def test_no_garbling_beats_the_lp(seed, signals):
    """Any scheme, with any number of signals, scored against a best-responding receiver is
    worth at most the LP value (revelation principle)."""
    prob = random_problem(seed)
    scheme = np.random.default_rng(seed + 1).dirichlet(np.ones(signals), size=prob.num_states)
    assert evaluate_scheme(prob, scheme).sender_value <= optimal_scheme(prob).value + 1e-9


def test_zero_prior_state_and_robust_lp(judge):
    prob = PersuasionProblem([0.0, 0.4, 0.6], np.eye(3), np.eye(3)[::-1])
    sol = optimal_scheme(prob)
    np.testing.assert_allclose(sol.scheme[0], np.eye(3)[prob.receiver_utility[0].argmax()])
    # A box that is the prior itself is the plain LP; the box [0, 1] forces full disclosure.
    same = robust_scheme(judge, judge.prior, judge.prior, judge.prior)
    np.testing.assert_allclose(same, optimal_scheme(judge).scheme, atol=1e-9)
    full = robust_scheme(judge, judge.prior, [0, 0], [1, 1])
    np.testing.assert_allclose(full, np.eye(2), atol=1e-9)


def test_higher_prior_helps_the_prosecutor():
    # Kamenica and Gentzkow (2011): V(p) = 2p for p <= 1/2 (here P(guilty) = p).
    for p in (0.1, 0.2, 0.45):
        assert optimal_scheme(judge_problem(p)).value == pytest.approx(2 * p, abs=1e-9)


@pytest.mark.parametrize("data,needle", [
    ({"prior": [0.5, 0.6], "sender_utility": [[0, 1], [0, 1]],
      "receiver_utility": [[1, 0], [0, 1]]}, "prior sums to 1.1"),
    ({"prior": [0.5, 0.5], "sender_utility": [[0, float("nan")], [0, 1]],
      "receiver_utility": [[1, 0], [0, 1]]}, "non-finite entry"),
    ({"prior": [0.5, 0.5], "sender_utility": [[0, 1], [0, 1]],
      "receiver_utility": [[1, 0, 0], [0, 1, 0]]}, "shape mismatch"),
    ({"prior": [0.2, 0.3, 0.5], "sender_utility": [[0, 1], [0, 1]],
      "receiver_utility": [[1, 0], [0, 1]]}, "shape mismatch"),
    ({"prior": [1.2, -0.2], "sender_utility": [[0, 1], [0, 1]],
      "receiver_utility": [[1, 0], [0, 1]]}, "negative"),
    ({"prior": [1.0], "sender_utility": [[1]]}, "missing key"),
    ({"prior": [1.0], "sender_utility": [[1]], "receiver_utility": [[1]], "x": 1}, "unknown key"),
    ({"prior": [0.5, 0.5], "sender_utility": [[0, 1], [0, 1]],
      "receiver_utility": [[1, 0], [0, 1]], "states": ["a"]}, "state names"),
])
def test_bad_inputs_raise_one_clear_error(data, needle):
    with pytest.raises(ValueError, match=needle):
        problem_from_dict(data)
