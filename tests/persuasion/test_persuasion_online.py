"""Online persuasion: unknown prior (robust LP) and adversarial receiver types (Hedge, FTL)."""

import numpy as np
import pytest
from persuasion_problems import judge_problem

from gametheory.persuasion import (
    TypedPersuasionProblem,
    follow_the_leader,
    hedge_over_schemes,
    learn_prior_online,
    optimal_scheme,
    scheme_grid,
    type_optimal_scheme,
)

DELTA, GROWTH = 0.05, 1.05


@pytest.fixture(scope="module")
def judge_runs():
    prob = judge_problem()
    return {t: learn_prior_online(prob, t, seed=0, delta=DELTA, resolve_growth=GROWTH)
            for t in (1000, 10000)}


def _judge_regret_bound(horizon: int) -> np.ndarray:
    """Cumulative regret bound of the robust learner on the judge problem (derived here).

    With P(guilty) = p_g, P(innocent) = p_i and a box of radius e around estimates within e of
    the truth, the robust LP convicts an innocent with probability lo_g / hi_i >=
    (p_g - 2e) / (p_i + 2e), so a round loses at most p_g - p_i (p_g - 2e) / (p_i + 2e) =
    2e / (p_i + 2e) (and never more than p_g, the loss of full disclosure). The scheme of round
    t was computed from n0 > (t - 1) / growth observations, so its radius is at most
    sqrt(growth * log(4 S t^2 / delta) / (2 (t - 1))).
    """
    p_i, p_g = 0.7, 0.3
    t = np.arange(2, horizon + 1, dtype=float)
    eps = np.sqrt(GROWTH * np.log(4 * 2 * t**2 / DELTA) / (2 * (t - 1)))
    per_round = np.minimum(p_g, 2 * eps / (p_i + 2 * eps))
    return np.cumsum(np.concatenate([[p_g], per_round]))  # round 1: no data, full disclosure


def test_unknown_prior_regret(judge_runs):
    small, large = judge_runs[1000], judge_runs[10000]
    # The true prior stayed in every confidence box (probability >= 1 - delta): the receiver
    # always obeyed.
    assert small.persuasive.all() and large.persuasive.all()
    # Average regret decreases from T = 10^3 to T = 10^4 (same seed).
    assert large.regret[-1] / 1e4 < small.regret[-1] / 1e3
    # Below the derived bound in every round, and regret / sqrt(T log T) stays below the bound's
    # own constant: 2e/(p_i) summed gives <= p_g + (4 / p_i) sqrt(growth / 2)
    # sqrt(2 + log(4 S / delta) / log T) sqrt(T log T) for T >= 100.
    bound = _judge_regret_bound(10000)
    assert np.all(large.regret <= bound + 1e-9)
    c = 0.3 + (4 / 0.7) * np.sqrt(GROWTH / 2) * np.sqrt(2 + np.log(4 * 2 / DELTA) / np.log(100))
    for t in (100, 300, 1000, 3000, 10000):
        assert large.regret[t - 1] / np.sqrt(t * np.log(t)) <= c


def test_unknown_prior_scheme_converges_to_the_lp_scheme(judge_runs):
    lp = optimal_scheme(judge_problem()).scheme  # pi(convict | innocent) = 3/7 (KG 2011)
    errors = [np.abs(judge_runs[t].scheme - lp).max() for t in (1000, 10000)]
    assert errors[1] < errors[0] < 0.2
    # The robust scheme is conservative: it never convicts an innocent more often than the LP.
    assert judge_runs[10000].scheme[0, 1] <= 3 / 7 + 1e-9
    np.testing.assert_allclose(judge_runs[10000].estimate, [0.7, 0.3], atol=0.02)


def _judges(thresholds=(0.4, 0.6, 0.8)) -> TypedPersuasionProblem:
    """Judges of three types, type k convicting iff P(guilty) >= q_k (utility q_k for acquitting
    an innocent, 1 - q_k for convicting a guilty defendant); prior P(guilty) = 0.3."""
    return TypedPersuasionProblem([0.7, 0.3], [[0, 1], [0, 1]],
                                  [[[q, 0], [0, 1 - q]] for q in thresholds],
                                  states=["innocent", "guilty"], actions=["acquit", "convict"])


