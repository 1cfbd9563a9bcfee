"""Initialisations of approximate best responses: scratch, inherit, noisy copy, fusion."""

import jax
import numpy as np
import pytest

from gametheory.psro import (
    InitContext,
    fusion,
    gradient,
    inherit,
    make_initializer,
    noisy,
    run_psro,
    scratch,
    tabular_policy,
)


def _ctx(params, sigma, last=None, anchor=None, seed=0):
    return InitContext(player=0, params=params, meta_strategy=np.asarray(sigma), last=last,
                       anchor=anchor, fresh=lambda key: ("fresh",), key=jax.random.PRNGKey(seed))


def _members(rng, n=3, shape=(4, 3)):
    return [(rng.normal(size=shape),) for _ in range(n)]


def test_scratch_and_inherit():
    params = _members(np.random.default_rng(0)) + [None]
    assert scratch().init(_ctx(params, [0.25] * 4)) == ("fresh",)
    assert inherit().init(_ctx(params, [0.25] * 4, last=1)) is params[1]
    assert inherit().init(_ctx(params, [0.25] * 4, last=1, anchor=2)) is params[2]
    # The last best response has no parameters: start fresh.
    assert inherit().init(_ctx(params, [0.25] * 4, last=3)) == ("fresh",)


def test_fusion_is_the_top_k_meta_nash_weighted_parameter_average():
    params = _members(np.random.default_rng(1), n=4)
    sigma = [0.2, 0.5, 0.0, 0.3]
    fused = fusion(top_k=2).init(_ctx(params, sigma))
    # Top-2 by meta-Nash probability: members 1 (0.5) and 3 (0.3), weights 5/8 and 3/8.
    np.testing.assert_allclose(fused[0], 5 / 8 * params[1][0] + 3 / 8 * params[3][0])
    everyone = fusion(top_k=None).init(_ctx(params, sigma))
    np.testing.assert_allclose(
        everyone[0], 0.2 * params[0][0] + 0.5 * params[1][0] + 0.3 * params[3][0])
    # No support member with parameters: fresh parameters.
    assert fusion().init(_ctx([None, params[0]], [1.0, 0.0])) == ("fresh",)


def test_fused_logits_play_the_geometric_mixture_not_the_policy_mixture():
    from gametheory.psro import as_psro_game

    rps = as_psro_game("rps")
    net = tabular_policy(rps, 0)
    params = [(np.log(np.array(p)),) for p in ([0.7, 0.2, 0.1], [0.1, 0.3, 0.6])]
    fused = fusion(top_k=2).init(_ctx(params, [0.5, 0.5]))
    played = np.asarray(net.apply(fused))
    # Closed form of averaging logits: the normalised geometric mean of the two policies.
    geometric = np.sqrt(np.array([0.7, 0.2, 0.1]) * np.array([0.1, 0.3, 0.6]))
    np.testing.assert_allclose(played, geometric / geometric.sum(), atol=1e-12)
    assert np.abs(played - np.array([0.4, 0.25, 0.35])).max() > 0.05  # not the mixture


def test_noisy_copy_draws_by_meta_strategy_and_multiplies_weights():
    params = _members(np.random.default_rng(2))
    # sigma = 0: an exact copy of the member drawn; the meta-strategy puts all mass on 2.
    copy = noisy(sigma=0.0).init(_ctx(params, [0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(copy[0], params[2][0])
    out = noisy(sigma=0.5).init(_ctx(params, [0.0, 0.0, 1.0], seed=4))
    ratio = out[0] / params[2][0]
    # OpenSpiel's copy_with_noise: w * (1 + sigma * N(0, 1)); mean ratio 1, spread 0.5.
    assert abs(ratio.mean() - 1.0) < 0.5 and 0.1 < ratio.std() < 1.5
    # Zero weights stay zero under multiplicative noise.
    zeros = noisy(sigma=0.5).init(_ctx([(np.zeros(3),)], [1.0]))
    np.testing.assert_array_equal(zeros[0], np.zeros(3))


def test_fusion_with_the_exact_oracle_changes_nothing(kuhn):
    # With an exact oracle the initialisation is never used (Fusion-PSRO only changes where
    # an approximate best response starts).
    base = run_psro(kuhn, 8, oracle="exact", init="scratch")
    fused = run_psro(kuhn, 8, variant="fusion", oracle="exact")
    inherited = run_psro(kuhn, 8, oracle="exact", init="inherit")
    for other in (fused, inherited):
        np.testing.assert_array_equal(other.exploitability, base.exploitability)
        for p in (0, 1):
            np.testing.assert_array_equal(other.population(p), base.population(p))


@pytest.mark.parametrize("game,iterations", [
    ("blotto", 12),
    pytest.param("leduc", 3, marks=pytest.mark.slow),  # ~15 s, mostly compilation
])
def test_gradient_budget_runs_with_every_initialisation(game, iterations, request):
    from gametheory.psro import as_psro_game

    space = (as_psro_game("spinning_top:10_3_blotto") if game == "blotto"
             else request.getfixturevalue(game))
    oracle = gradient(steps=10, lr=0.1)  # one oracle: its training program compiles once
    traces = {}
    for init in ("scratch", "inherit", "noisy", "fusion"):
        result = run_psro(space, iterations, oracle=oracle, init=init, tol=0.0)
        assert len(result.exploitability) == iterations + 1
        assert np.all(np.asarray(result.state.oracle_gap) >= -1e-12)
        traces[init] = result.exploitability
    # Every initialisation starts from the same fresh (uniform) population.
    assert len({float(t[0]) for t in traces.values()}) == 1
    # Inherit and fusion copy parameters, so their first expansions differ from scratch only
    # after the first best response exists; from iteration 2 on the runs diverge.
    assert not np.allclose(traces["scratch"], traces["inherit"])


def test_unknown_initialisation():
    with pytest.raises(ValueError, match="unknown initialisation"):
        make_initializer("warm")
    with pytest.raises(ValueError, match="top_k"):
        fusion(top_k=0)
    with pytest.raises(ValueError, match="sigma"):
        noisy(sigma=-1)
