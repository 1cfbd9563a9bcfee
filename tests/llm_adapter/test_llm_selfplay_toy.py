"""Self-play on the enumerable toy LM over the COMAL 3x3 game lifted to its 9 responses.

Reference values: the exact Nash equilibrium of the lifted game from ``gametheory.lp``
(scipy HiGHS) and exploitability from ``gametheory.games.PreferenceGame`` (JAX core);
COMAL 3x3 class-level NE = (4/11, 3/11, 4/11) (Liu et al. 2024, Sec. 4).
"""

import numpy as np
import pytest

from gametheory.games import preference_game
from gametheory.lp import solve_zero_sum
from llm_adapter import toy

# the COMAL paper's initial policy (0.6, 0.3, 0.1), spread evenly over each class's 3 responses
INITIAL = np.repeat([0.6, 0.3, 0.1], 3) / 3
# MPO: lr 10, temp 0.2, magnet reset every 10 (= COMAL: eta 10, tau 0.2, R = 10)
ETA, TEMP, R = 10.0, 0.2, 10


@pytest.fixture(scope="module")
def lifted(comal_prefs):
    classes = toy.ToyLM().responses()[:, 0].numpy()
    prefs = toy.lifted_preference(comal_prefs, classes).numpy()
    game = preference_game(prefs)
    return prefs, game, classes


def _core_exploitability(game, probs) -> float:
    # PreferenceGame.exploitability of the symmetric profile (pi, pi) = max_y P(y > pi) - 1/2
    return float(game.exploitability((probs, probs)))


def test_lifted_game_nash_is_the_comal_equilibrium(lifted):
    prefs, game, classes = lifted
    ne = solve_zero_sum(game).row
    marginal = np.bincount(classes, weights=ne, minlength=3)
    # COMAL 3x3 game NE = (4/11, 3/11, 4/11)
    np.testing.assert_allclose(marginal, [4 / 11, 3 / 11, 4 / 11], atol=1e-8)
    assert _core_exploitability(game, ne) < 1e-9
    # toy.exploitability agrees with the JAX core on an arbitrary policy
    assert toy.exploitability(prefs, INITIAL) == pytest.approx(
        _core_exploitability(game, INITIAL), abs=1e-12)


@pytest.mark.parametrize("algorithm", ["mpo", "comal"])
def test_exact_self_play_last_iterate_reaches_nash(algorithm, lifted):
    prefs, game, classes = lifted
    trace = toy.exact_self_play(prefs, algorithm, iterations=150, eta=ETA, temp=TEMP,
                                ref_every=R, initial=INITIAL, fit_steps=60)
    last = np.exp(trace.log_probs[-1].numpy())
    assert _core_exploitability(game, last) <= 1e-3
    # the last iterate's class marginal is close to the LP equilibrium's
    ne = solve_zero_sum(game).row
    np.testing.assert_allclose(np.bincount(classes, weights=last, minlength=3),
                               np.bincount(classes, weights=ne, minlength=3), atol=5e-3)


def test_exact_sppo_last_iterate_does_not_converge(lifted):
    prefs, game, _ = lifted
    trace = toy.exact_self_play(prefs, "sppo_pairwise", iterations=150, eta=ETA,
                                initial=INITIAL, fit_steps=60)
    tail = [_core_exploitability(game, np.exp(lp.numpy())) for lp in trace.log_probs[-20:]]
    # MWU/SPPO cycles away from the NE on intransitive games (COMAL paper, Fig. 1)
    assert min(tail) > 0.05


@pytest.mark.parametrize("algorithm", ["mpo", "comal"])
def test_sampled_self_play_last_iterate_is_near_nash(algorithm, lifted):
    prefs, game, _ = lifted
    # K = 4 sampled responses for each of 512 prompts per iteration; a smaller step (eta 5)
    # keeps the sampling noise of the last iterate low
    trace = toy.sampled_self_play(prefs, algorithm, iterations=150, eta=5.0, temp=TEMP,
                                  ref_every=R, initial=INITIAL, num_prompts=512, k=4, seed=0,
                                  fit_steps=20)
    assert _core_exploitability(game, np.exp(trace.log_probs[-1].numpy())) <= 0.02
