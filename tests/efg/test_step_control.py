"""The adaptive step of sequence-form MPO / COMAL: the dilated Bregman divergence it measures
against its definition, and a step it rescues."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from efg_games import load

from gametheory.driver import solve
from gametheory.efg import EFG_SOLVERS, random_behavioural
from gametheory.efg.sequence_sweeps import to_sequences
from gametheory.efg.solvers._common import masked_log
from gametheory.efg.solvers.mmd import dilated_bregman
from gametheory.efg.treeplex import top_down

jax.config.update("jax_enable_x64", True)


def _dilated_entropy(tp, weights, plan):
    """``psi(x) = sum_I w_I sum_a x[seq(I, a)] log(x[seq(I, a)] / x[parent(I)])`` written on the
    realization plan itself (Hoda et al. 2010), so that its gradient is taken by autodiff."""
    child = plan[tp.seq_index]
    parent = plan[tp.parent][:, None]
    safe = jnp.where(tp.mask, child, 1.0)
    terms = jnp.where(tp.mask, safe * jnp.log(safe / jnp.where(tp.mask, parent, 1.0)), 0.0)
    return jnp.sum(weights * jnp.sum(terms, axis=-1))


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker"])
def test_dilated_bregman_is_the_divergence_of_the_dilated_entropy(name):
    game = load(name)
    (bu0, bu1), (bv0, bv1) = (random_behavioural(jax.random.PRNGKey(s), game) for s in (1, 2))
    for player, (bu, bv) in enumerate([(bu0, bv0), (bu1, bv1)]):
        tp = game.treeplexes[player]
        weights = jnp.asarray(np.random.default_rng(player).uniform(0.1, 2.0, tp.num_infosets))
        lu, lv = (to_sequences(tp, masked_log(tp, b)) for b in (bu, bv))
        u, v = top_down(tp, bu), top_down(tp, bv)
        psi = lambda x: _dilated_entropy(tp, weights, x)
        reference = psi(u) - psi(v) - jnp.dot(jax.grad(psi)(v), u - v)
        assert float(reference) > 1e-3
        np.testing.assert_allclose(float(dilated_bregman(tp, weights, u, lu, lv)),
                                   float(reference), rtol=1e-10)


@pytest.mark.parametrize("alternating, lr", [(True, 3.0), (False, 1.5)])
def test_adaptive_step_rescues_a_step_that_diverges(alternating, lr):
    # goofspiel (5 cards) with a fixed step: the last iterate wanders at 0.1-1 (alternating at the
    # default lr=3, mirror prox at lr=1.5). The step control shrinks the step where it fails its
    # condition (the alternating or the mirror-prox one).
    game = load("goofspiel(num_cards=5,imp_info=True,points_order=descending)")
    fixed = solve(game, EFG_SOLVERS["mpo"](lr=lr, adaptive_lr=0, alternating=alternating),
                  4000, record_every=4000)
    adaptive = solve(game, EFG_SOLVERS["mpo"](lr=lr, alternating=alternating), 4000,
                     record_every=4000)
    assert float(fixed.exploitability_last[-1]) > 1e-2
    assert float(adaptive.exploitability_last[-1]) < 1e-4
