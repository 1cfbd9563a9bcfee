"""PSRO-rN (rectified Nash response; Balduzzi et al. 2019, Alg. 4; OpenSpiel psro_v2 with
``rectifier="rectified"``): one best response per meta-Nash support member, against the
opponents it beats or ties."""

import numpy as np
import pytest

from gametheory import games
from gametheory.psro import run_psro


def _expected_new_members(a, result, player):
    """Re-derive the rectified best responses of ``player`` from a run's state by hand."""
    m = result.meta_game if player == 0 else -result.meta_game.T
    sigma, sigma_opp = result.meta_strategies[player], result.meta_strategies[1 - player]
    opponents = result.population(1 - player)
    payoff = a if player == 0 else -a.T
    out = []
    for i in np.flatnonzero(sigma > 1e-8):
        # OpenSpiel rectified_selector: keep opponents with payoff >= 0 for member i; if the
        # kept probability is 0, train against the whole meta-strategy.
        w = sigma_opp * (m[i] >= -1e-12)
        w = sigma_opp if w.sum() <= 1e-12 else w / w.sum()
        out.append(int(np.argmax(payoff @ (w @ opponents))))
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_rectified_best_responses_match_a_hand_derivation(seed):
    game = games.random_zero_sum(14, 11, seed=seed)
    a = np.asarray(game.payoffs)
    for t in range(1, 6):
        before = run_psro(game, t, variant="psro-rn", initial=0, tol=0.0)
        after = run_psro(game, t + 1, variant="psro-rn", initial=0, tol=0.0)
        if before.state.stop is not None:
            break
        for p in (0, 1):
            known = {int(np.argmax(s)) for s in before.population(p)}
            expected = []
            for j in _expected_new_members(a, before, p):
                if j not in known and j not in expected:
                    expected.append(j)
            added = [int(np.argmax(s)) for s in after.population(p)[len(known):]]
            assert added == expected


def test_rectified_run_converges_on_a_spinning_top():
    result = run_psro("spinning_top:10_3_blotto", 60, variant="psro-rn", initial=0)
    # More than one new policy per iteration once the meta-Nash has a larger support.
    assert max(np.diff(np.asarray(result.state.sizes)[:, 0])) > 1
    assert result.exploitability[-1] <= 1e-9
