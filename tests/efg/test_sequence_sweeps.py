"""The per-sequence sweeps against the padded ones, on a game whose infosets have 1 to 6 legal
actions (liar's dice, 1 die, 3 sides) and on Leduc poker (2 or 3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from efg_games import LIARS_DICE_3, load

from gametheory.efg import random_behavioural
from gametheory.efg.sequence_sweeps import (
    bottom_up_seq,
    infoset_sum,
    join_levels,
    level_size,
    to_sequences,
    top_down_seq,
)
from gametheory.efg.solvers.cfr import counterfactual_regrets, regret_matching
from gametheory.efg.treeplex import bottom_up, to_padded, top_down

jax.config.update("jax_enable_x64", True)


@pytest.fixture(params=[LIARS_DICE_3, "leduc_poker"])
def game(request):
    return load(request.param)


def test_layout_of_the_sequences(game):
    for tp in game.treeplexes:
        counts = np.asarray(tp.mask).sum(axis=-1)
        assert counts.min() < counts.max()  # a padded [I, A] layout would waste slots
        row = np.asarray(tp.seq_row)
        assert row[0] == -1 and np.all(np.diff(row[1:]) >= 0)
        assert np.bincount(row[1:], minlength=tp.num_infosets).tolist() == counts.tolist()
        # the sequence of (infoset, slot) is seq_index[infoset, slot]
        slot = np.asarray(tp.seq_slot)[1:]
        seq_index = np.asarray(tp.seq_index).reshape(-1)
        assert np.array_equal(seq_index[slot], np.arange(1, tp.num_sequences))
        assert tp.seq_offsets[0] == 1 and tp.seq_offsets[-1] == tp.num_sequences


def test_plans_and_counterfactual_regrets_equal_the_padded_sweeps(game):
    behavioural = random_behavioural(jax.random.PRNGKey(0), game)
    qs = game.gradients(tuple(top_down(tp, b) for tp, b in zip(game.treeplexes, behavioural)))
    for tp, b, q in zip(game.treeplexes, behavioural, qs):
        b_seq = to_sequences(tp, b, fill=1.0)
        np.testing.assert_allclose(top_down_seq(tp, b_seq), top_down(tp, b), rtol=0, atol=1e-15)

        def reduce(z, mask, rows):  # padded reference: cfv(I, a) - V_I
            value = jnp.sum(b[rows] * z, axis=-1)
            return value, jnp.where(mask, z - value[:, None], 0.0)

        padded = jnp.concatenate(bottom_up(tp, q, reduce)[1], axis=0)
        np.testing.assert_allclose(counterfactual_regrets(tp, q, b_seq),
                                   to_sequences(tp, padded), rtol=0, atol=1e-13)


def test_root_value_and_regret_matching(game):
    tp = game.treeplexes[0]
    rng = np.random.default_rng(1)
    u = jnp.asarray(rng.normal(size=tp.num_sequences))

    def best(z, rows, d):
        return jax.ops.segment_max(z, rows, num_segments=level_size(tp, d)), z

    root, levels = bottom_up_seq(tp, u, best)
    padded_root, _ = bottom_up(tp, u, lambda z, mask, rows: (
        jnp.max(jnp.where(mask, z, -jnp.inf), axis=-1), None))
    assert float(root) == pytest.approx(float(padded_root), abs=1e-12)
    assert join_levels(tp, levels).shape == (tp.num_sequences,)
    # regret matching: rows sum to 1, proportional to the positive part, uniform when none
    regrets = u.at[tp.seq_offsets[-2]:].set(-1.0)  # the last level: no positive regret
    b = regret_matching(tp, regrets)
    np.testing.assert_allclose(infoset_sum(tp, b), 1.0, atol=1e-14)
    last = slice(tp.seq_offsets[-2], tp.num_sequences)
    np.testing.assert_allclose(b[last], 1.0 / tp.seq_num_actions[last])


def _padded_regularised_gap(game, plans, temp, magnets, weights):
    """Reference: the regularised game's gap on padded [I, A] arrays (the library's form before
    the per-sequence sweeps; without magnets it equals OpenSpiel's MMDDilatedEnt.get_gap, which
    tests/efg/test_metrics.py checks for the library's regularized_gap)."""
    gap = 0.0
    for tp, q, x, m, w in zip(game.treeplexes, game.gradients(plans), plans, magnets, weights):
        log_rho = (jnp.zeros(tp.mask.shape) if m is None
                   else jnp.where(tp.mask, jnp.log(jnp.where(tp.mask, m, 1.0)), 0.0))

        def reduce(z, mask, rows, log_rho=log_rho, w=w):
            t = temp * w[rows][:, None]
            z = jnp.where(mask, z / t + log_rho[rows], -jnp.inf)
            return (t * jax.scipy.special.logsumexp(z, axis=-1, keepdims=True))[..., 0], None

        xp = to_padded(tp, x)
        parent = x[tp.parent][:, None]
        ratio = jnp.where(tp.mask & (xp > 0), xp / jnp.where(parent > 0, parent, 1.0), 1.0)
        kl = jnp.sum(jnp.where(tp.mask, xp * (jnp.log(ratio) - log_rho), 0.0) * w[:, None])
        gap = gap + bottom_up(tp, q, reduce)[0] + temp * kl
    return gap


@pytest.mark.parametrize("with_magnet", [False, True])
def test_regularised_gap_equals_the_padded_one(game, with_magnet):
    from gametheory.efg.metrics import log_magnet_seq, regularized_gap, regularized_gap_seq

    k0, k1, k2 = jax.random.split(jax.random.PRNGKey(3), 3)
    plans = tuple(top_down(tp, b) for tp, b in
                  zip(game.treeplexes, random_behavioural(k0, game)))
    magnets = random_behavioural(k1, game) if with_magnet else (None, None)
    weights = tuple(jax.random.uniform(k, (tp.num_infosets,), minval=0.01, maxval=1.0)
                    for k, tp in zip(jax.random.split(k2), game.treeplexes))
    log_magnets = tuple(log_magnet_seq(tp, m) for tp, m in zip(game.treeplexes, magnets))
    for temp in (0.05, 0.003):
        reference = _padded_regularised_gap(game, plans, temp, magnets, weights)
        assert float(reference) > 0
        np.testing.assert_allclose(float(regularized_gap_seq(game, plans, temp, log_magnets,
                                                             weights)),
                                   float(reference), rtol=1e-12)
        np.testing.assert_allclose(
            float(regularized_gap(game, plans, temp, None if not with_magnet else magnets,
                                  weights)), float(reference), rtol=1e-12)