@pytest.mark.parametrize("weights", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0.5, 0.5, 0),
                                     (0.8, 0.2, 0), (0.2, 0.3, 0.5)])
def test_type_lp_closed_form(weights):
    # A public signal targets one threshold q_j: posteriors 0 and q_j, conviction probability
    # p / q_j by every type with q_k <= q_j (KG 2011 threshold case), so the optimum is
    # max_j (sum_{k: q_k <= q_j} w_k) * 0.3 / q_j (posteriors at several thresholds are a convex
    # combination of these splits, hence never better).
    qs = np.array([0.4, 0.6, 0.8])
    w = np.asarray(weights, dtype=float)
    expected = max(w[qs <= q].sum() * 0.3 / q for q in qs)
    assert type_optimal_scheme(_judges(), w).value == pytest.approx(expected, abs=1e-9)


@pytest.fixture(scope="module")
def hedge_runs():
    prob = _judges()
    return {t: hedge_over_schemes(prob, t, adversary="adaptive", seed=0) for t in (1000, 10000)}


def test_hedge_against_an_adaptive_adversary(hedge_runs):
    small, large = hedge_runs[1000], hedge_runs[10000]
    # Cesa-Bianchi and Lugosi (2006), Thm. 2.3: regret against the best candidate is at most
    # range * (sqrt(2 t ln N) + sqrt(ln N / 8)) at every t.
    assert np.all(large.extra["candidate_regret"] <= large.extra["bound"] + 1e-9)
    # The grid holds the best fixed scheme in hindsight (the LP on the empirical types).
    final_best = large.best_in_hindsight[-1] * 10000
    assert large.extra["gains"][:, large.types].sum(axis=1).max() == pytest.approx(
        final_best, abs=1e-6)
    # So the same bound holds against every fixed scheme: O(sqrt(t)) regret.
    assert np.all(large.regret <= large.extra["bound"][large.rounds - 1] + 1e-9)
    assert large.regret[-1] / 1e4 < small.regret[-1] / 1e3
    ratio = lambda r: r.regret[-1] / np.sqrt(r.rounds[-1] * np.log(r.rounds[-1]))
    assert ratio(large) <= ratio(small)


def test_follow_the_leader_converges_to_the_lp_scheme_with_iid_types():
    prob = _judges()
    weights = np.array([0.5, 0.2, 0.3])
    target = type_optimal_scheme(prob, weights)
    res = follow_the_leader(prob, 2000, adversary=weights, seed=1)
    # Per-type recommendation tables sum pi(profile | state) over profiles with the same
    # component; compare them (profiles that no type distinguishes are interchangeable).
    def tables(scheme):
        return np.stack([np.stack([scheme[:, target.profiles[:, k] == a].sum(axis=1)
                                   for a in range(2)], axis=1) for k in range(3)])

    np.testing.assert_allclose(tables(res.scheme), tables(target.scheme), atol=1e-9)
    assert res.regret[-1] / 2000 < 0.01
    # An adaptive adversary makes follow-the-leader switch: linear regret, unlike Hedge.
    adv = follow_the_leader(prob, 1000, adversary="adaptive")
    assert adv.regret[-1] / 1000 > 0.1


def test_scheme_grid_and_bad_adversaries():
    prob = _judges()
    grid = scheme_grid(prob, resolution=4)
    assert 1 <= len(grid) <= 15
    with pytest.raises(ValueError, match="unknown adversary"):
        hedge_over_schemes(prob, 10, adversary="nasty")
    with pytest.raises(ValueError, match="type sequence"):
        follow_the_leader(prob, 10, adversary=np.array([0, 5]))
    with pytest.raises(ValueError, match="receiver_utilities"):
        TypedPersuasionProblem([0.5, 0.5], [[0, 1], [0, 1]], [[1, 0], [0, 1]])
