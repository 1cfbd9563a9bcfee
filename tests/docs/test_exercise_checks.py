"""The exercise checks of the notebooks pass the right answer and fail wrong ones.

Right answers come from closed forms and published values (cited), or from an independent
evaluation (OpenSpiel), never from the check itself.
"""

from __future__ import annotations

import importlib.util

import jax
import numpy as np
import pytest
import torch
from notebook_runner import NOTEBOOK_DIR

_spec = importlib.util.spec_from_file_location("exercises", NOTEBOOK_DIR / "exercises.py")
exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exercises)


def _log_softmax(z):
    return z - jax.scipy.special.logsumexp(z, axis=-1, keepdims=True)


# Kuhn poker, player 0 bets with the king and calls "pb" with Q or K; infosets in the treeplex
# order of gametheory.efg ('2', '1', '0', '2pb', '1pb', '0pb'); slot 0 = pass, slot 1 = bet.
BET_KING = np.array([[0, 1], [1, 0], [1, 0], [0, 1], [0, 1], [1, 0]], dtype=float)


def _openspiel_min_payoff_against(behavioural0):
    """``min_y x^T A y`` by OpenSpiel's own best response (player 1 against x, player 1 then
    uniform elsewhere)."""
    import pyspiel
    from open_spiel.python import policy as os_policy
    from open_spiel.python.algorithms import best_response

    game = pyspiel.load_game("kuhn_poker")
    tab = os_policy.TabularPolicy(game)
    for state, row in zip(("2", "1", "0", "2pb", "1pb", "0pb"), behavioural0):
        tab.policy_for_key(state)[:] = row
    br = best_response.BestResponsePolicy(game, 1, tab)
    return -br.value(game.new_initial_state())


def _is_plan(game, player, x, atol=1e-9):
    tp = game.treeplexes[player]
    x = np.asarray(x, dtype=float)
    if x.shape != (tp.num_sequences,) or np.any(x < -atol) or abs(x[0] - 1) > atol:
        return False
    children = np.where(np.asarray(tp.mask), x[np.asarray(tp.seq_index)], 0.0).sum(1)
    return bool(np.all(np.abs(children - x[np.asarray(tp.parent)]) <= atol))


def _equalities(game, player, x, atol=1e-9):
    """The treeplex equalities without ``x >= 0`` (a wrong answer to exercise 3.2)."""
    tp = game.treeplexes[player]
    x = np.asarray(x, dtype=float)
    if x.shape != (tp.num_sequences,) or abs(x[0] - 1) > atol:
        return False
    children = np.where(np.asarray(tp.mask), x[np.asarray(tp.seq_index)], 0.0).sum(1)
    return bool(np.all(np.abs(children - x[np.asarray(tp.parent)]) <= atol))


def _inpo_target(old, win, ref, eta, tau):
    z = (old + eta * tau * ref + eta * (win - 0.5)) / (1 + eta * tau)
    return z - torch.logsumexp(z, -1, keepdim=True) - old


def _pairwise_by_pairs(r, t, w):
    """The pairwise loss written over all pairs (not the variance shortcut)."""
    w = w / w.sum(-1, keepdim=True)
    d = r - t
    pair = (d[:, :, None] - d[:, None, :]) ** 2
    return (w[:, :, None] * w[:, None, :] * pair).sum((-1, -2)).mean() / 2


def _kuhn_uniform_population_exploitability():
    """Exploitability of the uniform mixture of exact PSRO's final Kuhn population, evaluated by
    OpenSpiel (``pyspiel.exploitability`` of the mixture's behavioural policy)."""
    import pyspiel
    from open_spiel.python.algorithms.exploitability import exploitability

    from gametheory import efg, psro

    run = psro.run_psro("kuhn_poker", 25, meta_solver="nash")
    mixture = tuple(run.population(p).mean(axis=0) for p in range(2))
    tab = efg.plans_to_tabular_policy(run.game.game, mixture)
    return exploitability(pyspiel.load_game("kuhn_poker"), tab)


def _big_biased_rps():
    from gametheory import games

    return games.matrix_game(1000.0 * np.asarray(games.biased_rps().payoffs))


# check name -> (right answers, wrong answers), each a list of argument tuples; built when the
# test runs (some need a solve or OpenSpiel).
CASES = {
    "check_mwu_step": lambda: (
        [(lambda l, q, lr: _log_softmax(l + lr * q),)],
        [(lambda l, q, lr: l + lr * q,),                      # not normalised
         (lambda l, q, lr: _log_softmax(l - lr * q),),        # wrong sign
         (lambda l, q, lr: _log_softmax(l + q),),             # step size ignored
         (lambda l, q, lr: 1 / 0,)],                          # raises
    ),
    "check_biased_rps_nash": lambda: (
        # NE (1/16, 10/16, 5/16): Perolat et al. 2021, Sec. 6.
        [([1 / 16, 10 / 16, 5 / 16],)],
        [([1 / 3, 1 / 3, 1 / 3],), ([0.5, 0.5],), ([0.5, 0.6, 0.1],), ("rock",)],
    ),
    "check_omwu_step": lambda: (
        [(lambda l, q, qp, lr: _log_softmax(l + lr * (2 * q - qp)),)],
        [(lambda l, q, qp, lr: _log_softmax(l + lr * q),),     # plain MWU
         (lambda l, q, qp, lr: _log_softmax(l + lr * (q - qp)),)],
    ),
    "check_perturbed_rps_qre": lambda: (
        # QRE at temperature 0.1 = [0.17347803, 0.48630324, 0.34021873] (MMD paper code,
        # examples/nfg/perturbed_rps.py).
        [([0.17347803, 0.48630324, 0.34021873], 0.1)],
        [([1 / 7, 3 / 7, 3 / 7], 0.1),                          # the Nash equilibrium
         ([0.17347803, 0.48630324, 0.34021873], 0.05)],         # QRE of another temperature
    ),
    "check_absolute_units": lambda: (
        # S = half the payoff range = 500 for biased RPS x 1000 (payoffs in [-500, 500]):
        # lr_abs = 0.1 / S, temp_abs = 0.1 * S.
        [((0.1 / 500, 0.1 * 500), _big_biased_rps(), 0.1, 0.1)],
        [((0.1, 0.1), _big_biased_rps(), 0.1, 0.1),
         ((0.1 * 500, 0.1 / 500), _big_biased_rps(), 0.1, 0.1),
         ((-1.0, 1.0), _big_biased_rps(), 0.1, 0.1)],
    ),
    "check_two_by_two": lambda: (
        # Indifference of [[3, -1], [-2, 1]]: 5 y1 = 2 y2, 4 x1 = 3 x2.
        [(([3 / 7, 4 / 7], [2 / 7, 5 / 7]),)],
        [(([0.5, 0.5], [0.5, 0.5]),), (([2 / 7, 5 / 7], [3 / 7, 4 / 7]),), ([1, 2],)],
    ),
    "check_kuhn_value": lambda: (
        # Kuhn poker's value to player 0 is -1/18 (Kuhn 1950).
        [("-1/18",), (-1 / 18,)],
        [("1/18",), (-0.05,), ("minus a little",)],
    ),
    "check_realization_plan_test": lambda: (
        [(_is_plan,)],
        [(lambda game, player, x: abs(x[0] - 1) < 1e-9,),                # root only
         (_equalities,),                                                  # misses x >= 0
         (lambda game, player, x: True,)],
    ),
    "check_kuhn_best_response": lambda: (
        [(_openspiel_min_payoff_against(BET_KING), BET_KING)],
        [(-_openspiel_min_payoff_against(BET_KING), BET_KING), (0.0, BET_KING)],
    ),
    "check_double_oracle_order": lambda: (
        # From rock: paper beats rock; against paper, scissors; then the uniform meta-Nash.
        [([0, 1, 2],)],
        [([0, 2, 1],), ([1, 2, 0],), ([0, 1],)],
    ),
    "check_uniform_population_exploitability": lambda: (
        [(_kuhn_uniform_population_exploitability(),)],
        [(0.0,), (_kuhn_uniform_population_exploitability() + 1e-3,)],
    ),
    "check_heterogeneous_values": lambda: (
        # Team value 0 (correlate on (0, 1) and (1, 0)); with a0 = a1 the team always loses -1.
        [((-1.0, 0.0),)],
        [((0.0, 0.0),), ((-1.0, 0.5),), ((-1.0,),)],
    ),
    "check_inpo_target": lambda: (
        # INPO (Zhang et al. 2024, eq. (6)): log pi' ∝ (log pi + eta tau log ref + eta q)
        # / (1 + eta tau), q = win rate - 1/2; targets are defined up to a per-row constant
        # (so q = win rate, a shift of 1/2, would be a right answer too).
        [(_inpo_target,), (lambda o, w, r, eta, tau: _inpo_target(o, w, r, eta, tau) + 3.0,)],
        [(lambda o, w, r, eta, tau: _inpo_target(o, w, r, eta, 0.0 * tau),),   # no reference
         (lambda o, w, r, eta, tau: (o + eta * (w - 0.5)) - o,),              # SPPO's target
         (lambda o, w, r, eta, tau: eta * tau * r + eta * (w - 0.5),)],        # no 1 + eta tau
    ),
    "check_pairwise_loss": lambda: (
        # sum_ij w_i w_j (d_i - d_j)^2 / 2 = Var_w(d): the identity the loss rests on.
        [(_pairwise_by_pairs,)],
        [(lambda r, t, w: ((r - t) ** 2).mean(),),                                # pointwise
         (lambda r, t, w: _pairwise_by_pairs(r, t, torch.ones_like(w)),)],        # unweighted
    ),
    "check_lifted_class_marginal": lambda: (
        # COMAL 3x3 NE = (4/11, 3/11, 4/11) (Liu et al. 2024, Sec. 4).
        [("4/11",), (4 / 11,)],
        [(1 / 3,), ("3/11",)],
    ),
    "check_strict_judge_value": lambda: (
        # Concavification: posteriors 0 and 2/3, value 0.3 / (2/3) = 0.45 (Kamenica and
        # Gentzkow 2011).
        [(0.45,), ("9/20",)],
        [(0.6,), (0.3,)],
    ),
    "check_judge_scheme": lambda: (
        # Convict the guilty and a fraction p <= 3/7 of the innocent: value 0.3 + 0.7 p.
        [([[5 / 8, 3 / 8], [0, 1]],), ([[4 / 7, 3 / 7], [0, 1]],)],
        [([[0.2, 0.8], [0, 1]],),          # posterior after "convict" 0.35 < 1/2: disobeyed
         ([[1, 0], [0, 1]],),              # full disclosure: obedient, value 0.3
         ([[0.5, 0.4], [0, 1]],)],         # rows do not sum to 1
    ),
    "check_posteriors": lambda: (
        [(lambda prior, scheme: (np.asarray(prior)[:, None] * scheme
                                 / (np.asarray(prior) @ scheme)).T,)],
        [(lambda prior, scheme: (np.asarray(prior)[:, None] * scheme).T,),   # not normalised
         (lambda prior, scheme: np.asarray(prior)[:, None] * scheme
          / (np.asarray(prior) @ scheme),)],                                 # transposed
    ),
}


def test_every_check_is_tested():
    assert set(CASES) == {name for name in exercises.__all__ if name.startswith("check_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_right_and_fails_wrong_answers(name, capsys):
    check = getattr(exercises, name)
    right, wrong = CASES[name]()
    for args in right:
        assert check(*args) is True, f"{name} rejected a right answer: {capsys.readouterr().out}"
    for args in wrong:
        assert check(*args) is False, f"{name} accepted a wrong answer {args!r}"
    assert check(None, *right[0][1:]) is False  # not answered yet
    out = capsys.readouterr().out
    assert "✓" in out and "✗" in out and "not answered" in out
